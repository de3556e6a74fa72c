package rootfs

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Every mount of the spec is made detached (fsmount(2), or open_tree(2)
// for a bind), given its flags while detached, and moved onto the handle
// its mount point resolved to; what is left after that (recursive
// attributes, propagation) goes through the mount's own fd. No step after
// resolving the mount point looks a path up again, so a container racing
// the set-up through a shared root cannot point a later step, such as
// making the mount read-only, at another mount.

// mountEntry performs one of the spec's mounts inside root. A read-only
// tmpfs is made writable, as runc makes it, so that the mount points of
// later mounts, device nodes and the cwd can be made in it: mountEntry
// returns it open, and Setup makes it read-only once the root is built.
func mountEntry(root *os.File, m *specs.Mount, tree, source *os.File, c Config) (readonlyLater *os.File, err error) {
	opts := parseMountOptions(m.Options)
	if m.Type == "bind" {
		opts.flags |= unix.MS_BIND
	}
	later := m.Type == "tmpfs" && !opts.isBind() && opts.flags&unix.MS_RDONLY != 0
	if later {
		opts.flags &^= unix.MS_RDONLY
	}
	var mnt int
	switch {
	case opts.isBind():
		mnt, err = bindMount(root, m, tree, source, opts)
	case m.Type == "cgroup" || m.Type == "cgroup2":
		mnt, err = mountCgroup(root, m, opts, c.Hierarchies, c.CgroupNS)
	default:
		var fsctx *os.File
		if m.Type == "proc" {
			fsctx = c.ProcFS
		}
		mnt, err = mountOther(root, m, withMountLabel(opts, m.Type, c.Spec), fsctx)
	}
	if err != nil {
		return nil, err
	}
	if err := setAfterAttach(mnt, opts); err != nil || !later {
		if tree == nil || mnt != int(tree.Fd()) {
			unix.Close(mnt)
		}
		return nil, err
	}
	return os.NewFile(uintptr(mnt), "tmpfs on "+m.Destination), nil
}

// mountOther mounts a new filesystem (tmpfs, proc, sysfs, mqueue…) and
// returns the fd of the attached mount. fsctx, if not nil, is the
// filesystem context to make it from, as newMount takes it.
func mountOther(root *os.File, m *specs.Mount, opts mountOptions, fsctx *os.File) (int, error) {
	var target *os.File
	var err error
	if m.Type == "proc" || m.Type == "sysfs" {
		target, err = ordinaryDirInRoot(root, m.Destination, m.Type)
	} else {
		target, err = mkdirInRoot(root, m.Destination)
	}
	if err != nil {
		return -1, err
	}
	defer target.Close()
	if err := checkMountPoint(root, target, m.Destination, m.Type); err != nil {
		return -1, err
	}
	var mnt int
	switch {
	case opts.flags&mount2Flags != 0 && fsctx != nil:
		// mount(2) would make a procfs of this thread's pid namespace.
		return -1, fmt.Errorf("%s on %s: the options acl and iversion need mount(2), which cannot use the container's filesystem context: berth's init must mount it (see MadeByMount2)", m.Type, m.Destination)
	case opts.flags&mount2Flags != 0:
		mnt, err = newMountByPath(target, m.Type, m.Source, opts)
	default:
		mnt, err = newMount(m.Type, m.Source, opts, fsctx)
	}
	if errors.Is(err, unix.EPERM) && m.Type == "sysfs" {
		// A user namespace may mount sysfs only with a network namespace
		// of its own; otherwise show the host's /sys, as runc does.
		opts.flags |= unix.MS_BIND | unix.MS_REC
		return bindOnto(target, "/sys", nil, nil, opts)
	}
	if err != nil {
		return -1, err
	}
	if CopiesUp(*m) {
		err = fillTmpfs(mnt, target)
	}
	if err == nil {
		err = attach(mnt, target)
	}
	if err != nil {
		unix.Close(mnt)
		return -1, err
	}
	return mnt, nil
}

// fillTmpfs copies what the image has at the mount point into the new,
// still detached tmpfs mnt (tmpcopyup); a read-only one is made read-only
// later (see mountEntry).
func fillTmpfs(mnt int, target *os.File) error {
	under, err := openDirAt(int(target.Fd()), ".", unix.O_RDONLY)
	if err != nil {
		return fmt.Errorf("open the directory under the tmpfs: %w", err)
	}
	defer under.Close()
	top, err := openDirAt(mnt, ".", unix.O_RDONLY)
	if err != nil {
		return fmt.Errorf("open the new tmpfs: %w", err)
	}
	defer top.Close()
	if err := copyTree(under, top); err != nil {
		return fmt.Errorf("tmpcopyup: %w", err)
	}
	return nil
}

// bindMount binds m.Source on m.Destination and returns the fd of the
// attached mount: the source as tree (a detached copy of it the parent
// made) or source (the parent's O_PATH handle of it) if not nil.
func bindMount(root *os.File, m *specs.Mount, tree, source *os.File, opts mountOptions) (int, error) {
	var st unix.Stat_t
	var err error
	switch {
	case tree != nil:
		err = unix.Fstat(int(tree.Fd()), &st)
	case source != nil:
		err = unix.Fstat(int(source.Fd()), &st)
	default:
		err = unix.Stat(m.Source, &st)
	}
	if err != nil {
		return -1, fmt.Errorf("bind source: %w", &os.PathError{Op: "stat", Path: m.Source, Err: err})
	}
	var target *os.File
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		target, err = mkdirInRoot(root, m.Destination)
	} else {
		target, err = mkfileInRoot(root, m.Destination)
	}
	if err != nil {
		return -1, err
	}
	defer target.Close()
	if err := checkMountPoint(root, target, m.Destination, "bind"); err != nil {
		return -1, err
	}
	return bindOnto(target, m.Source, tree, source, opts)
}

