// Package fs2 manages a container's cgroup on a unified (cgroup v2)
// hierarchy by reading and writing cgroupfs files directly.
package fs2

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/berthrt/berth/libcontainer/cgroups/internal/cgdir"
	"golang.org/x/sys/unix"
)

// Manager manages the cgroup of one container: one directory in the
// cgroup2 mount.
type Manager struct {
	dir string
	// made reports that Create made dir, or that Load was not told it was
	// there before: only then does Destroy remove it.
	made bool
}

// New returns the manager of the cgroup at dir, an absolute path inside a
// cgroup2 mount. It touches nothing until Create.
func New(dir string) *Manager {
	return &Manager{dir: dir}
}

// Load returns the manager of a cgroup that a Manager created earlier,
// given its directory and whether Preexisting reported it.
func Load(dir string, preexisting bool) *Manager {
	return &Manager{dir: dir, made: !preexisting}
}

// Create makes the cgroup and any missing parents, and makes the
// controllers of the nearest existing parent available to it (see
// enableControllers). It refuses a cgroup that exists and holds a process,
// or one that is frozen.
func (m *Manager) Create() error {
	created, err := cgdir.Mkdir(m.dir)
	if err != nil {
		return err
	}
	m.made = slices.Contains(created, m.dir)
	if !m.made {
		if err := cgdir.CheckEmpty(m.dir); err != nil {
			return err
		}
	}
	// A cgroup made below a frozen one is frozen too; the container's
	// init would hang in it.
	frozen, err := m.Frozen()
	if err != nil {
		return err
	}
	if frozen {
		return fmt.Errorf("container's cgroup %s is frozen: thaw it, or give the container a cgroup of its own", m.dir)
	}
	return enableControllers(m.dir, created)
}

// Apply moves pid into the cgroup.
func (m *Manager) Apply(pid int) error {
	err := cgdir.AddPid(m.dir, pid)
	if errors.Is(err, unix.EBUSY) {
		return fmt.Errorf("%w (cgroup v2 puts processes only in cgroups that have no controllers enabled for children; give the container a leaf cgroup)", err)
	}
	return err
}

// Pids lists every process in the cgroup and in the cgroups below it.
func (m *Manager) Pids() ([]int, error) {
	return cgdir.Pids(m.dir)
}

// Kill sends SIGKILL to every process in the cgroup tree. The kernel does it
// atomically through cgroup.kill; kernels older than 5.14 lack that file, and
// there the tree is frozen first so that no fork escapes.
func (m *Manager) Kill() error {
	err := cgdir.WriteFile(m.dir, "cgroup.kill", "1")
	if errors.Is(err, fs.ErrNotExist) {
		return cgdir.KillFrozen(m)
	}
	if err != nil {
		return fmt.Errorf("kill cgroup %s: %w", m.dir, err)
	}
	return nil
}

// Destroy removes the cgroup and those below it, killing processes that
// are left, if Create made it: one that was there before is left, with what
// is in it. A cgroup that is already gone is not an error.
func (m *Manager) Destroy() error {
	if !m.made {
		return nil
	}
	return cgdir.Destroy([]string{m.dir}, m.Kill)
}

// Paths returns the cgroup directory under the key "unified".
func (m *Manager) Paths() map[string]string {
	return map[string]string{"unified": m.dir}
}

// Preexisting returns the directory if it was there before Create.
func (m *Manager) Preexisting() []string {
	if m.made {
		return nil
	}
	return []string{m.dir}
}
