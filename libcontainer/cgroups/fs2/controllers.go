package fs2

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/berthrt/berth/libcontainer/cgroups/internal/cgdir"
)

// enableControllers makes the controllers available to the cgroup at dir:
// in cgroup v2 a cgroup gets a controller only when its parent lists it in
// cgroup.subtree_control. created are the directories Apply just made,
// outermost first. It works from the nearest parent that already existed
// (the runtime's own cgroup, for a relative cgroupsPath) down to dir's
// parent, and never above it: which controllers reach that parent is for
// whoever manages the tree above (systemd, the engine) to delegate.
//
// Enabling is best effort. Where a controller cannot be enabled, the
// container runs without it, still grouped, freezable and killable, and a
// resource limit that needs the controller fails later. The usual cause is
// cgroup v2's "no internal processes" rule: a non-root cgroup that holds
// processes (the runtime's own cgroup, when started from a shell) cannot
// enable domain controllers such as memory or io for its children (EBUSY),
// while threaded ones such as cpu and pids are still allowed. So a refused
// batch is retried one controller at a time.
func enableControllers(dir string, created []string) error {
	top := dir
	if len(created) > 0 {
		top = created[0]
	}
	parents := []string{filepath.Dir(top)}
	for _, c := range created {
		if c != dir {
			parents = append(parents, c)
		}
	}
	for _, parent := range parents {
		if err := enableForChildren(parent); err != nil {
			return fmt.Errorf("enable controllers in cgroup %s: %w", parent, err)
		}
	}
	return nil
}

// enableForChildren enables for the children of the cgroup at dir every
// controller dir has and does not yet pass down. It enables nothing in a
// cgroup that holds processes, other than the root: domain controllers are
// refused there, and enabling a threaded one (cpu, pids) would make dir a
// thread root, whose plain children the kernel then refuses processes
// (EOPNOTSUPP), limits or none.
func enableForChildren(dir string) error {
	if holdsProcesses(dir) {
		return nil
	}
	available, err := cgdir.ReadFile(dir, "cgroup.controllers")
	if err != nil {
		return err
	}
	enabled, err := cgdir.ReadFile(dir, "cgroup.subtree_control")
	if err != nil {
		return err
	}
	missing := missingControllers(available, enabled)
	if len(missing) == 0 {
		return nil
	}
	if cgdir.WriteFile(dir, "cgroup.subtree_control", strings.Join(missing, " ")) == nil {
		return nil
	}
	for _, c := range missing {
		_ = cgdir.WriteFile(dir, "cgroup.subtree_control", c)
	}
	return nil
}

// missingControllers returns the controllers listed in available but not in
// enabled, in the "+name" form cgroup.subtree_control takes.
func missingControllers(available, enabled string) []string {
	on := strings.Fields(enabled)
	var missing []string
	for _, c := range strings.Fields(available) {
		if !slices.Contains(on, c) {
			missing = append(missing, "+"+c)
		}
	}
	return missing
}

// holdsProcesses reports whether the cgroup at dir is not the root (which
// alone has no cgroup.type) and has processes of its own, which cgroup v2's
// "no internal processes" rule keeps from passing domain controllers down.
func holdsProcesses(dir string) bool {
	if !cgdir.Exists(dir, "cgroup.type") {
		return false
	}
	procs, err := cgdir.ReadFile(dir, "cgroup.procs")
	return err == nil && strings.TrimSpace(procs) != ""
}

// delegable returns the controllers the cgroup at dir can give a new child:
// those it passes down already, and those it has if it may pass them down.
func delegable(dir string) ([]string, error) {
	file := "cgroup.controllers"
	if holdsProcesses(dir) {
		file = "cgroup.subtree_control"
	}
	list, err := cgdir.ReadFile(dir, file)
	if err != nil {
		return nil, err
	}
	return strings.Fields(list), nil
}
