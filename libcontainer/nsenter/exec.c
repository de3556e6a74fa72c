// The fast paths of `berth exec` and of a container's init: the Go parent
// computes everything the new process needs (ids, capabilities, rlimits, a
// compiled seccomp program, args, env, cwd) and sends it as a plan on the
// sync socket; this code, running in the constructor after the process
// joined or made the container's namespaces, applies it in the order
// libcontainer/init_linux.go's startProcess does and execs, so no Go
// runtime ever starts in the child. The parent takes this path only for a
// process that needs nothing else (see libcontainer/exec_plan.go); the Go
// init does the rest.
//
// A container's init (nsenter word "create") first gets a set-up request,
// once the parent has placed it in its cgroups, and answers it; the parent
// then builds the root filesystem from a thread that joined the init's
// namespaces (libcontainer/create_plan.go), and only then sends the plan.
// The request: u32 flags (SETUP_*) and the name of a session keyring to
// join ("" for none). The answer is one byte, carrying with SCM_RIGHTS
// a procfs filesystem context opened here, in the container's pid
// namespace, when SETUP_PROCFS asks for one.
//
// The plan, in the host's byte order: u32 words, u64 capability masks,
// strings as a u32 length and the bytes:
//
//	uid gid ngroups groups... umask
//	bounding effective permitted inheritable ambient (u64 each)
//	no_new_privs preserve_fds fifo_fd (NO_FIFO for an exec)
//	nrlimits (resource soft(u64) hard(u64) name)...
//	ninsns seccomp_flags insns (8 bytes each)...
//	cwd nargs args... nenv env...
//
// A container's init waits after answering "ready" until `berth start`
// opens the exec fifo, as waitForStart does.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/keyctl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef FSOPEN_CLOEXEC
#define FSOPEN_CLOEXEC 0x00000001
#endif

#define SETUP_CGROUPNS 1
#define SETUP_PROCFS 2
#define NO_FIFO 0xffffffffU

extern unsigned long berth_caller_timer_slack;
extern int berth_debug;
void berth_debugf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int planfd;

// errstr is strerror in Go's words, which engines match on ("no such file
// or directory"): glibc's with a lower-case first letter. musl, which berth
// links, words some errors differently ("Symbolic link loop"); those of
// them the calls below can fail with are spelled here as Go spells them.
static const char *errstr(int e)
{
	static const struct {
		int errnum;
		const char *words;
	} go_words[] = {
		{EIO, "input/output error"},
		{ENOMEM, "cannot allocate memory"},
		{EBUSY, "device or resource busy"},
		{EMFILE, "too many open files"},
		{ERANGE, "numerical result out of range"},
		{ENAMETOOLONG, "file name too long"},
		{ELOOP, "too many levels of symbolic links"},
		{EOVERFLOW, "value too large for defined data type"},
		{ELIBBAD, "accessing a corrupted shared library"},
		{EDQUOT, "disk quota exceeded"}, // a session keyring past the user's quota
	};
	static char buf[256];

	for (size_t i = 0; i < sizeof(go_words) / sizeof(go_words[0]); i++)
		if (go_words[i].errnum == e)
			return go_words[i].words;
	snprintf(buf, sizeof(buf), "%s", strerror(e));
	if (buf[0] >= 'A' && buf[0] <= 'Z')
		buf[0] += 'a' - 'A';
	return buf;
}

// send_text sends the sync protocol message {"type":TYPE,"KEY":TEXT} on
// fd, TEXT escaped for JSON.
static void send_text(int fd, const char *type, const char *key, const char *text)
{
	char buf[4096];
	size_t n = 0;

	n += snprintf(buf, sizeof(buf), "{\"type\":\"%s\",\"%s\":\"", type, key);
	for (; *text && n < sizeof(buf) - 8; text++) {
		unsigned char c = *text;
		if (c == '"' || c == '\\') {
			buf[n++] = '\\';
			buf[n++] = c;
		} else if (c < 0x20) {
			n += snprintf(buf + n, sizeof(buf) - n, "\\u%04x", c);
		} else {
			buf[n++] = c;
		}
	}
	n += snprintf(buf + n, sizeof(buf) - n, "\"}\n");
	(void)!write(fd, buf, n);
}

static void report_error(const char *msg)
{
	send_text(planfd, "error", "error", msg);
}

// berth_debugf sends the parent a step of this process, when it asked for
// them (_BERTH_DEBUG, see libcontainer/sync.go).
void berth_debugf(int fd, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!berth_debug)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	send_text(fd, "log", "msg", msg);
}

