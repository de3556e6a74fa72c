package cgdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Timeout bounds how long the drivers wait for the kernel to settle a
// cgroup: to report it frozen, or to let its killed processes go.
const Timeout = 3 * time.Second

// Poll calls check until it reports done or fails, sleeping 1 ms, 2 ms,
// 4 ms… up to 32 ms in between: the kernel usually settles within a
// millisecond, and a long fixed poll would make every container operation
// that slow. It gives up after limit and reports done false.
func Poll(limit time.Duration, check func() (done bool, err error)) (bool, error) {
	deadline := time.Now().Add(limit)
	for sleep := time.Millisecond; ; sleep = min(2*sleep, 32*time.Millisecond) {
		done, err := check()
		if done || err != nil {
			return done, err
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		time.Sleep(sleep)
	}
}

// Remove removes the cgroup at dir and every cgroup below it; a missing dir
// is not an error. It fails with EBUSY while a process is left in any of them.
func Remove(dir string) error {
	err := unix.Rmdir(dir)
	if err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	if !errors.Is(err, unix.EBUSY) {
		return fmt.Errorf("remove cgroup %s: %w", dir, err)
	}
	// Busy means child cgroups, processes, or both: only listing tells.
	// Trying rmdir first keeps the common, childless case to one syscall.
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("remove cgroup %s: %w", dir, err)
	}
	children := false
	for _, e := range entries {
		if e.IsDir() {
			children = true
			if err := Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	if !children {
		return fmt.Errorf("remove cgroup %s: %w", dir, unix.EBUSY)
	}
	if err := unix.Rmdir(dir); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove cgroup %s: %w", dir, err)
	}
	return nil
}

// Destroy removes the cgroup trees at dirs. While processes keep one busy,
// it calls kill and tries again, as killed processes take a moment to leave.
// It stops trying after Timeout, or once more that if a kill waits as long
// for a freezer. A missing dir is not an error.
func Destroy(dirs []string, kill func() error) error {
	busy := dirs
	var killErr error
	done, err := Poll(Timeout, func() (bool, error) {
		var errs []error
		var next []string
		for _, dir := range busy {
			if err := Remove(dir); errors.Is(err, unix.EBUSY) {
				next = append(next, dir)
			} else if err != nil {
				errs = append(errs, err)
			}
		}
		busy = next
		if len(errs) > 0 {
			return false, errors.Join(errs...)
		}
		if len(busy) == 0 {
			return true, nil
		}
		killErr = kill()
		return false, nil
	})
	if err != nil || done {
		return err
	}
	err = fmt.Errorf("remove cgroups %s: processes still there after %v", strings.Join(busy, ", "), Timeout)
	if killErr != nil {
		err = fmt.Errorf("%w; last kill: %w", err, killErr)
	}
	return err
}
