package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/libcontainer/cgroups"
)

// mountCgroup gives the container a view of its own cgroup at m.Destination,
// from the hierarchies init found before it made its cgroup namespace.
// On a unified host that is one cgroup2 mount. On a v1 or hybrid host it is a
// tmpfs holding one mount per v1 hierarchy, named as on the host: as in
// runc, a hybrid host's cgroup2 hierarchy is not among them (the container
// is in it, but the v1 hierarchies hold its controllers). With a cgroup
// namespace the hierarchies are mounted afresh (the kernel shows the
// namespace root); without one, the container's own cgroup directories are
// bind-mounted from the host so it cannot see its siblings.
func mountCgroup(root *os.File, m *specs.Mount, opts mountOptions, hierarchies []cgroups.Mount, ownNS bool) (int, error) {
	dir, err := mkdirInRoot(root, m.Destination)
	if err != nil {
		return -1, err
	}
	defer dir.Close()
	if err := checkMountPoint(root, dir, m.Destination, m.Type); err != nil {
		return -1, err
	}
	if cgroups.IsUnified() && len(hierarchies) == 1 {
		return mountHierarchy(dir, hierarchies[0], ownNS, opts)
	}

	tmpfs, err := newMount("tmpfs", "tmpfs", mountOptions{flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, data: []string{"mode=755"}}, nil)
	if err != nil {
		return -1, err
	}
	if err := fillCgroupTmpfs(tmpfs, dir, hierarchies, ownNS, opts); err != nil {
		unix.Close(tmpfs)
		return -1, err
	}
	return tmpfs, nil
}

// fillCgroupTmpfs attaches the tmpfs of a v1 or hybrid host's cgroup
// mount to dir, mounts each v1 hierarchy in it, then makes it read-only if
// opts ask (runc 1.1.5 leaves it writable: docs/compat.md). The hierarchies' mount points are made under the tmpfs's own
// fd: the tmpfs is new and in no other mount namespace, so nothing races.
func fillCgroupTmpfs(tmpfs int, dir *os.File, hierarchies []cgroups.Mount, ownNS bool, opts mountOptions) error {
	if err := attach(tmpfs, dir); err != nil {
		return err
	}
	for _, h := range hierarchies {
		if h.FSType == "cgroup2" {
			continue
		}
		target, err := mkdirAt(tmpfs, filepath.Base(h.Mountpoint), unix.O_PATH|unix.O_DIRECTORY)
		if err != nil {
			return err
		}
		mnt, err := mountHierarchy(target, h, ownNS, opts)
		target.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", h.Mountpoint, err)
		}
		unix.Close(mnt)
	}
	if opts.flags&unix.MS_RDONLY == 0 {
		return nil
	}
	return setMountAttr(tmpfs, 0, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}, "make read-only")
}

// mountHierarchy mounts one cgroup hierarchy on target and returns the fd
// of the attached mount.
func mountHierarchy(target *os.File, h cgroups.Mount, ownNS bool, opts mountOptions) (int, error) {
	var mnt int
	var err error
	if ownNS {
		fresh := opts
		fresh.data = nil
		if h.Options != "" {
			fresh.data = strings.Split(h.Options, ",")
		}
		mnt, err = newMount(h.FSType, hierarchySource(h), fresh, nil)
		if errors.Is(err, unix.EPERM) && h.Own != "" {
			// A user namespace may not mount a v1 hierarchy: bind the
			// container's own cgroup instead.
			return mountHierarchy(target, h, false, opts)
		}
	} else {
		if h.Own == "" {
			return -1, fmt.Errorf("cannot find this container's cgroup in %s", h.Mountpoint)
		}
		if mnt, err = cloneTree(h.Own, nil, false); err == nil {
			if err = setBindFlags(mnt, opts.flags); err != nil {
				unix.Close(mnt)
			}
		}
	}
	if err != nil {
		return -1, err
	}
	if err := attach(mnt, target); err != nil {
		unix.Close(mnt)
		return -1, err
	}
	return mnt, nil
}

// hierarchySource is the source a hierarchy mounted afresh shows in
// mountinfo: its type, but "systemd" for systemd's named hierarchy, as
// runc names it.
func hierarchySource(h cgroups.Mount) string {
	if h.Options == "name=systemd" {
		return "systemd"
	}
	return h.FSType
}
