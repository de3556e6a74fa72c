package fs2

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The v2 files are checked against the kernel by the integration tests in
// the cgroup v2 VM; these tests pin what Set writes, on a directory of
// plain files standing in for a cgroup, so that they run anywhere.

func fakeCgroup(t *testing.T, controllers string, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range append(files, "cgroup.controllers") {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.controllers"), []byte(controllers+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func ptr[T any](v T) *T { return &v }

func TestSetWrites(t *testing.T) {
	dir := fakeCgroup(t, "cpuset cpu io memory pids",
		"memory.max", "memory.low", "memory.swap.max", "cpu.weight", "cpu.max", "cpu.max.burst",
		"cpu.idle", "pids.max", "io.weight", "io.max", "cpuset.cpus", "cpuset.mems", "memory.high")
	m := New(dir)
	r := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: ptr[int64](100), Swap: ptr[int64](300), Reservation: ptr[int64](-1)},
		CPU:     &specs.LinuxCPU{Shares: ptr[uint64](1024), Quota: ptr[int64](-1), Burst: ptr[uint64](5), Cpus: "0-1", Mems: "0"},
		Pids:    &specs.LinuxPids{Limit: ptr[int64](0)},
		BlockIO: &specs.LinuxBlockIO{Weight: ptr[uint16](1000), ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}, Rate: 7}}},
		Unified: map[string]string{"memory.high": "50"},
	}
	if err := m.Validate(r); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]string{
		"memory.max": "100", "memory.swap.max": "200", "memory.low": "max",
		"cpu.weight": "100", "cpu.max": "max 100000", "cpu.max.burst": "5",
		"cpuset.cpus": "0-1", "cpuset.mems": "0", "pids.max": "max",
		"io.weight": "10000", "io.max": "8:16 wiops=7", "memory.high": "50",
	} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil || string(data) != want {
			t.Errorf("%s = %q, %v; want %q", file, data, err, want)
		}
	}
}

func TestSetIdleSkipsWeight(t *testing.T) {
	dir := fakeCgroup(t, "cpu", "cpu.idle", "cpu.weight")
	if err := New(dir).Set(&specs.LinuxResources{CPU: &specs.LinuxCPU{Idle: ptr[int64](1), Shares: ptr[uint64](4096)}}); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "cpu.weight")); len(data) != 0 {
		t.Errorf("cpu.weight = %q next to cpu.idle 1, want it untouched", data)
	}
}

func TestSetMissingFile(t *testing.T) {
	dir := fakeCgroup(t, "memory")
	err := New(dir).Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](1 << 20)}})
	if err == nil || !strings.Contains(err.Error(), "set memory.max to \"1048576\" in cgroup "+dir+": the kernel does not provide memory.max") {
		t.Errorf("Set without memory.max: %v", err)
	}
}

func TestValidateV2(t *testing.T) {
	dir := fakeCgroup(t, "cpu pids")
	// A cgroup not made yet is checked against its nearest parent.
	m := New(filepath.Join(dir, "a", "b"))
	tests := []struct {
		r    specs.LinuxResources
		want string
	}{
		{specs.LinuxResources{Pids: &specs.LinuxPids{Limit: ptr[int64](5)}}, ""},
		{specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](5)}}, "memory needs the memory cgroup controller, which cgroup " + dir + " does not have"},
		{specs.LinuxResources{Unified: map[string]string{"io.max": "x"}}, `unified key "io.max" needs the io cgroup controller`},
		{specs.LinuxResources{Unified: map[string]string{"cgroup.max.depth": "3"}}, ""},
		{specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: ptr[uint32](1)}}, "on cgroup v2: network"},
		{specs.LinuxResources{CPU: &specs.LinuxCPU{RealtimeRuntime: ptr[int64](1)}}, "on cgroup v2: cpu.realtimeRuntime"},
		{specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{LeafWeight: ptr[uint16](100)}}, "on cgroup v2: blockIO leafWeight"},
		{specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: ptr[uint64](1)}}, "on cgroup v2: memory.swappiness"},
		{specs.LinuxResources{Memory: &specs.LinuxMemory{DisableOOMKiller: ptr(true)}}, "on cgroup v2: memory.disableOOMKiller"},
		{specs.LinuxResources{Memory: &specs.LinuxMemory{DisableOOMKiller: ptr(false)}}, ""},
	}
	for _, tt := range tests {
		err := m.Validate(&tt.r)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("Validate(%+v) = %v, want %q", tt.r, err, tt.want)
		}
	}
}
