package cgroups

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Mount is one cgroup hierarchy mounted on the host, as a container's
// /sys/fs/cgroup needs to reproduce it.
type Mount struct {
	// Mountpoint is where the host mounts the hierarchy.
	Mountpoint string
	// FSType is "cgroup" (v1) or "cgroup2".
	FSType string
	// Options name the hierarchy to mount(2): its controllers ("cpu",
	// "cpu,cpuacct") or its name ("name=systemd"); empty for cgroup2.
	Options string
	// Own is the process's cgroup directory in the hierarchy, or
	// empty when the mount does not show it (as after the process
	// unshared its cgroup namespace, when mountinfo shows mount roots
	// relative to the new namespace root).
	Own string
}

// Mounts lists the hierarchies that process pid (0: the calling process)
// belongs to and that the calling process can reach through a mount.
func Mounts(pid int) ([]Mount, error) {
	proc := "self"
	if pid != 0 {
		proc = strconv.Itoa(pid)
	}
	data, err := os.ReadFile("/proc/" + proc + "/cgroup")
	if err != nil {
		return nil, fmt.Errorf("find the cgroups of process %s: %w", proc, err)
	}
	own, err := parseProcCgroup(string(data))
	if err != nil {
		return nil, err
	}
	mounts, err := cgroupMounts()
	if err != nil {
		return nil, fmt.Errorf("find cgroup mounts: %w", err)
	}
	var out []Mount
	for _, h := range own {
		for _, m := range mounts {
			if !mountsHierarchy(m, h) {
				continue
			}
			mnt := Mount{Mountpoint: m.Mountpoint, FSType: m.FSType, Options: strings.Join(h.controllers, ",")}
			if within(h.path, m.Root) {
				mnt.Own = filepath.Join(m.Mountpoint, strings.TrimPrefix(h.path, m.Root))
			}
			out = append(out, mnt)
			break
		}
	}
	return out, nil
}
