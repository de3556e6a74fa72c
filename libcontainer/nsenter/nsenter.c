// Joining a mount or user namespace is refused to a multi-threaded process,
// and so is unsharing a user namespace; the Go runtime starts threads
// before any Go code runs. So berth's init does its namespace work here, in
// a constructor that runs while the process still has one thread. It does
// nothing unless the parent set _BERTH_NSENTER.
//
// _BERTH_NSENTER is a list of space-separated words, applied in order:
//
//	sync=FD              the socket to the parent (libcontainer/sync.go)
//	pidfd=FD:FLAGS       join the namespaces FLAGS (hex CLONE_NEW* bits) of
//	                     the process behind the pidfd, in one setns(2)
//	join=FD              join the namespace file FD (user first, the parent
//	                     orders them)
//	unshare=FLAGS        make new namespaces (hex CLONE_NEW* bits); for a
//	                     new user namespace the parent writes the id maps
//	timens=MS:MNS:BS:BNS offsets of the new time namespace's monotonic and
//	                     boottime clocks (seconds:nanoseconds)
//	keyring=NAME         join the session keyring NAME (made if none is
//	                     found), in place of the caller's: an exec's
//	                     process, once in the container's namespaces
//	hold=FD              only keep the namespaces alive: block until FD
//	                     reaches end of file, then exit (the parent opens
//	                     /proc/PID/ns/* meanwhile)
//	exec                 an exec's fast path: once in the namespaces, read
//	                     a plan from the sync socket, apply it and exec,
//	                     never starting Go (exec.c)
//	create               the same for a container's init, whose root
//	                     filesystem the parent builds (exec.c)
//
// Pid and time namespaces apply only to children, so when one is joined or
// made the process forks: the child goes on into Go, the parent reports the
// child's pid on the sync socket and exits. Otherwise the process reports
// its own pid. The child is cloned with CLONE_PARENT, so that it is the
// child of the berth that started this process, as runc's init is runc's:
// `run` and `exec` wait for it without being a child subreaper (`run
// --no-subreaper`).

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/keyctl.h>
#include <linux/nsfs.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static int syncfd = 2;

void berth_exec_plan(int fd, int create) __attribute__((noreturn));
void berth_debugf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// berth_debug is set when the parent asked for this process's steps
// (_BERTH_DEBUG, see libcontainer/sync.go); berth_debugf sends them.
int berth_debug;

// A berth process lives for milliseconds and spends them in system calls,
// and all that time the Go runtime's monitor thread (sysmon) wakes every
// 20 µs to look for Ps to take back from them: a third of the context
// switches of a `berth run`, and a sixth of its CPU. A timer slack of 1 ms,
// set before the runtime starts any thread so that every thread inherits
// it, lets those sleeps run that much longer. Processes berth starts that
// are not berth get the slack of berth's caller back (see
// RestoreTimerSlack); a `berth init` gets it passed as _BERTH_TIMERSLACK.
#define BERTH_TIMER_SLACK_NS 1000000

unsigned long berth_caller_timer_slack;

static void raise_timer_slack(void)
{
	const char *passed = getenv("_BERTH_TIMERSLACK");
	int slack;

	if (passed != NULL) {
		berth_caller_timer_slack = strtoul(passed, NULL, 10);
		unsetenv("_BERTH_TIMERSLACK");
	} else if ((slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0)) > 0) {
		berth_caller_timer_slack = slack;
	}
	if (berth_caller_timer_slack != 0)
		prctl(PR_SET_TIMERSLACK, BERTH_TIMER_SLACK_NS, 0, 0, 0);
}

// fail reports an error as a sync protocol message and exits.
static void fail(const char *what)
{
	dprintf(syncfd, "{\"type\":\"error\",\"error\":\"%s: %s\"}\n", what, strerror(errno));
	_exit(1);
}

// ns_type returns the CLONE_NEW* type of a namespace file.
static int ns_type(int fd)
{
	int type = ioctl(fd, NS_GET_NSTYPE);
	if (type < 0)
		fail("read the type of a namespace given by path");
	return type;
}

// ns_names names the namespaces of CLONE_NEW* flags, for a debug line.
static const char *ns_names(unsigned long flags)
{
	static const struct {
		unsigned long flag;
		const char *name;
	} names[] = {
		{CLONE_NEWUSER, "user"}, {CLONE_NEWNS, "mnt"}, {CLONE_NEWPID, "pid"}, {CLONE_NEWNET, "net"},
		{CLONE_NEWIPC, "ipc"}, {CLONE_NEWUTS, "uts"}, {CLONE_NEWCGROUP, "cgroup"}, {CLONE_NEWTIME, "time"},
	};
	static char buf[64];
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (flags & names[i].flag)
			n += snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? " " : "", names[i].name);
	return buf;
}

static void setup_userns(void)
{
	char ack;

	if (unshare(CLONE_NEWUSER) < 0)
		fail("unshare the user namespace");
	// The parent writes uid_map and gid_map, then answers with one byte.
	dprintf(syncfd, "{\"type\":\"idmap\"}\n");
	if (read(syncfd, &ack, 1) != 1)
		fail("wait for the id maps");
	// Become the namespace's root, whatever the host ids map to.
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		fail("become root in the user namespace");
	berth_debugf(syncfd, "made a user namespace; the parent wrote its id maps");
}

