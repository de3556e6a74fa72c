package rootfs

import (
	"errors"
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// mountEntry performs one of the spec's mounts inside root.
func mountEntry(root *os.File, m *specs.Mount, tree *os.File, c Config) error {
	opts := parseMountOptions(m.Options)
	if m.Type == "bind" {
		opts.flags |= unix.MS_BIND
	}
	var err error
	switch {
	case opts.isBind():
		err = bindMount(root, m, tree, opts)
	case m.Type == "cgroup" || m.Type == "cgroup2":
		err = mountCgroup(root, m, opts, c.Hierarchies, c.CgroupNS)
	default:
		err = mountOther(root, m, withMountLabel(opts, m.Type, c.Spec))
	}
	if err != nil {
		return err
	}
	return setRecursive(root, m.Destination, opts)
}

func mountOther(root *os.File, m *specs.Mount, opts mountOptions) error {
	target, err := mkdirInRoot(root, m.Destination)
	if err != nil {
		return err
	}
	defer target.Close()
	if err := checkMountPoint(root, target, m.Destination, m.Type); err != nil {
		return err
	}
	var under *os.File
	if opts.tmpcopyup && m.Type == "tmpfs" {
		if under, err = openUnder(target); err != nil {
			return err
		}
		defer under.Close()
	}
	fresh := opts
	if under != nil {
		fresh.flags &^= unix.MS_RDONLY // read-only once filled
	}
	err = mountFresh(root, m.Source, m.Destination, target, m.Type, fresh)
	if errors.Is(err, unix.EPERM) && m.Type == "sysfs" {
		// A user namespace may mount sysfs only with a network namespace
		// of its own; otherwise show the host's /sys, as runc does.
		host := *m
		host.Source = "/sys"
		opts.flags |= unix.MS_BIND | unix.MS_REC
		return bindMount(root, &host, nil, opts)
	}
	if err != nil {
		return err
	}
	if under != nil {
		if err := copyUp(root, under, m.Destination); err != nil {
			return err
		}
		if opts.flags&unix.MS_RDONLY != 0 {
			if err := remountInRoot(root, m.Destination, opts.flags); err != nil {
				return err
			}
		}
	}
	return setPropagation(root, m.Destination, opts)
}

// copyUp copies what the new tmpfs at dest covers into it.
func copyUp(root, under *os.File, dest string) error {
	top, err := openInRoot(root, dest, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return fmt.Errorf("reopen tmpfs: %w", err)
	}
	defer top.Close()
	if err := copyTree(under, top); err != nil {
		return fmt.Errorf("tmpcopyup: %w", err)
	}
	return nil
}

// setRecursive applies the "r" options (rro, rnosuid…) to the mount at
// dest and every mount below it.
func setRecursive(root *os.File, dest string, opts mountOptions) error {
	if opts.recursive.Attr_set == 0 && opts.recursive.Attr_clr == 0 {
		return nil
	}
	top, err := openInRoot(root, dest, unix.O_PATH)
	if err != nil {
		return fmt.Errorf("reopen mount point: %w", err)
	}
	defer top.Close()
	attr := opts.recursive
	if err := unix.MountSetattr(int(top.Fd()), "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, &attr); err != nil {
		return fmt.Errorf("set recursive mount attributes: %w", err)
	}
	return nil
}

// mountFresh mounts a filesystem that is not a bind mount. Read-only is
// applied as a second, per-mount step: asking for it in the first call
// could flip a superblock shared with the host (sysfs, cgroup) to
// read-only.
func mountFresh(root *os.File, source, dest string, target *os.File, fstype string, opts mountOptions) error {
	if source == "" {
		source = fstype
	}
	if err := unix.Mount(source, fdPath(target), fstype, opts.flags&^unix.MS_RDONLY, opts.dataString()); err != nil {
		return err
	}
	if opts.flags&unix.MS_RDONLY == 0 {
		return nil
	}
	return remountInRoot(root, dest, opts.flags)
}

// bindMount binds m.Source, or moves tree (a detached copy of it the parent
// made) into place.
func bindMount(root *os.File, m *specs.Mount, tree *os.File, opts mountOptions) error {
	fi, err := os.Stat(m.Source)
	if err != nil {
		return fmt.Errorf("bind source: %w", err)
	}
	var target *os.File
	if fi.IsDir() {
		target, err = mkdirInRoot(root, m.Destination)
	} else {
		target, err = mkfileInRoot(root, m.Destination)
	}
	if err != nil {
		return err
	}
	defer target.Close()
	if err := checkMountPoint(root, target, m.Destination, "bind"); err != nil {
		return err
	}
	if tree != nil {
		err = unix.MoveMount(int(tree.Fd()), "", int(target.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH)
	} else {
		err = unix.Mount(m.Source, fdPath(target), "", opts.flags&(unix.MS_BIND|unix.MS_REC), "")
	}
	if err != nil {
		return err
	}
	// A bind mount ignores every flag but MS_BIND|MS_REC on creation; the
	// rest take a remount.
	if opts.flags&^(unix.MS_BIND|unix.MS_REC) != 0 {
		if err := remountInRoot(root, m.Destination, opts.flags); err != nil {
			return err
		}
	}
	return setPropagation(root, m.Destination, opts)
}

// remountInRoot changes the per-mount flags of the mount at dest. The
// handle used to mount still names the directory underneath the new mount,
// so dest is resolved again to reach the mount on top.
func remountInRoot(root *os.File, dest string, flags uintptr) error {
	top, err := openInRoot(root, dest, unix.O_PATH)
	if err != nil {
		return fmt.Errorf("reopen mount point: %w", err)
	}
	defer top.Close()
	return remount(fdPath(top), flags)
}

// remount keeps the flags the kernel may have locked (nosuid, nodev,
// noexec, atime), so that the remount does not fail in a user namespace.
func remount(path string, flags uintptr) error {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", path, err)
	}
	locked := lockedFlags(st.Flags)
	const atime = unix.MS_NOATIME | unix.MS_RELATIME | unix.MS_STRICTATIME
	if flags&atime != 0 {
		locked &^= atime
	}
	flags = (flags | locked) &^ unix.MS_REC
	if err := unix.Mount("", path, "", flags|unix.MS_BIND|unix.MS_REMOUNT, ""); err != nil {
		return fmt.Errorf("remount: %w", err)
	}
	return nil
}

// lockedFlags converts statfs's ST_* flags to the MS_* flags a remount must
// keep.
func lockedFlags(st int64) uintptr {
	var f uintptr
	for _, p := range []struct {
		st int64
		ms uintptr
	}{
		{unix.ST_NOSUID, unix.MS_NOSUID},
		{unix.ST_NODEV, unix.MS_NODEV},
		{unix.ST_NOEXEC, unix.MS_NOEXEC},
		{unix.ST_NOATIME, unix.MS_NOATIME},
		{unix.ST_NODIRATIME, unix.MS_NODIRATIME},
		{unix.ST_RELATIME, unix.MS_RELATIME},
	} {
		if st&p.st != 0 {
			f |= p.ms
		}
	}
	return f
}

func remountReadonly(path string) error {
	return remount(path, unix.MS_RDONLY)
}

func setPropagation(root *os.File, dest string, opts mountOptions) error {
	if len(opts.propagation) == 0 {
		return nil
	}
	top, err := openInRoot(root, dest, unix.O_PATH)
	if err != nil {
		return fmt.Errorf("reopen mount point: %w", err)
	}
	defer top.Close()
	for _, p := range opts.propagation {
		if err := unix.Mount("", fdPath(top), "", p, ""); err != nil {
			return fmt.Errorf("set propagation: %w", err)
		}
	}
	return nil
}
