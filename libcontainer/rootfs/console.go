package rootfs

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// OpenPty allocates a pseudo-terminal from the devpts instance at /dev/pts
// inside root, so the container's terminal belongs to the container's own
// devpts. The slave is opened from the master with TIOCGPTPEER rather than
// by its /dev/pts/N path, which a process in the container could replace
// with a symlink (CVE-2025-52565).
func OpenPty(root *os.File) (master, slave *os.File, err error) {
	master, err = openInRoot(root, "/dev/pts/ptmx", unix.O_RDWR|unix.O_NOCTTY)
	if err != nil {
		return nil, nil, err
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(master.Fd()), &st); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("statfs /dev/pts/ptmx: %w", err)
	}
	if st.Type != unix.DEVPTS_SUPER_MAGIC {
		master.Close()
		return nil, nil, fmt.Errorf("/dev/pts is not a devpts filesystem: mount one there to use a terminal")
	}
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("unlock pty: %w", err)
	}
	fd, _, errno := unix.Syscall(unix.SYS_IOCTL, master.Fd(), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
	if errno != 0 {
		master.Close()
		return nil, nil, fmt.Errorf("open pty slave: %w", errno)
	}
	return master, os.NewFile(fd, "pty slave"), nil
}

// bindConsole makes /dev/console inside root the given pty slave. Whatever
// the image has there is removed, not followed.
func bindConsole(root *os.File, slave *os.File) error {
	dev, err := mkdirInRoot(root, "/dev")
	if err != nil {
		return fmt.Errorf("open /dev: %w", err)
	}
	defer dev.Close()
	if err := replace(int(dev.Fd()), "console"); err != nil {
		return err
	}
	fd, err := unix.Openat(int(dev.Fd()), "console", unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_RDONLY, 0o600)
	if err != nil {
		return fmt.Errorf("create /dev/console: %w", err)
	}
	target := os.NewFile(uintptr(fd), "/dev/console")
	defer target.Close()
	if err := unix.Mount(fdPath(slave), fdPath(target), "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind pty on /dev/console: %w", err)
	}
	return nil
}
