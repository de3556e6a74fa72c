package rootfs

import (
	"errors"
	"fmt"
	"os"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
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

// setupDev creates the default device nodes and links in the container's
// /dev. Every node is made with mknodat relative to a handle on /dev that
// was resolved inside the root, and anything already at a node's name is
// removed first without following it, so an image cannot aim a node (or
// its ownership) at a host file.
func setupDev(root *os.File) error {
	dev, err := pathrs.MkdirAllHandle(root, "/dev", 0o755)
	if err != nil {
		return fmt.Errorf("open /dev: %w", err)
	}
	defer dev.Close()
	dirfd := int(dev.Fd())
	old := unix.Umask(0)
	defer unix.Umask(old)
	for _, d := range defaultDevices {
		mode := uint32(0o666)
		if err := mknod(dirfd, d.Path[len("/dev/"):], unix.S_IFCHR|mode, d.Major, d.Minor); err != nil {
			return err
		}
	}
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

func mknod(dirfd int, name string, mode uint32, major, minor int64) error {
	if err := replace(dirfd, name); err != nil {
		return err
	}
	if err := unix.Mknodat(dirfd, name, mode, int(unix.Mkdev(uint32(major), uint32(minor)))); err != nil {
		return fmt.Errorf("mknod /dev/%s: %w", name, err)
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
		return fmt.Errorf("remove /dev/%s: %w", name, err)
	}
	return nil
}