// bindOnto binds path, or tree (a detached copy of it the parent made),
// or source (the parent's handle of it), on target and returns the fd of
// the attached mount.
func bindOnto(target *os.File, path string, tree, source *os.File, opts mountOptions) (int, error) {
	var mnt int
	var err error
	if tree != nil {
		mnt = int(tree.Fd())
	} else if mnt, err = cloneTree(path, source, opts.flags&unix.MS_REC != 0); err != nil {
		return -1, err
	}
	// A bind keeps the flags of its source; any others in the options
	// replace them, as a bind remount would.
	if opts.flags&^(unix.MS_BIND|unix.MS_REC) != 0 {
		err = setBindFlags(mnt, opts.flags)
	}
	if err == nil {
		err = attach(mnt, target)
	}
	if err != nil {
		if tree == nil {
			unix.Close(mnt)
		}
		return -1, err
	}
	return mnt, nil
}

// cloneTree makes a detached bind mount of path, or of what handle (if
// not nil) is open on, with the mounts below it when recursive.
func cloneTree(path string, handle *os.File, recursive bool) (int, error) {
	dirfd, name := unix.AT_FDCWD, path
	flags := unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC
	if handle != nil {
		dirfd, name = int(handle.Fd()), ""
		flags |= unix.AT_EMPTY_PATH
	}
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	mnt, err := unix.OpenTree(dirfd, name, uint(flags))
	if err != nil {
		return -1, fmt.Errorf("bind %s: %w", path, err)
	}
	return mnt, nil
}

// newMount makes a detached mount of a new filesystem: the superblock
// flags and data options go to fsconfig(2), the per-mount flags to
// fsmount(2), so read-only never reaches a superblock the host may share
// (sysfs, cgroup). The filesystem context is fsctx if not nil (a procfs
// shows the pid namespace of whoever opened its context), else a new one.
func newMount(fstype, source string, opts mountOptions, fsctx *os.File) (int, error) {
	var fs int
	var err error
	if fsctx != nil {
		fs = int(fsctx.Fd())
	} else {
		if fs, err = unix.Fsopen(fstype, unix.FSOPEN_CLOEXEC); err != nil {
			return -1, fmt.Errorf("%s: %w", fstype, err)
		}
		defer unix.Close(fs)
	}
	if source == "" {
		source = fstype
	}
	if err = unix.FsconfigSetString(fs, "source", source); err != nil {
		return -1, fsError(fs, fstype, "source="+source, err)
	}
	for _, o := range append(superblockOptions(opts.flags), opts.data...) {
		if key, value, ok := strings.Cut(o, "="); ok {
			// mount(2)'s option string quotes a value that holds commas
			// (an SELinux context's categories); fsconfig takes it bare.
			if unquoted, err := strconv.Unquote(value); err == nil && strings.HasPrefix(value, `"`) {
				value = unquoted
			}
			err = unix.FsconfigSetString(fs, key, value)
		} else {
			err = unix.FsconfigSetFlag(fs, o)
		}
		if err != nil {
			return -1, fsError(fs, fstype, "option "+o, err)
		}
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return -1, fsError(fs, fstype, "create", err)
	}
	mnt, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, int(mountAttrs(opts.flags)))
	if err != nil {
		return -1, fmt.Errorf("fsmount %s: %w", fstype, err)
	}
	return mnt, nil
}

