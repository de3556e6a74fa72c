package cgroups

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/moby/sys/mountinfo"
)

// hierarchy is a cgroup hierarchy a process belongs to, from one line of
// /proc/<pid>/cgroup.
type hierarchy struct {
	// controllers are the v1 controllers bound to the hierarchy, or its
	// name ("name=systemd"); none for the unified (v2) hierarchy.
	controllers []string
	// path is the process's cgroup, relative to the hierarchy's root as
	// the process's cgroup namespace shows it.
	path string
}

// parseProcCgroup parses /proc/<pid>/cgroup: lines of
// "hierarchy-id:controllers:path".
func parseProcCgroup(data string) ([]hierarchy, error) {
	var hs []hierarchy
	for line := range strings.Lines(data) {
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			continue
		}
		fields := strings.SplitN(line, ":", 3)
		if len(fields) != 3 || !path.IsAbs(fields[2]) {
			return nil, fmt.Errorf("parse /proc/self/cgroup: malformed line %q", line)
		}
		h := hierarchy{path: fields[2]}
		if fields[1] != "" {
			h.controllers = strings.Split(fields[1], ",")
		}
		hs = append(hs, h)
	}
	return hs, nil
}

// resolvePaths returns the directories of the container's cgroups by
// controller key, given the caller's own cgroups and the cgroup mounts. On a
// unified host only the v2 hierarchy counts; otherwise every mounted v1
// hierarchy does, and the v2 one too if mounted (a hybrid host). Hierarchies
// that are not mounted are left out.
func resolvePaths(own []hierarchy, mounts []*mountinfo.Info, unified bool, cgroupsPath, id string) (map[string]string, error) {
	inner, err := innerPath(cgroupsPath, id)
	if err != nil {
		return nil, err
	}
	paths := make(map[string]string)
	for _, h := range own {
		v2 := len(h.controllers) == 0
		if unified && !v2 {
			continue
		}
		target := inner
		if !path.IsAbs(target) {
			target = path.Join(h.path, inner)
		}
		if within(h.path, target) {
			return nil, fmt.Errorf("invalid cgroups path %q: cgroup %s contains the runtime's own cgroup %s", displayPath(cgroupsPath, id), target, h.path)
		}
		m, err := findMount(mounts, h, target)
		if err != nil {
			return nil, err
		}
		if m == nil {
			continue
		}
		dir := filepath.Join(m.Mountpoint, strings.TrimPrefix(target, m.Root))
		if v2 {
			paths["unified"] = dir
		}
		for _, c := range h.controllers {
			paths[c] = dir
		}
	}
	if len(paths) == 0 {
		return nil, errors.New("no cgroup hierarchy is mounted where this process can use it")
	}
	return paths, nil
}

// innerPath validates and cleans the container's cgroup path as the config
// gives it, the id standing in for an empty one.
func innerPath(cgroupsPath, id string) (string, error) {
	p := displayPath(cgroupsPath, id)
	if p == "" {
		return "", errors.New("invalid cgroups path: neither a cgroupsPath nor a container id")
	}
	if slices.Contains(strings.Split(p, "/"), "..") {
		return "", fmt.Errorf("invalid cgroups path %q: \"..\" is not allowed", p)
	}
	return path.Clean(p), nil
}

func displayPath(cgroupsPath, id string) string {
	if cgroupsPath == "" {
		return id
	}
	return cgroupsPath
}

// findMount returns a mount of hierarchy h through which its cgroup target
// can be reached, or nil if h is not mounted. A cgroup namespace or a bind
// mount of a subtree shows only part of a hierarchy: the mount's root.
func findMount(mounts []*mountinfo.Info, h hierarchy, target string) (*mountinfo.Info, error) {
	var found *mountinfo.Info
	for _, m := range mounts {
		if !mountsHierarchy(m, h) {
			continue
		}
		if within(target, m.Root) {
			return m, nil
		}
		found = m
	}
	if found != nil {
		return nil, fmt.Errorf("cgroup %s is outside the part of the hierarchy mounted at %s (%s)", target, found.Mountpoint, found.Root)
	}
	return nil, nil
}

func mountsHierarchy(m *mountinfo.Info, h hierarchy) bool {
	if len(h.controllers) == 0 {
		return m.FSType == "cgroup2"
	}
	return m.FSType == "cgroup" && slices.Contains(strings.Split(m.VFSOptions, ","), h.controllers[0])
}

// within reports whether the cgroup p is dir or below it.
func within(p, dir string) bool {
	return dir == "/" || p == dir || strings.HasPrefix(p, dir+"/")
}
