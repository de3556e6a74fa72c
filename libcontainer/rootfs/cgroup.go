package rootfs

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// mountCgroup gives the container a view of its own cgroup at m.Destination.
// On a unified host that is one cgroup2 mount. On a v1 or hybrid host it is a
// tmpfs holding one mount per hierarchy, named as on the host. With a cgroup
// namespace the hierarchies are mounted afresh (the kernel shows the
// namespace root); without one, the container's own cgroup directories are
// bind-mounted from the host so it cannot see its siblings.
func mountCgroup(root *os.File, m *specs.Mount, opts mountOptions, ownNS bool) error {
	hierarchies, err := hostHierarchies()
	if err != nil {
		return err
	}
	if len(hierarchies) == 1 && hierarchies[0].mountpoint == "/sys/fs/cgroup" {
		return mountHierarchy(root, m.Destination, hierarchies[0], ownNS, opts)
	}

	dir, err := mkdirInRoot(root, m.Destination)
	if err != nil {
		return err
	}
	defer dir.Close()
	tmpfs := mountOptions{flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC, data: []string{"mode=755"}}
	if err := mountFresh(root, "tmpfs", m.Destination, dir, "tmpfs", tmpfs); err != nil {
		return err
	}
	for _, h := range hierarchies {
		if err := mountHierarchy(root, path.Join(m.Destination, filepath.Base(h.mountpoint)), h, ownNS, opts); err != nil {
			return err
		}
	}
	if opts.flags&unix.MS_RDONLY != 0 {
		return remountInRoot(root, m.Destination, tmpfs.flags|unix.MS_RDONLY)
	}
	return setPropagation(root, m.Destination, opts)
}

// hierarchy is one cgroup filesystem mounted on the host.
type hierarchy struct {
	mountpoint string
	fstype     string
	options    string // controller options for mount(2), e.g. "cpu" or "name=systemd"
	ownPath    string // the calling process's cgroup in this hierarchy
}

func mountHierarchy(root *os.File, dest string, h hierarchy, ownNS bool, opts mountOptions) error {
	target, err := mkdirInRoot(root, dest)
	if err != nil {
		return err
	}
	defer target.Close()
	if !ownNS {
		src := filepath.Join(h.mountpoint, h.ownPath)
		if err := unix.Mount(src, fdPath(target), "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind %s: %w", src, err)
		}
		return remountInRoot(root, dest, opts.flags|unix.MS_BIND)
	}
	fresh := opts
	fresh.data = nil
	if h.options != "" {
		fresh.data = []string{h.options}
	}
	return mountFresh(root, h.fstype, dest, target, h.fstype, fresh)
}

// hostHierarchies lists the cgroup filesystems mounted under /sys/fs/cgroup
// as this process sees them, with this process's cgroup in each.
func hostHierarchies() ([]hierarchy, error) {
	mounts, err := mountinfo.GetMounts(func(m *mountinfo.Info) (skip, stop bool) {
		inside := m.Mountpoint == "/sys/fs/cgroup" || strings.HasPrefix(m.Mountpoint, "/sys/fs/cgroup/")
		return !inside || (m.FSType != "cgroup" && m.FSType != "cgroup2"), false
	})
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	own, err := ownCgroups()
	if err != nil {
		return nil, err
	}
	var hs []hierarchy
	for _, m := range mounts {
		h := hierarchy{mountpoint: m.Mountpoint, fstype: m.FSType}
		var key []string
		for _, o := range strings.Split(m.VFSOptions, ",") {
			switch {
			case o == "rw" || o == "ro":
			case m.FSType == "cgroup2":
			default:
				key = append(key, o)
			}
		}
		if m.FSType == "cgroup" {
			// Only controller names and name= identify a v1 hierarchy;
			// other options (xattr, release_agent) must not be repeated.
			var ctrl []string
			for _, o := range key {
				if !strings.Contains(o, "=") || strings.HasPrefix(o, "name=") {
					if o != "xattr" && o != "noprefix" && o != "clone_children" && o != "cpuset_v2_mode" && o != "favordynmods" {
						ctrl = append(ctrl, o)
					}
				}
			}
			h.options = strings.Join(ctrl, ",")
		}
		p, ok := own[h.options]
		if !ok {
			continue // a hierarchy this process is not in (mounted twice, or bound elsewhere)
		}
		h.ownPath = p
		hs = append(hs, h)
	}
	return hs, nil
}

// ownCgroups maps the controller list of each hierarchy, as written in
// /proc/self/cgroup ("" for cgroup v2), to this process's path in it.
func ownCgroups() (map[string]string, error) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	own := make(map[string]string)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) == 3 {
			own[parts[1]] = parts[2]
		}
	}
	return own, sc.Err()
}