// mount2Flags are the superblock flags the new mount API has no key for,
// which only mount(2) gives a new superblock: MS_POSIXACL (runc's "acl":
// the kernel leaves the umask to the filesystem's ACLs) and MS_I_VERSION
// (mount(8)'s "iversion"). Filesystems that manage either set it
// themselves (tmpfs, ext4, xfs…); on others it is what the config asks.
const mount2Flags = unix.MS_POSIXACL | unix.MS_I_VERSION

// MadeByMount2 reports whether m is a new filesystem that berth makes with
// mount(2) (newMountByPath), for a superblock flag only mount(2) sets. A
// procfs made so shows the pid namespace of whoever mounts it: the
// container's init must, not a thread of berth that joined its other
// namespaces.
func MadeByMount2(m specs.Mount) bool {
	o := parseMountOptions(m.Options)
	switch {
	case m.Type == "bind" || o.isBind(), m.Type == "cgroup" || m.Type == "cgroup2":
		return false // no new superblock: the flags cannot apply
	}
	return o.flags&mount2Flags != 0
}

// newMountByPath makes a detached mount of a new filesystem with mount(2),
// for the superblock flags in mount2Flags, and returns it as newMount
// does. mount(2) mounts on a path of this mount namespace; so that no one
// else can reach that path, it is a directory in a tmpfs of berth's own,
// attached on target (where the filesystem goes next) only until the new
// mount is cloned off it. mount(2) gets no read-only flag, which would
// reach the superblock: the clone is made read-only instead.
func newMountByPath(target *os.File, fstype, source string, opts mountOptions) (int, error) {
	fd, err := newMount("tmpfs", "tmpfs", mountOptions{flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, data: []string{"mode=700"}}, nil)
	if err != nil {
		return -1, fmt.Errorf("%s: staging tmpfs: %w", fstype, err)
	}
	stage := os.NewFile(uintptr(fd), "staging tmpfs")
	defer stage.Close()
	if err := attach(fd, target); err != nil {
		return -1, fmt.Errorf("%s: staging tmpfs: %w", fstype, err)
	}
	mnt, err := mountInStage(stage, fstype, source, opts)
	// Lazily: the clone keeps the new filesystem; the staging tmpfs goes,
	// with the mount in it.
	if uerr := unix.Unmount(fdPath(stage), unix.MNT_DETACH); uerr != nil && err == nil {
		unix.Close(mnt)
		return -1, fmt.Errorf("%s: unmount the staging tmpfs: %w", fstype, uerr)
	}
	return mnt, err
}

// mountInStage mounts a new filesystem with mount(2) on a directory it
// makes in stage, and returns a detached clone of that mount.
func mountInStage(stage *os.File, fstype, source string, opts mountOptions) (int, error) {
	dir, err := mkdirAt(int(stage.Fd()), "fs", unix.O_PATH|unix.O_DIRECTORY)
	if err != nil {
		return -1, fmt.Errorf("%s: staging tmpfs: %w", fstype, err)
	}
	defer dir.Close()
	if source == "" {
		source = fstype
	}
	if err := unix.Mount(source, fdPath(dir), fstype, opts.flags&^(unix.MS_RDONLY|unix.MS_REMOUNT), opts.dataString()); err != nil {
		return -1, fmt.Errorf("mount %s (with mount(2), for acl or iversion): %w", fstype, err)
	}
	mnt, err := unix.OpenTree(int(stage.Fd()), "fs", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("%s: clone the new mount: %w", fstype, err)
	}
	if opts.flags&unix.MS_RDONLY != 0 {
		if err := setMountAttr(mnt, 0, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}, "make read-only"); err != nil {
			unix.Close(mnt)
			return -1, err
		}
	}
	return mnt, nil
}

// fsError wraps err with the message the filesystem logged on fs, which
// says more than the errno ("tmpfs: Bad value for 'size'").
func fsError(fs int, fstype, what string, err error) error {
	buf := make([]byte, 256)
	if n, rerr := unix.Read(fs, buf); rerr == nil && n > 2 {
		// Each message is a line: "e " for an error, "w " a warning.
		return fmt.Errorf("%s %s: %w (%s)", fstype, what, err, strings.TrimSpace(string(buf[2:n])))
	}
	return fmt.Errorf("%s %s: %w", fstype, what, err)
}

