package fs1

import (
	"errors"
	"fmt"
	"strings"

	"github.com/berthrt/berth/libcontainer/cgroups/internal/cgdir"
)

// Freeze stops every process in the container's freezer cgroup and the
// cgroups below it, and returns once the kernel reports the state FROZEN
// rather than FREEZING. If that takes longer than cgdir.Timeout (a process
// stuck in the kernel), it thaws the cgroup again rather than leave it half
// frozen, and fails.
func (m *Manager) Freeze() error {
	dir, err := m.freezer()
	if err != nil {
		return fmt.Errorf("freeze: %w", err)
	}
	if err := cgdir.WriteFile(dir, "freezer.state", "FROZEN"); err != nil {
		return fmt.Errorf("freeze cgroup %s: %w", dir, err)
	}
	var state string
	done, err := cgdir.Poll(cgdir.Timeout, func() (bool, error) {
		s, err := cgdir.ReadFile(dir, "freezer.state")
		state = strings.TrimSpace(s)
		return state == "FROZEN", err
	})
	if err == nil && !done {
		err = fmt.Errorf("still %s after %v", state, cgdir.Timeout)
	}
	if err != nil {
		_ = m.Thaw()
		return fmt.Errorf("freeze cgroup %s: %w", dir, err)
	}
	return nil
}

// Thaw lets the processes of the frozen freezer cgroup run again.
func (m *Manager) Thaw() error {
	dir, err := m.freezer()
	if err != nil {
		return fmt.Errorf("thaw: %w", err)
	}
	if err := cgdir.WriteFile(dir, "freezer.state", "THAWED"); err != nil {
		return fmt.Errorf("thaw cgroup %s: %w", dir, err)
	}
	return nil
}

// Frozen reports whether the freezer cgroup is frozen, or freezing.
func (m *Manager) Frozen() (bool, error) {
	dir, err := m.freezer()
	if err != nil {
		return false, err
	}
	state, err := cgdir.ReadFile(dir, "freezer.state")
	if err != nil {
		return false, fmt.Errorf("read freezer state of cgroup %s: %w", dir, err)
	}
	return strings.TrimSpace(state) != "THAWED", nil
}

func (m *Manager) freezer() (string, error) {
	dir, ok := m.paths["freezer"]
	if !ok {
		return "", errors.New("no freezer cgroup: the freezer controller is not mounted")
	}
	return dir, nil
}
