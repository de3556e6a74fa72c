package fs1

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/berthrt/berth/libcontainer/cgroups/internal/cgdir"
)

// inheritCpuset copies cpuset.cpus and cpuset.mems from the parent when they
// are empty in the cgroup at dir. A new v1 cpuset cgroup starts with both
// empty, and the kernel refuses to add a process to it (ENOSPC) until they
// are set. The parent may be empty too, when something created it without
// setting it up, so it is filled first, up to the hierarchy's root, which is
// always set. Directories in created were just made, so they are known to be
// empty and not read. It returns the values dir ends up with.
func inheritCpuset(dir string, created []string) (cpus, mems string, err error) {
	if !slices.Contains(created, dir) {
		if cpus, err = readCpuset(dir, "cpuset.cpus"); err != nil {
			return "", "", err
		}
		if mems, err = readCpuset(dir, "cpuset.mems"); err != nil {
			return "", "", err
		}
		if cpus != "" && mems != "" {
			return cpus, mems, nil
		}
	}
	parentCpus, parentMems, err := inheritCpuset(filepath.Dir(dir), created)
	if err != nil {
		return "", "", err
	}
	if cpus == "" {
		if cpus, err = writeCpuset(dir, "cpuset.cpus", parentCpus); err != nil {
			return "", "", err
		}
	}
	if mems == "" {
		if mems, err = writeCpuset(dir, "cpuset.mems", parentMems); err != nil {
			return "", "", err
		}
	}
	return cpus, mems, nil
}

func readCpuset(dir, file string) (string, error) {
	value, err := cgdir.ReadFile(dir, file)
	if err != nil {
		return "", fmt.Errorf("set up cpuset cgroup %s: %w", dir, err)
	}
	return strings.TrimSpace(value), nil
}

func writeCpuset(dir, file, value string) (string, error) {
	if err := cgdir.WriteFile(dir, file, value); err != nil {
		return "", fmt.Errorf("set up cpuset cgroup %s: %w", dir, err)
	}
	return value, nil
}
