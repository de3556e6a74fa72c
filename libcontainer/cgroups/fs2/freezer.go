package fs2

import (
	"fmt"
	"strings"

	"github.com/berthrt/berth/libcontainer/cgroups/internal/cgdir"
)

// Freeze stops every process in the cgroup tree and returns once the kernel
// reports the tree frozen. If that takes longer than cgdir.Timeout (a process
// stuck in the kernel), it thaws the tree again rather than leave it half
// frozen, and fails.
func (m *Manager) Freeze() error {
	if err := cgdir.WriteFile(m.dir, "cgroup.freeze", "1"); err != nil {
		return fmt.Errorf("freeze cgroup %s: %w", m.dir, err)
	}
	done, err := cgdir.Poll(cgdir.Timeout, m.frozen)
	if err == nil && !done {
		err = fmt.Errorf("not frozen after %v", cgdir.Timeout)
	}
	if err != nil {
		_ = m.Thaw()
		return fmt.Errorf("freeze cgroup %s: %w", m.dir, err)
	}
	return nil
}

// Thaw lets the processes of a frozen cgroup tree run again.
func (m *Manager) Thaw() error {
	if err := cgdir.WriteFile(m.dir, "cgroup.freeze", "0"); err != nil {
		return fmt.Errorf("thaw cgroup %s: %w", m.dir, err)
	}
	return nil
}

// Frozen reports whether the cgroup tree is frozen.
func (m *Manager) Frozen() (bool, error) {
	frozen, err := m.frozen()
	if err != nil {
		return false, fmt.Errorf("read freezer state of cgroup %s: %w", m.dir, err)
	}
	return frozen, nil
}

// frozen reports whether cgroup.events says the whole tree is frozen; writing
// cgroup.freeze only asks for it.
func (m *Manager) frozen() (bool, error) {
	events, err := cgdir.ReadFile(m.dir, "cgroup.events")
	if err != nil {
		return false, err
	}
	for line := range strings.Lines(events) {
		if key, value, _ := strings.Cut(strings.TrimSpace(line), " "); key == "frozen" {
			return value == "1", nil
		}
	}
	return false, fmt.Errorf("no frozen field in cgroup.events")
}
