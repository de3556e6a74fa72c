// The signal handler that passes signals on. It runs on whatever thread
// the kernel picks, in the middle of any Go or C code, so it does only
// what is async-signal-safe: atomics and one system call.

#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

// target is the pidfd signals go to, -1 until it is known; held marks the
// signals that arrived meanwhile. Whoever clears a mark once target is
// set, the handler or berth_sigforward_to, sends that signal: each
// arrival is sent once.
static int target = -1;
static char held[NSIG];

static void send_held(int fd, int sig)
{
	if (__atomic_exchange_n(&held[sig], 0, __ATOMIC_SEQ_CST))
		syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
}

static void forward(int sig)
{
	int saved = errno;
	int fd;

	__atomic_store_n(&held[sig], 1, __ATOMIC_SEQ_CST);
	fd = __atomic_load_n(&target, __ATOMIC_SEQ_CST);
	if (fd >= 0)
		send_held(fd, sig);
	errno = saved;
}

int berth_sigforward_catch(int sig)
{
	// SA_ONSTACK: a Go thread may be running on a small goroutine stack.
	struct sigaction sa = { .sa_handler = forward, .sa_flags = SA_ONSTACK | SA_RESTART };

	sigfillset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

void berth_sigforward_to(int pidfd)
{
	__atomic_store_n(&target, pidfd, __ATOMIC_SEQ_CST);
	for (int sig = 1; sig < NSIG; sig++)
		send_held(pidfd, sig);
}
