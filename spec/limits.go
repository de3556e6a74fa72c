package spec

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Limits on what a config may ask for. Past one a config can never run
// (the kernel would refuse it part way through create), or would cost
// time and memory that grow faster than the config does, with the
// container half made. Validate checks them before anything is made;
// docs/security.md gives the figures behind each.
const (
	// MaxConfigSize is the most config.json may hold. Real configs take
	// tens of KB; one at the other limits (6 MiB of environment, 4096
	// mounts and seccomp rules) stays well below it. Decoding costs
	// about 7 times a config's size in memory.
	MaxConfigSize = 16 << 20
	// MaxMounts is the most mounts, maskedPaths and readonlyPaths may
	// make together. The kernel's fs.mount-max (100000 by default)
	// counts the mounts of a whole namespace, the host's copies too, and
	// its lookups through mounts stacked on one path take time that
	// grows with the square of their number (12000: 4.4 s of CPU).
	MaxMounts = 4096
	// MaxDeviceRules is the most linux.resources.devices rules. The v1
	// devices cgroup walks its list for each rule written (64000 rules:
	// 23 s of kernel CPU).
	MaxDeviceRules = 4096
	// MaxIDMappings is the most lines the kernel takes in a uid_map or
	// gid_map (340 since Linux 4.15).
	MaxIDMappings = 340
	// MaxHooks is the most hooks of all kinds together: each is a process
	// berth runs and waits for in turn.
	MaxHooks = 1024
)

// checkLimits refuses a config that asks for more than the limits allow.
func checkLimits(s *specs.Spec) error {
	mounts := len(s.Mounts)
	if s.Linux != nil {
		mounts += len(s.Linux.MaskedPaths) + len(s.Linux.ReadonlyPaths)
	}
	if mounts > MaxMounts {
		return fmt.Errorf("mounts, maskedPaths and readonlyPaths make %d mounts, more than berth's limit of %d", mounts, MaxMounts)
	}
	for i, m := range s.Mounts {
		if err := checkIDMappings(fmt.Sprintf("mounts[%d].", i), m.UIDMappings, m.GIDMappings); err != nil {
			return err
		}
	}
	if h := s.Hooks; h != nil {
		if n := len(h.Prestart) + len(h.CreateRuntime) + len(h.CreateContainer) + len(h.StartContainer) + len(h.Poststart) + len(h.Poststop); n > MaxHooks {
			return fmt.Errorf("hooks: %d hooks, more than berth's limit of %d", n, MaxHooks)
		}
	}
	if l := s.Linux; l != nil {
		if err := checkIDMappings("linux.", l.UIDMappings, l.GIDMappings); err != nil {
			return err
		}
		if r := l.Resources; r != nil && len(r.Devices) > MaxDeviceRules {
			return fmt.Errorf("linux.resources.devices: %d rules, more than berth's limit of %d", len(r.Devices), MaxDeviceRules)
		}
	}
	return nil
}

func checkIDMappings(prefix string, uids, gids []specs.LinuxIDMapping) error {
	for _, m := range []struct {
		name string
		list []specs.LinuxIDMapping
	}{{"uidMappings", uids}, {"gidMappings", gids}} {
		if len(m.list) > MaxIDMappings {
			return fmt.Errorf("%s%s: %d mappings, more than the kernel's limit of %d lines in an id map", prefix, m.name, len(m.list), MaxIDMappings)
		}
	}
	return nil
}
