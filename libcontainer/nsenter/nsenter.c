// Joining a mount or user namespace is refused to a multi-threaded process,
// and the Go runtime starts threads before any Go code runs. So the joining
// happens here, in a constructor that runs while the process still has one
// thread. It does nothing unless the parent set _BERTH_NSENTER.

#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// report writes one message of the sync protocol (libcontainer/sync.go).
static void report_error(int syncfd, const char *what)
{
	dprintf(syncfd, "{\"type\":\"error\",\"error\":\"%s: %s\"}\n", what, strerror(errno));
	_exit(1);
}

// _BERTH_NSENTER is "PIDFD:FLAGS:SYNCFD": join the namespaces named by the
// CLONE_NEW* bits in FLAGS (hex) of the process behind PIDFD, in one
// setns(2) so the kernel orders them (user namespace first). Pid and time
// namespaces apply only to children, so when they are joined the process
// forks: the child goes on into Go, the parent reports the child's pid on
// SYNCFD and exits. Otherwise the process reports its own pid.
__attribute__((constructor)) static void berth_nsenter(void)
{
	const char *env = getenv("_BERTH_NSENTER");
	int pidfd, syncfd;
	unsigned long flags;

	if (env == NULL)
		return;
	if (sscanf(env, "%d:%lx:%d", &pidfd, &flags, &syncfd) != 3) {
		fprintf(stderr, "berth: malformed _BERTH_NSENTER %s\n", env);
		_exit(1);
	}
	if (flags != 0 && setns(pidfd, (int)flags) < 0)
		report_error(syncfd, "join the container's namespaces");
	close(pidfd);
	unsetenv("_BERTH_NSENTER");

	pid_t pid = getpid();
	if (flags & (CLONE_NEWPID | CLONE_NEWTIME)) {
		pid = fork();
		if (pid < 0)
			report_error(syncfd, "fork into the container's pid namespace");
		if (pid > 0) {
			dprintf(syncfd, "{\"type\":\"pid\",\"pid\":%d}\n", pid);
			_exit(0);
		}
		return;
	}
	dprintf(syncfd, "{\"type\":\"pid\",\"pid\":%d}\n", pid);
}