static void failf(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void failf(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report_error(msg);
	_exit(1);
}

static void read_full(void *buf, size_t n)
{
	char *p = buf;
	while (n > 0) {
		ssize_t r = read(planfd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			failf("read the exec plan: %s", r == 0 ? "unexpected end" : errstr(errno));
		p += r;
		n -= r;
	}
}

static uint32_t read_u32(void)
{
	uint32_t v;
	read_full(&v, sizeof(v));
	return v;
}

static uint64_t read_u64(void)
{
	uint64_t v;
	read_full(&v, sizeof(v));
	return v;
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		failf("read the exec plan: out of memory");
	return p;
}

static char *read_str(void)
{
	uint32_t n = read_u32();
	char *s = xmalloc((size_t)n + 1);
	read_full(s, n);
	s[n] = '\0';
	return s;
}

static char **read_strs(void)
{
	uint32_t n = read_u32();
	char **v = xmalloc(((size_t)n + 2) * sizeof(char *)); // room for HOME
	for (uint32_t i = 0; i < n; i++)
		v[i] = read_str();
	v[n] = NULL;
	return v;
}

// home_of returns the home directory of uid in the container's
// /etc/passwd, or "/", as runc fills HOME in.
static const char *home_of(uid_t uid)
{
	static char line[4096];
	FILE *f = fopen("/etc/passwd", "re");
	const char *home = "/";

	if (f == NULL)
		return home;
	while (fgets(line, sizeof(line), f)) {
		char *field[7] = {0}, *p = line;
		int i;
		for (i = 0; i < 7 && p; i++) {
			field[i] = p;
			p = strchr(p, ':');
			if (p)
				*p++ = '\0';
		}
		if (i < 6 || field[2] == NULL || field[5] == NULL)
			continue;
		if (strtoul(field[2], NULL, 10) == uid && field[5][0] != '\0') {
			home = field[5];
			break;
		}
	}
	fclose(f);
	return home;
}

static void add_home(char **env, uid_t uid)
{
	size_t n = 0;
	for (; env[n]; n++)
		if (strncmp(env[n], "HOME=", 5) == 0)
			return;
	const char *home = home_of(uid);
	env[n] = xmalloc(strlen(home) + 6);
	sprintf(env[n], "HOME=%s", home);
	env[n + 1] = NULL;
}

// check_executable mirrors isExecutable in init_linux.go: its errors read
// the same, which engines map to exit statuses 126 and 127.
static int check_executable(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "stat %s: %s", path, errstr(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "is a directory: permission denied");
		return -1;
	}
	if ((st.st_mode & 0111) == 0) {
		snprintf(err, errlen, "permission denied");
		return -1;
	}
	return 0;
}

// look_path finds file in the container with the process's own PATH.
static char *look_path(const char *file, char **env)
{
	char err[1024];
	const char *path = NULL;

	if (strchr(file, '/')) {
		if (check_executable(file, err, sizeof(err)) < 0)
			failf("exec \"%s\": %s", file, err);
		return (char *)file;
	}
	for (char **e = env; *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0) {
			path = *e + 5;
			break;
		}
	while (path) {
		const char *end = strchr(path, ':');
		size_t len = end ? (size_t)(end - path) : strlen(path);
		char *candidate = xmalloc(len + strlen(file) + 3);
		if (len == 0)
			sprintf(candidate, "./%s", file);
		else
			sprintf(candidate, "%.*s/%s", (int)len, path, file);
		if (check_executable(candidate, err, sizeof(err)) == 0)
			return candidate;
		free(candidate);
		path = end ? end + 1 : NULL;
	}
	failf("exec \"%s\": executable file not found in $PATH", file);
}

// load_seccomp loads the plan's program, if it has one.
static int load_seccomp(struct sock_filter *insns, uint32_t n, uint32_t flags)
{
	struct sock_fprog prog = {.len = n, .filter = insns};

	if (n == 0)
		return 0;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog) < 0 ? -1 : 0;
}

static void set_caps(uint64_t effective, uint64_t permitted, uint64_t inheritable, uint64_t ambient)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {
		{(uint32_t)effective, (uint32_t)permitted, (uint32_t)inheritable},
		{(uint32_t)(effective >> 32), (uint32_t)(permitted >> 32), (uint32_t)(inheritable >> 32)},
	};

	if (syscall(SYS_capset, &hdr, data) < 0)
		failf("set capabilities: %s", errstr(errno));
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		failf("set ambient capabilities: %s", errstr(errno));
	for (int cap = 0; cap < 64; cap++)
		if ((ambient >> cap) & 1 && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
			failf("set ambient capabilities: %s", errstr(errno));
}

