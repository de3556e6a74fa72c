// Package fs1 manages a container's cgroups on cgroup v1 hosts, one
// directory per mounted hierarchy, by reading and writing cgroupfs files
// directly. On a hybrid host it also manages the container's cgroup in the
// v2 "unified" hierarchy, for membership only: resource control stays with
// the v1 controllers.
package fs1

import (
	"fmt"
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
	// made are the directories of dirs that Create made, or that Load
	// was not told were there before: the only ones Destroy removes.
	made map[string]bool
}

// New returns the manager of the cgroups in paths: absolute directories keyed
// by controller ("cpu", "memory", "name=systemd"…; "unified" for the v2
// hierarchy); there must be at least one. It keeps paths and touches nothing
// until Create.
func New(paths map[string]string) *Manager {
	m := &Manager{paths: paths, made: make(map[string]bool)}
	keys := append([]string{"freezer"}, slices.Sorted(maps.Keys(paths))...)
	for _, key := range keys {
		if dir, ok := paths[key]; ok && !slices.Contains(m.dirs, dir) {
			m.dirs = append(m.dirs, dir)
		}
	}
	return m
}

// Load returns the manager of cgroups that a Manager created earlier, given
// its Paths and its Preexisting directories.
func Load(paths map[string]string, preexisting []string) *Manager {
	m := New(paths)
	for _, dir := range m.dirs {
		m.made[dir] = !slices.Contains(preexisting, dir)
	}
	return m
}

// Create makes the cgroups that do not exist yet, with any missing parents,
// and refuses ones that exist and hold a process, or are frozen, in any
// hierarchy.
func (m *Manager) Create() error {
	var created []string
	for _, dir := range m.dirs {
		dirs, err := cgdir.Mkdir(dir)
		if err != nil {
			return err
		}
		created = append(created, dirs...)
		m.made[dir] = slices.Contains(dirs, dir)
	}
	for _, dir := range m.dirs {
		if !m.made[dir] {
			if err := cgdir.CheckEmpty(dir); err != nil {
				return err
			}
		}
	}
	if err := m.checkThawed(); err != nil {
		return err
	}
	if dir, ok := m.paths["cpuset"]; ok {
		if _, _, err := inheritCpuset(dir, created); err != nil {
			return err
		}
	}
	return nil
}

// checkThawed refuses a frozen freezer cgroup, in which the container's
// init would hang. One made below a frozen cgroup is frozen too.
func (m *Manager) checkThawed() error {
	dir, err := m.freezer()
	if err != nil {
		return nil // nothing can freeze the container
	}
	frozen, err := m.Frozen()
	if err != nil {
		return err
	}
	if frozen {
		return fmt.Errorf("container's cgroup %s is frozen: thaw it, or give the container a cgroup of its own", dir)
	}
	return nil
}

// Apply moves pid into each cgroup, the freezer first: should a later one
// fail, the process is still in the tree that Kill and Destroy work on.
func (m *Manager) Apply(pid int) error {
	for _, dir := range m.dirs {
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

// Destroy removes the cgroups it made and those below them, killing
// processes that are left there. Cgroups that are already gone are not an
// error; those that were there before Create are left, with what is in them.
func (m *Manager) Destroy() error {
	var made []string
	for _, dir := range m.dirs {
		if m.made[dir] {
			made = append(made, dir)
		}
	}
	kill := m.Kill
	if !m.made[m.dirs[0]] {
		// Kill works on a tree berth did not make: kill only what is
		// in the cgroups it did.
		kill = func() error { return cgdir.KillIn(made) }
	}
	return cgdir.Destroy(made, kill)
}

// Paths returns a copy of the cgroup directories by controller key.
func (m *Manager) Paths() map[string]string {
	return maps.Clone(m.paths)
}

// Preexisting returns the directories that were there before Create.
func (m *Manager) Preexisting() []string {
	var dirs []string
	for _, dir := range m.dirs {
		if !m.made[dir] {
			dirs = append(dirs, dir)
		}
	}
	return dirs
}
