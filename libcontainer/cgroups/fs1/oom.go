package fs1

import (
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/libcontainer/cgroups/internal/cgdir"
)

// NotifyOOM returns a channel that receives a value each time the
// container's memory cgroup runs out of memory, and is closed once the
// cgroup is removed. It registers an eventfd for memory.oom_control, which
// the kernel signals on each OOM and once more when the cgroup goes.
func (m *Manager) NotifyOOM() (<-chan struct{}, error) {
	dir, ok := m.paths["memory"]
	if !ok {
		return nil, errors.New("watch for OOM: the memory cgroup controller is not mounted")
	}
	control, err := unix.Open(dir+"/memory.oom_control", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("watch for OOM in cgroup %s: %w", dir, err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(control)
		return nil, fmt.Errorf("watch for OOM in cgroup %s: eventfd: %w", dir, err)
	}
	if err := cgdir.WriteFile(dir, "cgroup.event_control", strconv.Itoa(efd)+" "+strconv.Itoa(control)); err != nil {
		unix.Close(control)
		unix.Close(efd)
		return nil, fmt.Errorf("watch for OOM in cgroup %s: %w", dir, err)
	}
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		defer unix.Close(control)
		defer unix.Close(efd)
		buf := make([]byte, 8)
		for {
			_, err := unix.Read(efd, buf)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if err != nil || !cgdir.Exists(dir, "cgroup.event_control") {
				return
			}
			ch <- struct{}{}
		}
	}()
	return ch, nil
}
