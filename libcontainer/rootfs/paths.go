package rootfs

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// maskPath hides p from the container: a directory gets an empty read-only
// tmpfs on top, anything else the container's /dev/null. It runs after the
// root switch, with root a handle on the container's "/". A path the image
// lacks is fine: there is nothing to hide.
func maskPath(root *os.File, p, mountLabel string) error {
	target, err := openProtectedPath(root, p)
	if target == nil {
		return err
	}
	defer target.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(target.Fd()), &st); err != nil {
		return err
	}
	var mask int
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		mask, err = emptyTmpfs(mountLabel)
	} else {
		mask, err = cloneDevNull(root)
	}
	if err != nil {
		return err
	}
	defer unix.Close(mask)
	return attach(mask, target)
}

// emptyTmpfs makes a detached, empty tmpfs to mask a directory with, as
// runc's: read-only, and so is its superblock, which no other mount
// shares, so that it stays empty even if the mount were made writable.
func emptyTmpfs(mountLabel string) (int, error) {
	opts := mountOptions{flags: unix.MS_RDONLY, data: []string{"ro"}}
	if mountLabel != "" {
		opts.data = append(opts.data, "context="+mountLabel)
	}
	return newMount("tmpfs", "tmpfs", opts, nil)
}

// cloneDevNull makes a detached bind mount of the container's /dev/null to
// mask a file with.
func cloneDevNull(root *os.File) (int, error) {
	null, err := openDevNull(root)
	if err != nil {
		return -1, err
	}
	defer null.Close()
	m, err := unix.OpenTree(int(null.Fd()), "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH)
	if err != nil {
		return -1, fmt.Errorf("clone /dev/null: %w", err)
	}
	return m, nil
}

// attach puts the detached mount m on the file target is a handle of.
// Mounts after the root switch go through handles only: a
// /proc/self/fd/N path would be looked up in the container's /proc, which
// the config or the image may have made something else.
func attach(m int, target *os.File) error {
	if err := unix.MoveMount(m, "", int(target.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return fmt.Errorf("attach mount: %w", err)
	}
	return nil
}

// openDevNull opens the container's /dev/null and checks that it really is
// the null device. Whatever the image or a racing container put there (a
// symlink to /proc/sys/kernel/core_pattern, a file) would otherwise be
// bound over the masked path, readable and writable (CVE-2025-31133).
func openDevNull(root *os.File) (*os.File, error) {
	f, err := openInRoot(root, "/dev/null", unix.O_PATH)
	if err != nil {
		return nil, fmt.Errorf("open /dev/null to mask with: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(st.Rdev) != 1 || unix.Minor(st.Rdev) != 3 {
		f.Close()
		return nil, errors.New("/dev/null is not the null device (1:3): refusing to mask with it")
	}
	return f, nil
}

// readonlyPath covers p with a read-only bind mount of itself. The bind is
// made detached, made read-only, then attached to the handle p resolved
// to, so that no second lookup of p (which a racing rename could redirect)
// decides what ends up read-only.
func readonlyPath(root *os.File, p string) error {
	target, err := openProtectedPath(root, p)
	if target == nil {
		return err
	}
	defer target.Close()
	clone, err := unix.OpenTree(int(target.Fd()), "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH|unix.AT_RECURSIVE)
	if err != nil {
		return fmt.Errorf("clone mount: %w", err)
	}
	defer unix.Close(clone)
	if err := unix.MountSetattr(clone, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
		return fmt.Errorf("make read-only: %w", err)
	}
	return attach(clone, target)
}

// openProtectedPath opens a masked or read-only path, checked to be on the
// filesystem it names. It returns nil and no error when the path does not
// exist.
func openProtectedPath(root *os.File, p string) (*os.File, error) {
	f, err := openInRoot(root, p, unix.O_PATH)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := checkProtectedPath(p, f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
