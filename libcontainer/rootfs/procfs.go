package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/cyphar/filepath-securejoin/pathrs-lite/procfs"
	"golang.org/x/sys/unix"
)

// lxcfsFiles are the files in /proc that a bind mount may cover: lxcfs
// shows a container its own limits through them. runc allows the same.
var lxcfsFiles = []string{
	"/proc/cpuinfo", "/proc/diskstats", "/proc/loadavg", "/proc/meminfo",
	"/proc/net/dev", "/proc/slabinfo", "/proc/stat", "/proc/swaps",
	"/proc/sys/kernel/ns_last_pid", "/proc/uptime",
}

// checkMountPoint refuses to mount a filesystem of type fstype ("bind" for
// a bind mount) on target, the handle the mount at dest is about to use,
// when target lies in a procfs. A filesystem of the config's choosing over
// part of /proc (a tmpfs on /proc/sys, a volume holding symlinks) hides
// what maskedPaths and readonlyPaths protect and can steer a later write to
// /proc elsewhere (CVE-2019-19921). Allowed are a new procfs over a procfs
// root, and a bind mount over one of lxcfsFiles.
func checkMountPoint(root, target *os.File, dest, fstype string) error {
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(target.Fd()), &st); err != nil {
		return fmt.Errorf("statfs mount point: %w", err)
	}
	if st.Type != unix.PROC_SUPER_MAGIC {
		return nil
	}
	if fstype == "proc" {
		var s unix.Stat_t
		if err := unix.Fstat(int(target.Fd()), &s); err != nil {
			return fmt.Errorf("stat mount point: %w", err)
		}
		if s.Ino == procRootIno {
			return nil
		}
	}
	if fstype == "bind" {
		rootPath, err := procfs.ProcSelfFdReadlink(root)
		if err != nil {
			return err
		}
		targetPath, err := procfs.ProcSelfFdReadlink(target)
		if err != nil {
			return err
		}
		if inRoot, ok := strings.CutPrefix(targetPath, rootPath); ok && slices.Contains(lxcfsFiles, inRoot) {
			return nil
		}
	}
	return fmt.Errorf("%s is inside /proc: only a procfs may be mounted on /proc, and only a bind mount on one of %s", dest, strings.Join(lxcfsFiles, ", "))
}

// ordinaryDirInRoot opens the mount point of a procfs or sysfs (fstype):
// the directory dest names in root, made if missing, and never what a
// symlink there leads to, even inside the root. Mounted through a /proc
// that the image made a symlink, the real procfs would land where the
// link points (a volume another container can cover or swap) and /proc
// would stay whatever the image put there (CVE-2019-19921,
// CVE-2023-28642). runc refuses such a mount point too; the components
// before the last resolve in the root as in every mount destination.
func ordinaryDirInRoot(root *os.File, dest, fstype string) (*os.File, error) {
	const flags = unix.O_PATH | unix.O_DIRECTORY | unix.O_NOFOLLOW
	// Cleaned: a trailing slash would make the lookup follow a symlink.
	dest = path.Clean("/" + dest)
	dir, err := openInRoot(root, dest, flags)
	if errors.Is(err, unix.ENOENT) {
		made, mkErr := mkdirInRoot(root, dest)
		if mkErr != nil {
			return nil, mkErr
		}
		made.Close()
		// Opened again without following, so that a symlink swapped in
		// meanwhile is refused rather than used.
		dir, err = openInRoot(root, dest, flags)
	}
	if errors.Is(err, unix.ENOTDIR) {
		if what := nonDirectoryKind(root, dest); what != "" {
			return nil, fmt.Errorf("%s must be mounted on an ordinary directory, and %s in the image is %s", fstype, dest, what)
		}
	}
	return dir, err
}

// nonDirectoryKind names what p, which is not a directory, is in root
// ("a symlink"), or returns "" if p cannot be opened without following it.
func nonDirectoryKind(root *os.File, p string) string {
	f, err := openInRoot(root, p, unix.O_PATH|unix.O_NOFOLLOW)
	if err != nil {
		return ""
	}
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return ""
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		return "a symlink"
	case unix.S_IFREG:
		return "a file"
	}
	return "not a directory"
}

// procRootIno is the inode number of every procfs root.
const procRootIno = 1

// checkProtectedPath checks, for a masked or read-only path p, that the
// file opened to protect it is on the filesystem the container sees there:
// procfs under /proc, sysfs under /sys (except the cgroup mounts below
// /sys/fs/cgroup). Were it anything else, the path would lead somewhere
// other than the file it names (a tmpfs on /proc/sys, /proc renamed
// away and replaced by a symlink through a shared rootfs), and protecting
// that would leave the real file open (CVE-2025-31133, CVE-2025-52881).
func checkProtectedPath(p string, f *os.File) error {
	p = path.Clean("/" + p)
	var want int64
	var name string
	switch {
	case isUnder(p, "/sys/fs/cgroup"):
		return nil
	case isUnder(p, "/proc"):
		want, name = unix.PROC_SUPER_MAGIC, "procfs"
	case isUnder(p, "/sys"):
		want, name = unix.SYSFS_MAGIC, "sysfs"
	default:
		return nil
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &st); err != nil {
		return fmt.Errorf("statfs: %w", err)
	}
	if st.Type != want {
		return fmt.Errorf("%s is not on %s (filesystem type %#x): berth protects only the file the path names", p, name, st.Type)
	}
	return nil
}

// isUnder reports whether the clean absolute path p is dir or lies below it.
func isUnder(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}
