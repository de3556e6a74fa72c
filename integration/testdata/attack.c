/*
 * attack: the attacks of integration/review_test.go that a Go program
 * cannot make, because they need a single-threaded process (unshare of a
 * user namespace) or nothing but a raw ioctl. Static, for a busybox root.
 *
 *   attack nested DIR STEP...   make DIR, then enter new user, mount,
 *                               network, pid and cgroup namespaces (no id
 *                               map: container root cannot map uid 0
 *                               without CAP_SETFCAP, and needs none to be
 *                               CAP_SYS_ADMIN there until it execs), and
 *                               try each STEP; prints "STEP: ok" or
 *                               "STEP: ERRNO-TEXT"
 *       umount:PATH        detach the mount on PATH (a mask)
 *       proc | sysfs       mount a fresh procfs or sysfs on DIR
 *       rw:PATH            make the read-only mount on PATH writable
 *       clone-rw:PATH      clone the mount on PATH and make the clone
 *                          writable
 *   attack tiocsti FD          push a byte into the input of terminal FD
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif

struct mount_attr_v0 {
	unsigned long long attr_set, attr_clr, propagation, userns_fd;
};

static int clear_rdonly(int dfd, const char *path, int flags)
{
	struct mount_attr_v0 attr = {.attr_clr = MOUNT_ATTR_RDONLY};
	return syscall(SYS_mount_setattr, dfd, path, flags, &attr, sizeof attr);
}

static int step(const char *dir, const char *s)
{
	if (!strncmp(s, "umount:", 7))
		return umount2(s + 7, MNT_DETACH);
	if (!strcmp(s, "proc"))
		return mount("proc", dir, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	if (!strcmp(s, "sysfs"))
		return mount("sysfs", dir, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	if (!strncmp(s, "rw:", 3)) {
		if (clear_rdonly(AT_FDCWD, s + 3, 0) == 0)
			return 0;
		return mount(NULL, s + 3, NULL, MS_REMOUNT | MS_BIND, NULL);
	}
	if (!strncmp(s, "clone-rw:", 9)) {
		int fd = syscall(SYS_open_tree, AT_FDCWD, s + 9, OPEN_TREE_CLONE);
		if (fd < 0)
			return -1;
		return clear_rdonly(fd, "", AT_EMPTY_PATH);
	}
	errno = EINVAL;
	return -1;
}

static int nested(int argc, char **argv)
{
	const char *dir = argv[2];
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		printf("mkdir %s: %s\n", dir, strerror(errno));
		return 1;
	}
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWCGROUP) < 0) {
		printf("unshare: %s\n", strerror(errno));
		return 1;
	}
	/* The first child is the new pid namespace's init, which a procfs
	 * mount needs. */
	pid_t pid = fork();
	if (pid < 0) {
		printf("fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid > 0) {
		int status;
		waitpid(pid, &status, 0);
		return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	}
	for (int i = 3; i < argc; i++) {
		int rc = step(dir, argv[i]);
		printf("%s: %s\n", argv[i], rc < 0 ? strerror(errno) : "ok");
	}
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 3 && !strcmp(argv[1], "nested"))
		return nested(argc, argv);
	if (argc == 3 && !strcmp(argv[1], "tiocsti")) {
		char c = '#';
		int rc = ioctl(atoi(argv[2]), TIOCSTI, &c);
		printf("tiocsti: %s\n", rc < 0 ? strerror(errno) : "ok");
		return 0;
	}
	fprintf(stderr, "usage: attack nested DIR STEP... | attack tiocsti FD\n");
	return 2;
}