// set_time_offsets writes the offsets of the new time namespace to fd, the
// process's timens_offsets, opened before any namespace was joined: after
// joining a mount namespace by path, /proc is whatever that namespace's
// owner put there, and a write through it could land on any file.
static void set_time_offsets(int fd, const char *spec)
{
	long long ms, mns, bs, bns;
	char buf[128];
	int n;

	if (sscanf(spec, "%lld:%lld:%lld:%lld", &ms, &mns, &bs, &bns) != 4) {
		errno = EINVAL;
		fail("parse time offsets");
	}
	n = snprintf(buf, sizeof(buf), "monotonic %lld %lld\nboottime %lld %lld\n", ms, mns, bs, bns);
	if (write(fd, buf, n) != n)
		fail("set time namespace offsets");
	close(fd);
	berth_debugf(syncfd, "set the time namespace's clock offsets");
}

__attribute__((constructor)) static void berth_nsenter(void)
{
	const char *env = getenv("_BERTH_NSENTER");
	char *words, *word, *save = NULL;
	int fork_needed = 0, exec_plan = 0, create_plan = 0, timens_fd = -1;

	raise_timer_slack();
	if (env == NULL)
		return;
	berth_debug = getenv("_BERTH_DEBUG") != NULL;
	// Until it execs the container's process, init holds host fds and
	// runs berth's binary: from the first instruction, nothing in the
	// container may ptrace it or open its /proc files (CVE-2016-9962).
	// Forked children inherit this.
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fail("make init non-dumpable");
	// The host's procfs, while this process is still in the host's mount
	// namespace; the offsets are written once the time namespace exists.
	if (strstr(env, "timens=") != NULL) {
		timens_fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
		if (timens_fd < 0)
			fail("open /proc/self/timens_offsets");
	}
	words = strdup(env);
	if (words == NULL)
		_exit(1);
	for (word = strtok_r(words, " ", &save); word; word = strtok_r(NULL, " ", &save)) {
		int fd;
		unsigned long flags;

		if (sscanf(word, "sync=%d", &fd) == 1) {
			syncfd = fd;
		} else if (sscanf(word, "pidfd=%d:%lx", &fd, &flags) == 2) {
			if (flags != 0 && setns(fd, (int)flags) < 0)
				fail("join the container's namespaces");
			close(fd);
			if (berth_debug)
				berth_debugf(syncfd, "joined the namespaces of the container's init: %s", ns_names(flags));
			fork_needed |= (flags & (CLONE_NEWPID | CLONE_NEWTIME)) != 0;
		} else if (sscanf(word, "join=%d", &fd) == 1) {
			int type = ns_type(fd);
			if (setns(fd, 0) < 0)
				fail("join a namespace given by path");
			close(fd);
			if (berth_debug)
				berth_debugf(syncfd, "joined the %s namespace given by path", ns_names(type));
			fork_needed |= (type & (CLONE_NEWPID | CLONE_NEWTIME)) != 0;
		} else if (sscanf(word, "unshare=%lx", &flags) == 1) {
			if (flags & CLONE_NEWUSER)
				setup_userns();
			flags &= ~(unsigned long)CLONE_NEWUSER;
			if (flags != 0 && unshare((int)flags) < 0)
				fail("unshare namespaces");
			if (berth_debug && flags != 0)
				berth_debugf(syncfd, "made namespaces: %s", ns_names(flags));
			fork_needed |= (flags & (CLONE_NEWPID | CLONE_NEWTIME)) != 0;
		} else if (sscanf(word, "hold=%d", &fd) == 1) {
			char c;
			while (read(fd, &c, 1) > 0)
				;
			_exit(0);
		} else if (strcmp(word, "exec") == 0) {
			exec_plan = 1;
		} else if (strcmp(word, "create") == 0) {
			create_plan = 1;
		} else if (strncmp(word, "keyring=", 8) == 0) {
			if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, word + 8) < 0 && errno != ENOSYS)
				fail("join the container's session keyring");
		} else if (strncmp(word, "timens=", 7) == 0) {
			set_time_offsets(timens_fd, word + 7);
		} else {
			errno = EINVAL;
			fail("unknown _BERTH_NSENTER word");
		}
	}
	free(words);
	unsetenv("_BERTH_NSENTER");

	pid_t pid = getpid();
	if (fork_needed) {
		// clone(2) as fork(2) does, on a copy of this stack. Unlike
		// fork(3), the C library does not learn the child's thread id:
		// the child must not call what uses it (raise, pthread_kill).
		pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, NULL, NULL, 0);
		if (pid < 0)
			fail("fork into the container's pid namespace");
		if (pid > 0) {
			berth_debugf(syncfd, "forked: pid %d goes on in the new pid or time namespace", pid);
			dprintf(syncfd, "{\"type\":\"pid\",\"pid\":%d}\n", pid);
			_exit(0);
		}
	} else {
		dprintf(syncfd, "{\"type\":\"pid\",\"pid\":%d}\n", pid);
	}
	if (exec_plan || create_plan)
		berth_exec_plan(syncfd, create_plan);
}
