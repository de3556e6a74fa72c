// Package fs2 manages a container's cgroup on a unified (cgroup v2)
// hierarchy by reading and writing cgroupfs files directly.
package fs2

import (
	"errors"
	"fmt"
	"io/fs"

	"github.com/berthrt/berth/libcontainer/cgroups/internal/cgdir"
	"golang.org/x/sys/unix"
)

// Manager manages the cgroup of one container: one directory in the
// cgroup2 mount.
type Manager struct {
	dir string
}

// New returns the manager of the cgroup at dir, an absolute path inside a
// cgroup2 mount. It touches nothing until Apply.
func New(dir string) *Manager {
	return &Manager{dir: dir}
}

// Apply creates the cgroup and any missing parents, makes the controllers of
// the nearest existing parent available to it (see enableControllers), and
// moves pid into it.
func (m *Manager) Apply(pid int) error {
	created, err := cgdir.Mkdir(m.dir)
	if err != nil {
		return err
	}
	if err := enableControllers(m.dir, created); err != nil {
		return err
	}
	err = cgdir.AddPid(m.dir, pid)
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
// are left. A cgroup that is already gone is not an error.
func (m *Manager) Destroy() error {
	return cgdir.Destroy([]string{m.dir}, m.Kill)
}

// Paths returns the cgroup directory under the key "unified".
func (m *Manager) Paths() map[string]string {
	return map[string]string{"unified": m.dir}
}