// superblockOptions names, as fsconfig(2) keys, the mount(2) flags that
// belong to the superblock.
func superblockOptions(flags uintptr) []string {
	var names []string
	for _, o := range []struct {
		flag uintptr
		name string
	}{
		{unix.MS_SYNCHRONOUS, "sync"},
		{unix.MS_DIRSYNC, "dirsync"},
		{unix.MS_LAZYTIME, "lazytime"},
		{unix.MS_MANDLOCK, "mand"},
	} {
		if flags&o.flag != 0 {
			names = append(names, o.name)
		}
	}
	return names
}

// mountAttrs converts the per-mount mount(2) flags to MOUNT_ATTR_* bits.
// The atime mode is one field there, which takes one value: of the flags
// mount(2) lets a list of options set together, MS_STRICTATIME wins over
// MS_NOATIME, which wins over relatime, as mount(2) settles them (runc
// passes them to it as they are).
func mountAttrs(flags uintptr) uint64 {
	var attrs uint64
	for _, a := range []struct {
		flag uintptr
		attr uint64
	}{
		{unix.MS_RDONLY, unix.MOUNT_ATTR_RDONLY},
		{unix.MS_NOSUID, unix.MOUNT_ATTR_NOSUID},
		{unix.MS_NODEV, unix.MOUNT_ATTR_NODEV},
		{unix.MS_NOEXEC, unix.MOUNT_ATTR_NOEXEC},
		{unix.MS_NODIRATIME, unix.MOUNT_ATTR_NODIRATIME},
		{unix.MS_NOSYMFOLLOW, unix.MOUNT_ATTR_NOSYMFOLLOW},
	} {
		if flags&a.flag != 0 {
			attrs |= a.attr
		}
	}
	switch {
	case flags&unix.MS_STRICTATIME != 0:
		attrs |= unix.MOUNT_ATTR_STRICTATIME
	case flags&unix.MS_NOATIME != 0:
		attrs |= unix.MOUNT_ATTR_NOATIME
	}
	return attrs
}

// setBindFlags gives a bind mount the per-mount flags a bind remount with
// flags would: read-only exactly when asked, the other flags added to what
// the source has (which a user namespace may not clear), and the atime
// mode replaced only when one is asked for. A recursive bind asked to be
// read-only is read-only all the way down: a bind remount would leave the
// mounts it carries writable, and one of them is the host's cgroupfs when
// the bind is the rootless default's /sys (CVE-2023-25809). Only
// read-only reaches below: "rw" never makes writable a submount that the
// host made read-only.
func setBindFlags(mnt int, flags uintptr) error {
	attr := unix.MountAttr{Attr_set: mountAttrs(flags)}
	if flags&unix.MS_RDONLY == 0 {
		attr.Attr_clr |= unix.MOUNT_ATTR_RDONLY
	}
	if flags&(unix.MS_NOATIME|unix.MS_RELATIME|unix.MS_STRICTATIME) != 0 {
		attr.Attr_clr |= unix.MOUNT_ATTR__ATIME
	}
	if err := setMountAttr(mnt, 0, &attr, "set mount flags"); err != nil {
		return err
	}
	if flags&(unix.MS_RDONLY|unix.MS_REC) != unix.MS_RDONLY|unix.MS_REC {
		return nil
	}
	return setMountAttr(mnt, unix.AT_RECURSIVE, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}, "make read-only recursively")
}

// setAfterAttach applies what must wait until the mount is in place: the
// "r" options (rro, rnosuid…), which reach the mounts below it too, and the
// propagation.
func setAfterAttach(mnt int, opts mountOptions) error {
	if opts.recursive.Attr_set != 0 || opts.recursive.Attr_clr != 0 {
		attr := opts.recursive
		if err := setMountAttr(mnt, unix.AT_RECURSIVE, &attr, "set recursive mount attributes"); err != nil {
			return err
		}
	}
	for _, p := range opts.propagation {
		var flags uint
		if p&unix.MS_REC != 0 {
			flags = unix.AT_RECURSIVE
		}
		if err := setMountAttr(mnt, flags, &unix.MountAttr{Propagation: uint64(p &^ unix.MS_REC)}, "set propagation"); err != nil {
			return err
		}
	}
	return nil
}

// setMountAttr changes the mount whose fd is mnt with mount_setattr(2).
func setMountAttr(mnt int, flags uint, attr *unix.MountAttr, what string) error {
	if err := unix.MountSetattr(mnt, "", unix.AT_EMPTY_PATH|flags, attr); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
