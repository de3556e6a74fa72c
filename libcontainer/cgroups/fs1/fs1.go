// Package fs1 manages a container's cgroups on cgroup v1 hosts, one
// directory per mounted hierarchy, by reading and writing cgroupfs files
// directly. On a hybrid host it also manages the container's cgroup in the
// v2 "unified" hierarchy, for membership only: resource control stays with
// the v1 controllers.
package fs1

import (
	"maps"
	"slices"

	"github.com/berthrt/berth/libcontainer/cgroups/internal/cgdir"
)

// Manager manages the cgroups of one container on a v1 or hybrid host.
type Manager struct {
	paths map[string]string
	// dirs are the distinct directories of paths (co-mounted controllers
	// such as cpu,cpuacct share one), the freezer's first.
	dirs []string
}

// New returns the manager of the cgroups in paths: absolute directories keyed
// by controller ("cpu", "memory", "name=systemd"…; "unified" for the v2
// hierarchy); there must be at least one. It keeps paths and touches nothing
// until Apply.
func New(paths map[string]string) *Manager {
	m := &Manager{paths: paths}
	keys := append([]string{"freezer"}, slices.Sorted(maps.Keys(paths))...)
	for _, key := range keys {
		if dir, ok := paths[key]; ok && !slices.Contains(m.dirs, dir) {
			m.dirs = append(m.dirs, dir)
		}
	}
	return m
}

// Apply creates the cgroups and any missing parents and moves pid into each,
// the freezer first: should a later one fail, the process is still in the
// tree that Kill and Destroy work on.
func (m *Manager) Apply(pid int) error {
	for _, dir := range m.dirs {
		created, err := cgdir.Mkdir(dir)
		if err != nil {
			return err
		}
		if dir == m.paths["cpuset"] {
			if _, _, err := inheritCpuset(dir, created); err != nil {
				return err
			}
		}
		if err := cgdir.AddPid(dir, pid); err != nil {
			return err
		}
	}
	return nil
}

// Pids lists every process in the container's cgroups, including the cgroups
// below them, as the freezer hierarchy sees it (any other one if there is no
// freezer): the process trees are the same in all of them.
func (m *Manager) Pids() ([]int, error) {
	return cgdir.Pids(m.dirs[0])
}

// Kill sends SIGKILL to every process while the freezer holds them, so that
// no fork escapes. v1 has no cgroup.kill.
func (m *Manager) Kill() error {
	return cgdir.KillFrozen(m)
}

// Destroy removes the cgroups and those below them, killing processes that
// are left. Cgroups that are already gone are not an error.
func (m *Manager) Destroy() error {
	return cgdir.Destroy(m.dirs, m.Kill)
}

// Paths returns a copy of the cgroup directories by controller key.
func (m *Manager) Paths() map[string]string {
	return maps.Clone(m.paths)
}
