package rootfs

import (
	"errors"
	"fmt"
	"io"
	"os"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"
)

// tmpcopyup (runc's extension, which podman uses for tmpfs volumes) fills
// a new tmpfs with what the image had at its mount point, so that mounting
// it does not hide the image's files.
//
// What is copied may be a volume that another container writes while this
// one is set up, so an entry can change between any two looks at its name:
// a regular file when checked, a FIFO when opened (the open blocks, and
// create with it) or a device node (the copy reads a device the container
// may not open, a host disk, into its tmpfs). So each entry is looked up
// by name once, as an O_PATH handle, which opens nothing, and every later
// step acts on that handle: only a regular file is opened for reading,
// through the handle; a directory is read through it; a symlink is copied,
// never followed. Any other node (a device, FIFO or socket) fails the
// copy, naming it: copying one would give the container a node it may not
// be able to make itself (in a tmpfs without nodev over a volume with it),
// and an image has no use for one there. runc makes block devices and
// fails on the others.

// copyTree copies the entries of directory src into directory dst, keeping
// modes and owners.
func copyTree(src, dst *os.File) error {
	names, err := src.Readdirnames(-1)
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := copyEntry(src, dst, name); err != nil {
			return fmt.Errorf("copy %s: %w", name, err)
		}
	}
	return nil
}

// copyEntry copies the entry name of directory src into directory dst.
func copyEntry(src, dst *os.File, name string) error {
	fd, err := unix.Openat(int(src.Fd()), name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	entry := os.NewFile(uintptr(fd), name)
	defer entry.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("stat: %w", err)
	}
	if err := makeCopy(entry, &st, dst, name); err != nil {
		return err
	}
	dfd := int(dst.Fd())
	if err := unix.Fchownat(dfd, name, int(st.Uid), int(st.Gid), unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFLNK {
		if err := unix.Fchmodat(dfd, name, st.Mode&0o7777, 0); err != nil {
			return fmt.Errorf("chmod: %w", err)
		}
	}
	return nil
}

// makeCopy makes name in dst a copy of entry, an O_PATH handle whose
// status is st.
func makeCopy(entry *os.File, st *unix.Stat_t, dst *os.File, name string) error {
	dfd := int(dst.Fd())
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		if err := unix.Mkdirat(dfd, name, 0o700); err != nil {
			return err
		}
		s, err := openDirAt(int(entry.Fd()), ".", unix.O_RDONLY)
		if err != nil {
			return err
		}
		defer s.Close()
		d, err := openDirAt(dfd, name, unix.O_RDONLY)
		if err != nil {
			return err
		}
		defer d.Close()
		return copyTree(s, d)
	case unix.S_IFREG:
		return copyFile(entry, st.Size, dst, name)
	case unix.S_IFLNK:
		buf := make([]byte, unix.PathMax)
		n, err := unix.Readlinkat(int(entry.Fd()), "", buf)
		if err != nil {
			return err
		}
		return unix.Symlinkat(string(buf[:n]), dfd, name)
	default:
		return fmt.Errorf("a %s cannot be copied, only directories, regular files and symlinks", nodeType(st.Mode))
	}
}

// nodeType names the type of a node that is not a directory, regular file
// or symlink.
func nodeType(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFBLK:
		return "block device"
	case unix.S_IFCHR:
		return "character device"
	case unix.S_IFIFO:
		return "FIFO"
	case unix.S_IFSOCK:
		return "socket"
	}
	return fmt.Sprintf("file of type %#o", mode&unix.S_IFMT)
}

// copyFile copies the regular file behind the O_PATH handle entry into a
// new file name in dst: at most size bytes, its size when it was looked
// up, so that a file another container keeps growing does not keep the
// copy going.
func copyFile(entry *os.File, size int64, dst *os.File, name string) error {
	src, err := pathrs.Reopen(entry, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		return err
	}
	defer src.Close()
	out, err := unix.Openat(int(dst.Fd()), name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(out), name)
	_, err = io.Copy(f, io.LimitReader(src, size))
	return errors.Join(err, f.Close())
}

func openDirAt(dirfd int, name string, flags int) (*os.File, error) {
	fd, err := unix.Openat(dirfd, name, flags|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), name), nil
}
