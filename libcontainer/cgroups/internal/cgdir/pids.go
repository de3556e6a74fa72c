package cgdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Pids lists the processes in the cgroup at dir and in every cgroup below
// it, sorted and without duplicates (a v1 cgroup.procs may repeat a pid).
func Pids(dir string) ([]int, error) {
	pids, err := appendPids(nil, dir)
	if err != nil {
		return nil, err
	}
	slices.Sort(pids)
	return slices.Compact(pids), nil
}

func appendPids(pids []int, dir string) ([]int, error) {
	data, err := ReadFile(dir, "cgroup.procs")
	if err != nil {
		return nil, fmt.Errorf("list pids in cgroup %s: %w", dir, err)
	}
	for _, field := range strings.Fields(data) {
		pid, err := strconv.Atoi(field)
		if err != nil {
			return nil, fmt.Errorf("list pids in cgroup %s: %w", dir, err)
		}
		pids = append(pids, pid)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list pids in cgroup %s: %w", dir, err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		more, err := appendPids(pids, filepath.Join(dir, e.Name()))
		switch {
		case err == nil:
			pids = more
		case errors.Is(err, fs.ErrNotExist):
			// The child cgroup went away while we walked, and its
			// processes with it.
		default:
			return nil, err
		}
	}
	return pids, nil
}

// CheckEmpty fails when the cgroup at dir, or one below it, holds a
// process: a cgroup that was there before the container must not be
// shared with processes that are not the container's, which its limits,
// pause and kill would reach.
func CheckEmpty(dir string) error {
	pids, err := Pids(dir)
	if err != nil {
		return err
	}
	if len(pids) > 0 {
		return fmt.Errorf("container's cgroup is not empty: %d process(es) found in %s; give the container a cgroup of its own", len(pids), dir)
	}
	return nil
}

// KillIn sends SIGKILL to every process in the cgroups at dirs and the
// cgroups below them. It does not freeze them first: a process forked
// meanwhile escapes this call, so call it until the cgroups are empty.
func KillIn(dirs []string) error {
	var errs []error
	for _, dir := range dirs {
		pids, err := Pids(dir)
		switch {
		case errors.Is(err, fs.ErrNotExist): // gone, and its processes with it
		case err != nil:
			errs = append(errs, err)
		default:
			errs = append(errs, signalAll(pids))
		}
	}
	return errors.Join(errs...)
}

// Tree is a cgroup tree whose processes can be stopped and listed; both
// drivers' managers are one.
type Tree interface {
	Freeze() error
	Thaw() error
	Pids() ([]int, error)
}

// KillFrozen sends SIGKILL to every process in t while t is frozen, so that
// no process can fork a child the kill would miss. Frozen processes die once
// t is thawed, which KillFrozen does before it returns. If t cannot be
// frozen it still kills what it can find and reports why.
func KillFrozen(t Tree) error {
	freezeErr := t.Freeze()
	pids, err := t.Pids()
	if err == nil {
		err = signalAll(pids)
	}
	return errors.Join(freezeErr, err, t.Thaw())
}

func signalAll(pids []int) error {
	var errs []error
	for _, pid := range pids {
		if err := unix.Kill(pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("kill pid %d: %w", pid, err))
		}
	}
	return errors.Join(errs...)
}
