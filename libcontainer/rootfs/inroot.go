package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// openInRoot opens p inside root: openat2(2) with RESOLVE_IN_ROOT resolves
// every component, "..", absolute and relative symlinks alike, as if root
// were "/", atomically in the kernel, so no path the image plants can lead
// outside it. Magic links (/proc/self/fd/N) are refused as well. One
// syscall per path is what keeps container set-up cheap; berth needs
// Linux 5.12 anyway (mount_setattr).
func openInRoot(root *os.File, p string, flags int) (*os.File, error) {
	how := unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	for {
		fd, err := unix.Openat2(int(root.Fd()), p, &how)
		// EAGAIN: a rename or mount raced with the lookup; the kernel
		// refuses rather than risk an escape, so look again.
		if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open in container root", Path: p, Err: err}
		}
		return os.NewFile(uintptr(fd), p), nil
	}
}

// maxSymlinks is how many symlinks one path may pass through, as in the
// kernel (MAXSYMLINKS).
const maxSymlinks = 40

// resolveInRoot rewrites p, a path inside root, so that it names no
// symlink: each link on the way, dangling ones too, is replaced by its
// target, an absolute one taken from root. A mount point the image names
// through a link to something missing (/etc/resolv.conf ->
// ../run/systemd/resolve/stub-resolv.conf) is then made where the link
// leads, inside root, as runc makes it. The result is only a path: it is
// looked up again with RESOLVE_IN_ROOT and made with O_NOFOLLOW, so a link
// swapped in meanwhile still cannot lead outside root.
func resolveInRoot(root *os.File, p string) (string, error) {
	rest := strings.Split(p, "/")
	resolved := "/"
	for hops := 0; len(rest) > 0; {
		part := rest[0]
		rest = rest[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			resolved = path.Dir(resolved)
			continue
		}
		dir, err := openInRoot(root, resolved, unix.O_PATH|unix.O_DIRECTORY)
		if err != nil {
			// Missing: what is left is made as it is written.
			return path.Join(append([]string{resolved, part}, rest...)...), nil
		}
		target, err := readlinkAt(dir, part)
		dir.Close()
		if err != nil { // not a symlink
			resolved = path.Join(resolved, part)
			continue
		}
		if hops++; hops > maxSymlinks {
			return "", &os.PathError{Op: "resolve in container root", Path: p, Err: unix.ELOOP}
		}
		if path.IsAbs(target) {
			resolved = "/"
		}
		rest = append(strings.Split(target, "/"), rest...)
	}
	return resolved, nil
}

// readlinkAt reads the symlink name in dir; it fails for anything else.
func readlinkAt(dir *os.File, name string) (string, error) {
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(int(dir.Fd()), name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// mkdirInRoot opens directory dir inside root as an O_PATH handle, making
// the directories that are missing (mode 0755). Each one is made relative
// to a handle on its parent and then opened without following symlinks,
// so swapping a component for a symlink cannot redirect it.
func mkdirInRoot(root *os.File, dir string) (*os.File, error) {
	const flags = unix.O_PATH | unix.O_DIRECTORY
	f, err := openInRoot(root, dir, flags)
	if !errors.Is(err, unix.ENOENT) {
		return f, err
	}
	if dir, err = resolveInRoot(root, dir); err != nil {
		return nil, fmt.Errorf("create mount point: %w", err)
	}
	cur, err := openInRoot(root, "/", flags)
	if err != nil {
		return nil, err
	}
	walked := "/"
	for _, part := range strings.Split(path.Clean("/" + dir)[1:], "/") {
		walked = path.Join(walked, part)
		next, err := openInRoot(root, walked, flags)
		if errors.Is(err, unix.ENOENT) {
			next, err = mkdirAt(int(cur.Fd()), part, flags)
		}
		cur.Close()
		if err != nil {
			return nil, fmt.Errorf("create mount point %s: %w", dir, err)
		}
		cur = next
	}
	return cur, nil
}

// mkdirAt makes directory name in dir and opens it without following a
// symlink that may have replaced it.
func mkdirAt(dirfd int, name string, flags int) (*os.File, error) {
	if err := unix.Mkdirat(dirfd, name, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, &os.PathError{Op: "mkdir", Path: name, Err: err}
	}
	fd, err := unix.Openat(dirfd, name, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), name), nil
}

// mkfileInRoot opens file inside root as an O_PATH handle, making it (empty)
// and its parent directories if missing: the target of a bind mount of a
// file.
func mkfileInRoot(root *os.File, file string) (*os.File, error) {
	h, err := openInRoot(root, file, unix.O_PATH)
	if !errors.Is(err, unix.ENOENT) {
		return h, err
	}
	if file, err = resolveInRoot(root, file); err != nil {
		return nil, fmt.Errorf("create mount point: %w", err)
	}
	dir, err := mkdirInRoot(root, path.Dir(path.Clean("/"+file)))
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	name := path.Base(path.Clean("/" + file))
	fd, err := unix.Openat(int(dir.Fd()), name, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_WRONLY, 0o644)
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, fmt.Errorf("create mount point %s: %w", file, err)
	}
	if err == nil {
		unix.Close(fd)
	}
	fd, err = unix.Openat(int(dir.Fd()), name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open mount point %s: %w", file, err)
	}
	return os.NewFile(uintptr(fd), file), nil
}
