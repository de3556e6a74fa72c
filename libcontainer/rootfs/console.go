package rootfs

import (
	"fmt"
	"os"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// OpenPty allocates a pseudo-terminal from the devpts instance at /dev/pts
// inside root, so the container's terminal belongs to the container's own
// devpts. The slave is opened from the master with TIOCGPTPEER rather than
// by its /dev/pts/N path, which a process in the container could replace
// with a symlink (CVE-2025-52565).
func OpenPty(root *os.File) (master, slave *os.File, err error) {
	h, err := pathrs.OpenatInRoot(root, "/dev/pts/ptmx")
	if err != nil {
		return nil, nil, fmt.Errorf("open /dev/pts/ptmx: %w", err)
	}
	defer h.Close()
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(h.Fd()), &st); err != nil {
		return nil, nil, fmt.Errorf("statfs /dev/pts/ptmx: %w", err)
	}
	if st.Type != unix.DEVPTS_SUPER_MAGIC {
		return nil, nil, fmt.Errorf("/dev/pts is not a devpts filesystem: mount one there to use a terminal")
	}
	master, err = pathrs.Reopen(h, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
	if err != nil {
		return nil, nil, fmt.Errorf("open /dev/pts/ptmx: %w", err)
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
	dev, err := pathrs.MkdirAllHandle(root, "/dev", 0o755)
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
