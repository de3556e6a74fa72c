package libcontainer

import (
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrt/berth/libcontainer/cgroups/devices"
)

func ptr[T any](v T) *T { return &v }

func TestMergeResources(t *testing.T) {
	old := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: ptr[int64](100), Swap: ptr[int64](200)},
		CPU:     &specs.LinuxCPU{Quota: ptr[int64](5000), Period: ptr[uint64](100000), Cpus: "0"},
		Unified: map[string]string{"memory.high": "1", "pids.max": "3"},
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
	}
	update := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: ptr[int64](-1)},
		CPU:     &specs.LinuxCPU{Quota: ptr[int64](7000)},
		Pids:    &specs.LinuxPids{Limit: ptr[int64](9)},
		Unified: map[string]string{"memory.high": "2"},
	}
	got := mergeResources(old, update)
	want := &specs.LinuxResources{
		// No memory limit lifts the swap limit too.
		Memory:  &specs.LinuxMemory{Limit: ptr[int64](-1), Swap: ptr[int64](-1)},
		CPU:     &specs.LinuxCPU{Quota: ptr[int64](7000), Period: ptr[uint64](100000), Cpus: "0"},
		Pids:    &specs.LinuxPids{Limit: ptr[int64](9)},
		Unified: map[string]string{"memory.high": "2", "pids.max": "3"},
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mergeResources =\n%+v\nwant\n%+v", got, want)
	}
	if *old.Memory.Limit != 100 || *old.CPU.Quota != 5000 || old.Unified["memory.high"] != "1" || old.Pids != nil {
		t.Errorf("mergeResources changed old: %+v", old)
	}
	if got := mergeResources(nil, nil); !reflect.DeepEqual(got, &specs.LinuxResources{}) {
		t.Errorf("mergeResources(nil, nil) = %+v", got)
	}
}

func TestContainerResources(t *testing.T) {
	s := &specs.Spec{Linux: &specs.Linux{
		Devices:   []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}},
		Resources: &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}},
	}}
	r := containerResources(s)
	want := append([]specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}, devices.DefaultRules()...)
	if !reflect.DeepEqual(r.Devices, want) {
		t.Errorf("device rules = %+v, want the config's, then the defaults, and none for linux.devices", r.Devices)
	}
	if len(s.Linux.Resources.Devices) != 1 {
		t.Errorf("containerResources changed the spec: %+v", s.Linux.Resources.Devices)
	}
}