// enter_cwd changes to the process's working directory and checks that
// it lies inside the container, as enterCwd does: one reached through a
// leaked host fd reads as unreachable (CVE-2024-21626). Called as root
// first, before the process takes its user; if root may not enter it and
// or_as_user is set, it returns 0 and is called again as the user.
static int enter_cwd(const char *cwd, int or_as_user)
{
	char buf[4096];

	if (chdir(cwd[0] ? cwd : "/") < 0) {
		if (or_as_user && (errno == EACCES || errno == EPERM))
			return 0;
		failf("chdir to cwd \"%s\" in the container: %s", cwd, errstr(errno));
	}
	if (syscall(SYS_getcwd, buf, sizeof(buf)) < 0)
		failf("cwd \"%s\" is outside the container: %s", cwd, errstr(errno));
	if (buf[0] != '/') // "(unreachable)…"
		failf("cwd \"%s\" is outside the container: %s", cwd, errstr(ENOENT));
	return 1;
}

struct plan_rlimit {
	int resource;
	struct rlimit limit;
	char *name; // "RLIMIT_NOFILE"
};

// raise_hard_rlimits raises each hard limit the plan sets above the
// current one, keeping the soft limit, as raiseHardRlimits does: the one
// step of setting the rlimits the kernel may refuse, taken while the
// parent still hears the error. They are set last, right before execve.
static void raise_hard_rlimits(const struct plan_rlimit *rlimits, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct rlimit cur;
		if (getrlimit(rlimits[i].resource, &cur) < 0)
			failf("read %s: %s", rlimits[i].name, errstr(errno));
		if (rlimits[i].limit.rlim_max <= cur.rlim_max)
			continue;
		cur.rlim_max = rlimits[i].limit.rlim_max;
		if (setrlimit(rlimits[i].resource, &cur) < 0)
			failf("set %s to soft %llu, hard %llu: %s", rlimits[i].name,
			      (unsigned long long)rlimits[i].limit.rlim_cur,
			      (unsigned long long)rlimits[i].limit.rlim_max, errstr(errno));
	}
}

// die_from_signal ends a container's init, before it execs, on the signals
// that end a Go process by default, as they ended the Go init. Without a
// handler the init of a pid namespace ignores them, and `berth kill` of a
// created container would not stop it.
static void die_from_signal(int sig)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, sig);
	signal(sig, SIG_DFL);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	// Not raise(3): musl's sends to the thread id it recorded, which in a
	// process cloned by the nsenter constructor is its parent's.
	kill(getpid(), sig);
	_exit(2);
}

// create_setup answers a container init's set-up request (see the top).
static void create_setup(void)
{
	uint32_t flags = read_u32();
	char *keyring = read_str();
	int procfs = -1;
	char ack = 'k';
	struct iovec iov = {.iov_base = &ack, .iov_len = 1};
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	// The parent placed us in our cgroup first, so the namespace is
	// rooted there.
	if ((flags & SETUP_CGROUPNS) && unshare(CLONE_NEWCGROUP) < 0)
		failf("unshare cgroup namespace: %s", errstr(errno));
	if (keyring[0] != '\0' && syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, keyring) < 0 && errno != ENOSYS)
		failf("join a new session keyring: %s", errstr(errno));
	if (flags & SETUP_PROCFS) {
		procfs = syscall(SYS_fsopen, "proc", FSOPEN_CLOEXEC);
		if (procfs < 0)
			failf("open a procfs context in the container's pid namespace: %s", errstr(errno));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &procfs, sizeof(int));
	}
	if (sendmsg(planfd, &msg, 0) != 1)
		_exit(1); // the parent is gone
	if (procfs >= 0)
		close(procfs);
	free(keyring);
}

// wait_for_start blocks until `berth start` opens the exec fifo for
// writing, as waitForStart does; the fifo stays open, close-on-exec.
static void wait_for_start(int fifo)
{
	struct pollfd p = {.fd = fifo, .events = POLLIN};
	char c;

	while (poll(&p, 1, -1) < 0)
		if (errno != EINTR)
			_exit(1); // nobody is listening any more
	(void)!read(fifo, &c, 1);
}

