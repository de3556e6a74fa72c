package fs2

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/libcontainer/cgroups/internal/cgdir"
)

// NotifyOOM returns a channel that receives a value each time the kernel
// OOM-kills a process of the cgroup, and is closed once the cgroup is empty
// or gone.
// The kernel reports both through memory.events and cgroup.events, which
// inotify sees change.
func (m *Manager) NotifyOOM() (<-chan struct{}, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("watch for OOM in cgroup %s: inotify: %w", m.dir, err)
	}
	for _, file := range []string{"memory.events", "cgroup.events"} {
		if _, err := unix.InotifyAddWatch(fd, m.dir+"/"+file, unix.IN_MODIFY); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("watch for OOM in cgroup %s: watch %s: %w", m.dir, file, err)
		}
	}
	seen, err := m.oomCount()
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("watch for OOM in cgroup %s: %w", m.dir, err)
	}
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		defer unix.Close(fd)
		buf := make([]byte, 4096)
		for {
			_, err := unix.Read(fd, buf)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil {
				return
			}
			count, err := m.oomCount()
			if err != nil {
				return
			}
			if count > seen {
				seen = count
				ch <- struct{}{}
			}
			if !m.populated() {
				return
			}
		}
	}()
	return ch, nil
}

// oomCount reads how many processes of the cgroup the OOM killer killed.
func (m *Manager) oomCount() (uint64, error) {
	kv, err := cgdir.ReadKeyValues(m.dir, "memory.events")
	if err != nil {
		return 0, err
	}
	return kv["oom_kill"], nil
}

func (m *Manager) populated() bool {
	events, err := cgdir.ReadFile(m.dir, "cgroup.events")
	return err == nil && strings.Contains(events, "populated 1")
}
