package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrt/berth/hack/bench/spawn"
)

// ociRuntime is one of the runtimes compared.
type ociRuntime struct {
	Name        string `json:"name"`
	Path        string `json:"path"`
	Version     string `json:"version"`
	BinaryBytes int64  `json:"binary_bytes"`
	// Exec is false for a berth that has no exec command yet.
	Exec bool `json:"exec"`
	// root is the runtime's --root, private to the benchmark.
	root string
}

// cmd returns the command line of a runtime command.
func (rt *ociRuntime) cmd(args ...string) []string {
	return append([]string{rt.Path, "--root", rt.root}, args...)
}

// probe fills in what the runtime says about itself.
func (rt *ociRuntime) probe(r *spawn.Client) error {
	st, err := os.Stat(rt.Path)
	if err != nil {
		return err
	}
	rt.BinaryBytes = st.Size()
	_, out, err := r.Run(rt.Path, "--version")
	if err != nil {
		return err
	}
	rt.Version, _, _ = strings.Cut(strings.TrimSpace(out), "\n")
	// berth's exec is being written; runc and crun have one.
	rt.Exec = true
	if rt.Name == "berth" {
		_, _, err := r.Run(rt.Path, "exec", "--help")
		rt.Exec = err == nil
	}
	return nil
}

// The processes a container runs.
var (
	argsTrue  = []string{"/bin/true"}
	argsSleep = []string{"/bin/sleep", "3600"}
)

// bundles writes one bundle per container: the config mkbundle.sh made,
// pointing at the shared root filesystem, with the container's own
// cgroupsPath and process. One config cannot serve all: each container needs
// a cgroup of its own, and the config is the only place to name it.
type bundles struct {
	base   []byte
	rootfs string
	dir    string
}

func newBundles(bundle, dir string) (*bundles, error) {
	base, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		return nil, fmt.Errorf("read base config: %w", err)
	}
	return &bundles{base: base, rootfs: filepath.Join(bundle, "rootfs"), dir: dir}, nil
}

// get returns the bundle of container id of runtime rt, writing it the first
// time. An id always runs the same process with the same namespaces.
func (b *bundles) get(rt, id string, args []string, netns bool) (string, error) {
	dir := filepath.Join(b.dir, rt, id)
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err == nil {
		return dir, nil
	}
	var s specs.Spec
	if err := json.Unmarshal(b.base, &s); err != nil {
		return "", fmt.Errorf("parse base config: %w", err)
	}
	if s.Process == nil || s.Linux == nil {
		return "", fmt.Errorf("base config has no process or linux section")
	}
	// crun 1.8.1 refuses any ociVersion but 1.0.x; nothing used here is
	// newer.
	s.Version = "1.0.2"
	s.Root = &specs.Root{Path: b.rootfs, Readonly: true}
	s.Process.Args = args
	// Relative: below the runtime's own cgroup, which in the benchmark's
	// cgroup namespace is the namespace's root, for all three runtimes.
	s.Linux.CgroupsPath = rt + "/" + id
	if !netns {
		s.Linux.Namespaces = slices.DeleteFunc(s.Linux.Namespaces, func(ns specs.LinuxNamespace) bool {
			return ns.Type == specs.NetworkNamespace
		})
	}
	data, err := json.Marshal(&s)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		return "", err
	}
	return dir, nil
}

// readPidFile reads a pid file a runtime wrote.
func readPidFile(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0, fmt.Errorf("pid file %s: %w", path, err)
	}
	return pid, nil
}

// statusKiB returns a size field ("VmRSS", "VmHWM") of /proc/<pid>/status
// in KiB.
func statusKiB(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// checkCgroups checks that process pid is in cgroup want in every v1
// hierarchy as this cgroup namespace shows it, i.e. below the benchmark's
// cgroup on the host.
func checkCgroups(pid int, want string) error {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		fields := strings.SplitN(line, ":", 3)
		if len(fields) != 3 || fields[1] == "" {
			continue // the unified hierarchy, not in the v1 view
		}
		if fields[2] != want {
			return fmt.Errorf("container process %d is in %s cgroup %s, want %s", pid, fields[1], fields[2], want)
		}
	}
	return nil
}