void berth_exec_plan(int fd, int create)
{
	planfd = fd;
	if (create) {
		// The signals that end a Go process by default; execve gives
		// them their default action back.
		static const int fatal[] = {SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGTERM, SIGSTKFLT, SIGSYS};
		for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
			signal(fatal[i], die_from_signal);
		create_setup();
	}
	uid_t uid = read_u32();
	gid_t gid = read_u32();
	uint32_t ngroups = read_u32();
	gid_t *groups = xmalloc(ngroups * sizeof(gid_t));
	for (uint32_t i = 0; i < ngroups; i++)
		groups[i] = read_u32();
	mode_t mask = read_u32();
	uint64_t bounding = read_u64(), effective = read_u64(), permitted = read_u64();
	uint64_t inheritable = read_u64(), ambient = read_u64();
	uint32_t nnp = read_u32();
	uint32_t preserve = read_u32();
	uint32_t fifo = read_u32();
	uint32_t nrlimits = read_u32();
	struct plan_rlimit *rlimits = xmalloc(nrlimits * sizeof(*rlimits));
	for (uint32_t i = 0; i < nrlimits; i++) {
		rlimits[i].resource = read_u32();
		rlimits[i].limit.rlim_cur = read_u64();
		rlimits[i].limit.rlim_max = read_u64();
		rlimits[i].name = read_str();
	}
	uint32_t ninsns = read_u32();
	if (ninsns > BPF_MAXINSNS) // the kernel's bound, which the parent checks too
		failf("exec plan: %u seccomp instructions, more than %d", ninsns, BPF_MAXINSNS);
	uint32_t seccomp_flags = read_u32();
	struct sock_filter *insns = xmalloc(ninsns * sizeof(*insns));
	read_full(insns, ninsns * sizeof(*insns));
	char *cwd = read_str();
	char **args = read_strs();
	char **env = read_strs();
	if (args[0] == NULL)
		failf("exec plan: no args");
	berth_debugf(planfd, "plan received");

	prctl(PR_SET_NAME, "berth:init", 0, 0, 0);
	if (setsid() < 0 && errno != EPERM)
		failf("setsid: %s", errstr(errno));
	add_home(env, uid);
	char *path = look_path(args[0], env);
	// Every fd above the preserved ones closes at exec (CVE-2024-21626).
	if (syscall(SYS_close_range, 3 + preserve, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		failf("mark fds close-on-exec: %s", errstr(errno));
	int cwd_entered = enter_cwd(cwd, 1);
	raise_hard_rlimits(rlimits, nrlimits);
	if (berth_caller_timer_slack != 0)
		prctl(PR_SET_TIMERSLACK, berth_caller_timer_slack, 0, 0, 0);
	// Without no_new_privs loading needs CAP_SYS_ADMIN, which the user
	// change may drop.
	if (!nnp && load_seccomp(insns, ninsns, seccomp_flags) < 0)
		failf("load seccomp filter: %s", errstr(errno));
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		failf("set keepcaps: %s", errstr(errno));
	// Outside the bounding set: dropped, up to the kernel's last
	// capability (EINVAL past it; no /proc of the container consulted).
	for (int cap = 0; cap < 64; cap++) {
		if ((bounding >> cap) & 1)
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break;
			failf("drop bounding capabilities: %s", errstr(errno));
		}
	}
	if (setgroups(ngroups, groups) < 0)
		failf("set additional groups: %s", errstr(errno));
	if (setresgid(gid, gid, gid) < 0)
		failf("set gid %u: %s", gid, errstr(errno));
	if (setresuid(uid, uid, uid) < 0)
		failf("set uid %u: %s", uid, errstr(errno));
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		failf("clear keepcaps: %s", errstr(errno));
	set_caps(effective, permitted, inheritable, ambient);
	umask(mask);
	if (!cwd_entered)
		enter_cwd(cwd, 0);
	if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		failf("set no_new_privs: %s", errstr(errno));
	if (prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0) < 0)
		failf("clear parent death signal: %s", errstr(errno));
	if (fifo != NO_FIFO)
		berth_debugf(planfd, "plan applied, waiting for start");
	else
		berth_debugf(planfd, "plan applied, about to exec %s", path);
	static const char ready[] = "{\"type\":\"ready\"}\n";
	if (write(planfd, ready, sizeof(ready) - 1) != sizeof(ready) - 1)
		_exit(1);
	close(planfd);
	if (fifo != NO_FIFO)
		wait_for_start((int)fifo);
	// Nobody waits for a reply any more: errors go to the process's
	// stderr, as in startProcess.
	if (nnp && load_seccomp(insns, ninsns, seccomp_flags) < 0) {
		dprintf(2, "berth: load seccomp filter: %s\n", errstr(errno));
		_exit(1);
	}
	for (uint32_t i = 0; i < nrlimits; i++)
		if (setrlimit(rlimits[i].resource, &rlimits[i].limit) < 0) {
			dprintf(2, "berth: set %s to soft %llu, hard %llu: %s\n", rlimits[i].name,
				(unsigned long long)rlimits[i].limit.rlim_cur,
				(unsigned long long)rlimits[i].limit.rlim_max, errstr(errno));
			_exit(1);
		}
	execve(path, args, env);
	dprintf(2, "berth: exec %s: %s\n", path, errstr(errno));
	_exit(127);
}
