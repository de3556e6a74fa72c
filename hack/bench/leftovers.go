package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// leftovers deletes what the runtimes left behind and reports it: a
// container still listed, a container's cgroup, a process other than this
// one below the benchmark's cgroup. Each is a runtime's bug or the trace of
// a failure reported elsewhere; the outer process kills and removes what
// remains in the cgroup in any case.
func (b *bench) leftovers() error {
	var errs []error
	for _, rt := range b.rts {
		_, out, err := b.run(rt.cmd("list", "-q")...)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", rt.Name, err))
			continue
		}
		for _, id := range strings.Fields(out) {
			errs = append(errs, fmt.Errorf("%s left container %s behind", rt.Name, id))
			b.remove(rt, id)
		}
	}
	cgroups, err := containerCgroups()
	if err != nil {
		errs = append(errs, err)
	}
	for _, c := range cgroups {
		errs = append(errs, fmt.Errorf("cgroup %s left behind", c))
	}
	// Processes killed after a failure may still be on their way out.
	var pids []int
	for range 50 {
		if pids, err = strangers(b.r.Pid()); err != nil || len(pids) == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		errs = append(errs, err)
	}
	if len(pids) > 0 {
		errs = append(errs, fmt.Errorf("processes left behind: %v", pids))
	}
	return errors.Join(errs...)
}

// containerCgroups lists the containers' cgroups (<runtime>/<id>) that exist
// in any hierarchy; the runtimes' parent cgroups may stay.
func containerCgroups() ([]string, error) {
	hierarchies, err := os.ReadDir(cgroupRoot)
	if err != nil {
		return nil, err
	}
	var found []string
	for _, h := range hierarchies {
		if !h.IsDir() {
			continue // a co-mounted controller's symlink
		}
		root := filepath.Join(cgroupRoot, h.Name())
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			if strings.Count(rel, "/") == 1 {
				if !slices.Contains(found, rel) {
					found = append(found, rel)
				}
				return fs.SkipDir
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("look for cgroups left behind: %w", err)
		}
	}
	return found, nil
}

// strangers lists the processes in the benchmark's cgroup and below, as the
// freezer hierarchy sees them, other than this one and the spawner.
func strangers(spawner int) ([]int, error) {
	var pids []int
	err := filepath.WalkDir(filepath.Join(cgroupRoot, "freezer"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, f := range strings.Fields(string(data)) {
			if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() && pid != spawner {
				pids = append(pids, pid)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("look for processes left behind: %w", err)
	}
	return pids, nil
}
