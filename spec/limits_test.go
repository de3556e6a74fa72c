package spec_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrt/berth/spec"
)

// TestLimits checks that a config at each limit loads and one past it
// is refused, naming the limit.
func TestLimits(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(s *specs.Spec, n int)
		max  int
		want string
	}{
		{"mounts", func(s *specs.Spec, n int) {
			s.Linux.MaskedPaths = []string{"/proc/kcore"}
			s.Mounts = make([]specs.Mount, n-1)
			for i := range s.Mounts {
				s.Mounts[i] = specs.Mount{Destination: "/m", Type: "tmpfs"}
			}
		}, spec.MaxMounts, "make 4097 mounts, more than berth's limit of 4096"},
		{"device rules", func(s *specs.Spec, n int) {
			s.Linux.Resources = &specs.LinuxResources{Devices: make([]specs.LinuxDeviceCgroup, n)}
		}, spec.MaxDeviceRules, "linux.resources.devices: 4097 rules"},
		{"uid mappings", func(s *specs.Spec, n int) {
			s.Linux.Namespaces = []specs.LinuxNamespace{{Type: specs.UserNamespace}}
			s.Linux.UIDMappings = make([]specs.LinuxIDMapping, n)
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{Size: 1}}
		}, spec.MaxIDMappings, "linux.uidMappings: 341 mappings, more than the kernel's limit of 340"},
		{"idmapped mount", func(s *specs.Spec, n int) {
			s.Mounts = []specs.Mount{{Destination: "/m", Type: "bind", GIDMappings: make([]specs.LinuxIDMapping, n)}}
		}, spec.MaxIDMappings, "mounts[0].gidMappings: 341 mappings"},
		{"hooks", func(s *specs.Spec, n int) {
			s.Hooks = &specs.Hooks{Poststop: make([]specs.Hook, n/2), Prestart: make([]specs.Hook, n-n/2)}
		}, spec.MaxHooks, "hooks: 1025 hooks, more than berth's limit of 1024"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for n, want := range map[int]string{tc.max: "", tc.max + 1: tc.want} {
				var s specs.Spec
				if err := json.Unmarshal([]byte(minimalConfig), &s); err != nil {
					t.Fatal(err)
				}
				tc.set(&s, n)
				data, err := json.Marshal(&s)
				if err != nil {
					t.Fatal(err)
				}
				config := string(data)
				bundle := newBundle(t, &config)
				_, _, err = spec.Load(bundle)
				checkErr(t, err, bundle, want)
			}
		})
	}
}

func TestConfigSizeLimit(t *testing.T) {
	config := minimalConfig + strings.Repeat(" ", spec.MaxConfigSize-len(minimalConfig))
	bundle := newBundle(t, &config)
	if _, _, err := spec.Load(bundle); err != nil {
		t.Fatalf("a config of exactly MaxConfigSize: %v", err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), []byte(config+" "), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := spec.Load(bundle)
	checkErr(t, err, bundle, `load bundle "$B": config.json is larger than berth's limit of 16 MiB`)
}
