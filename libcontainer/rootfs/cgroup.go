package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/libcontainer/cgroups"
)

// mountCgroup gives the container a view of its own cgroup at m.Destination,
// from the hierarchies init found before it made its cgroup namespace.
// On a unified host that is one cgroup2 mount. On a v1 or hybrid host it is a
// tmpfs holding one mount per hierarchy, named as on the host. With a cgroup
// namespace the hierarchies are mounted afresh (the kernel shows the
// namespace root); without one, the container's own cgroup directories are
// bind-mounted from the host so it cannot see its siblings.
func mountCgroup(root *os.File, m *specs.Mount, opts mountOptions, hierarchies []cgroups.Mount, ownNS bool) error {
	if cgroups.IsUnified() && len(hierarchies) == 1 {
		return mountHierarchy(root, m.Destination, hierarchies[0], ownNS, opts)
	}

	dir, err := mkdirInRoot(root, m.Destination)
	if err != nil {
		return err
	}
	defer dir.Close()
	if err := checkMountPoint(root, dir, m.Destination, m.Type); err != nil {
		return err
	}
	tmpfs := mountOptions{flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, data: []string{"mode=755"}}
	if err := mountFresh(root, "tmpfs", m.Destination, dir, "tmpfs", tmpfs); err != nil {
		return err
	}
	for _, h := range hierarchies {
		if err := mountHierarchy(root, path.Join(m.Destination, filepath.Base(h.Mountpoint)), h, ownNS, opts); err != nil {
			return err
		}
	}
	if opts.flags&unix.MS_RDONLY != 0 {
		if err := remountInRoot(root, m.Destination, tmpfs.flags|unix.MS_RDONLY); err != nil {
			return err
		}
	}
	return setPropagation(root, m.Destination, opts)
}

func mountHierarchy(root *os.File, dest string, h cgroups.Mount, ownNS bool, opts mountOptions) error {
	target, err := mkdirInRoot(root, dest)
	if err != nil {
		return err
	}
	defer target.Close()
	if err := checkMountPoint(root, target, dest, h.FSType); err != nil {
		return err
	}
	if !ownNS {
		if h.Own == "" {
			return fmt.Errorf("cannot find this container's cgroup in %s", h.Mountpoint)
		}
		if err := unix.Mount(h.Own, fdPath(target), "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind %s: %w", h.Own, err)
		}
		return remountInRoot(root, dest, opts.flags|unix.MS_BIND)
	}
	fresh := opts
	fresh.data = nil
	if h.Options != "" {
		fresh.data = []string{h.Options}
	}
	err = mountFresh(root, h.FSType, dest, target, h.FSType, fresh)
	if errors.Is(err, unix.EPERM) && h.Own != "" {
		// A user namespace may not mount a v1 hierarchy: bind the
		// container's own cgroup instead.
		return mountHierarchy(root, dest, h, false, opts)
	}
	return err
}
