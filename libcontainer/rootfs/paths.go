package rootfs

import (
	"errors"
	"fmt"
	"os"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// maskPath hides p from the container: a directory gets an empty read-only
// tmpfs on top, anything else the container's /dev/null. It runs after the
// root switch, so "/" is the container's root. A path the image lacks is
// fine: there is nothing to hide.
func maskPath(p string) error {
	target, err := pathrs.OpenInRoot("/", p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer target.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(target.Fd()), &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return unix.Mount("tmpfs", fdPath(target), "tmpfs", unix.MS_RDONLY, "size=0,mode=755")
	}
	null, err := openDevNull()
	if err != nil {
		return err
	}
	defer null.Close()
	return unix.Mount(fdPath(null), fdPath(target), "", unix.MS_BIND, "")
}

// openDevNull opens the container's /dev/null and checks that it really is
// the null device, so an image cannot substitute a file of its own as the
// mask.
func openDevNull() (*os.File, error) {
	f, err := pathrs.OpenInRoot("/", "/dev/null")
	if err != nil {
		return nil, fmt.Errorf("open /dev/null: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3 {
		f.Close()
		return nil, errors.New("/dev/null is not the null device (1:3)")
	}
	return f, nil
}

// readonlyPath bind-mounts p onto itself and makes that mount read-only.
func readonlyPath(p string) error {
	target, err := pathrs.OpenInRoot("/", p)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer target.Close()
	if err := unix.Mount(fdPath(target), fdPath(target), "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return err
	}
	top, err := pathrs.OpenInRoot("/", p)
	if err != nil {
		return err
	}
	defer top.Close()
	return remount(fdPath(top), unix.MS_RDONLY)
}
