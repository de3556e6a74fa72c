package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// defaultDevices are the nodes every container gets, as the runtime spec's
// "Default Devices" section lists them.
var defaultDevices = []specs.LinuxDevice{
	{Path: "/dev/null", Type: "c", Major: 1, Minor: 3},
	{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5},
	{Path: "/dev/full", Type: "c", Major: 1, Minor: 7},
	{Path: "/dev/random", Type: "c", Major: 1, Minor: 8},
	{Path: "/dev/urandom", Type: "c", Major: 1, Minor: 9},
	{Path: "/dev/tty", Type: "c", Major: 5, Minor: 0},
}

// devLinks point the conventional /dev names at the container's own procfs
// and devpts.
var devLinks = []struct{ name, target string }{
	{"fd", "/proc/self/fd"},
	{"stdin", "/proc/self/fd/0"},
	{"stdout", "/proc/self/fd/1"},
	{"stderr", "/proc/self/fd/2"},
	{"ptmx", "pts/ptmx"},
}

// needsDev reports whether berth must populate /dev: not when the config
// bind-mounts a /dev of its own.
func needsDev(mounts []specs.Mount) bool {
	for _, m := range mounts {
		if m.Destination == "/dev" && parseMountOptions(m.Options).isBind() {
			return false
		}
	}
	return true
}

// setupDev creates the default device nodes, the config's devices and the
// standard links in the container. Every node is made with mknodat
// relative to a directory handle resolved inside the root, and anything
// already at a node's name is removed first without following it, so an
// image cannot aim a node (or its ownership) at a host file.
func setupDev(root *os.File, devices []specs.LinuxDevice) error {
	old := unix.Umask(0)
	defer unix.Umask(old)
	for _, d := range append(defaultDevices, devices...) {
		if err := createDevice(root, d); err != nil {
			return err
		}
	}
	dev, err := mkdirInRoot(root, "/dev")
	if err != nil {
		return fmt.Errorf("open /dev: %w", err)
	}
	defer dev.Close()
	dirfd := int(dev.Fd())
	for _, l := range devLinks {
		if err := replace(dirfd, l.name); err != nil {
			return err
		}
		if err := unix.Symlinkat(l.target, dirfd, l.name); err != nil {
			return fmt.Errorf("symlink /dev/%s: %w", l.name, err)
		}
	}
	if _, err := os.Stat("/proc/kcore"); err == nil {
		if err := replace(dirfd, "core"); err != nil {
			return err
		}
		if err := unix.Symlinkat("/proc/kcore", dirfd, "core"); err != nil {
			return fmt.Errorf("symlink /dev/core: %w", err)
		}
	}
	return nil
}

// deviceTypes maps the spec's device types to file types.
var deviceTypes = map[string]uint32{
	"c": unix.S_IFCHR,
	"u": unix.S_IFCHR, // unbuffered: a character device to the kernel
	"b": unix.S_IFBLK,
	"p": unix.S_IFIFO,
}

// createDevice makes one device node inside root, with its mode and owner.
func createDevice(root *os.File, d specs.LinuxDevice) error {
	typ, ok := deviceTypes[d.Type]
	if !ok {
		return fmt.Errorf("device %s: unknown type %q (want c, u, b or p)", d.Path, d.Type)
	}
	perm := uint32(0o666)
	if d.FileMode != nil {
		perm = uint32(d.FileMode.Perm())
	}
	dir, err := mkdirInRoot(root, filepath.Dir(d.Path))
	if err != nil {
		return fmt.Errorf("device %s: %w", d.Path, err)
	}
	defer dir.Close()
	dirfd, name := int(dir.Fd()), filepath.Base(d.Path)
	err = mknod(dirfd, name, typ|perm, d.Major, d.Minor)
	if errors.Is(err, unix.EPERM) && typ != unix.S_IFIFO {
		// In a user namespace mknod of devices is not allowed: show the
		// host's node instead, as runc does.
		return bindDevice(dirfd, name, d.Path)
	}
	if err != nil {
		return fmt.Errorf("device %s: %w", d.Path, err)
	}
	if d.UID != nil || d.GID != nil {
		uid, gid := -1, -1
		if d.UID != nil {
			uid = int(*d.UID)
		}
		if d.GID != nil {
			gid = int(*d.GID)
		}
		if err := unix.Fchownat(dirfd, name, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("device %s: chown: %w", d.Path, err)
		}
	}
	return nil
}

// bindDevice bind-mounts the host's node at hostPath onto an empty file
// dirfd/name.
func bindDevice(dirfd int, name, hostPath string) error {
	fd, err := unix.Openat(dirfd, name, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_RDONLY, 0o600)
	if err != nil {
		return fmt.Errorf("device %s: create bind target: %w", hostPath, err)
	}
	target := os.NewFile(uintptr(fd), name)
	defer target.Close()
	if err := unix.Mount(hostPath, fdPath(target), "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("device %s: bind the host's node (mknod is not allowed here): %w", hostPath, err)
	}
	return nil
}

func mknod(dirfd int, name string, mode uint32, major, minor int64) error {
	if err := replace(dirfd, name); err != nil {
		return err
	}
	if err := unix.Mknodat(dirfd, name, mode, int(unix.Mkdev(uint32(major), uint32(minor)))); err != nil {
		return fmt.Errorf("mknod: %w", err)
	}
	return nil
}

// replace removes whatever the image left at dirfd/name.
func replace(dirfd int, name string) error {
	err := unix.Unlinkat(dirfd, name, 0)
	if errors.Is(err, unix.EISDIR) {
		err = unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR)
	}
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove existing %s: %w", name, err)
	}
	return nil
}
