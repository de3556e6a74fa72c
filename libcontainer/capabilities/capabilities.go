// Package capabilities turns the OCI process.capabilities sets into the
// calling thread's capability state.
//
// Capability state is per thread on Linux, so callers must run on a locked OS
// thread and exec from that same thread.
package capabilities

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// byName maps "CAP_CHOWN"-style names to capability numbers.
var byName = func() map[string]capability.Cap {
	m := make(map[string]capability.Cap)
	for _, c := range capability.ListKnown() {
		m["CAP_"+strings.ToUpper(c.String())] = c
	}
	return m
}()

// Known returns the names of every capability this build knows, sorted.
func Known() []string {
	return slices.Sorted(maps.Keys(byName))
}

// Parse converts capability names to numbers. Names unknown to this build
// are an error, because silently granting less than asked would surprise
// the caller; names the running kernel lacks are dropped, as runc does.
func Parse(names []string) ([]capability.Cap, error) {
	last, err := capability.LastCap()
	if err != nil {
		return nil, err
	}
	caps := make([]capability.Cap, 0, len(names))
	for _, n := range names {
		c, ok := byName[strings.ToUpper(n)]
		if !ok {
			return nil, fmt.Errorf("unknown capability %q", n)
		}
		if c <= last {
			caps = append(caps, c)
		}
	}
	return caps, nil
}

// Validate reports the first unknown capability name in any set.
func Validate(c *specs.LinuxCapabilities) error {
	if c == nil {
		return nil
	}
	for _, set := range [][]string{c.Bounding, c.Effective, c.Permitted, c.Inheritable, c.Ambient} {
		if _, err := Parse(set); err != nil {
			return err
		}
	}
	return nil
}

// Set holds the parsed capability sets of one process.
type Set struct {
	bounding, effective, permitted, inheritable, ambient []capability.Cap
}

// New parses all five sets. A nil spec means "no capabilities at all".
func New(c *specs.LinuxCapabilities) (*Set, error) {
	if c == nil {
		c = &specs.LinuxCapabilities{}
	}
	var s Set
	for _, p := range []struct {
		dst   *[]capability.Cap
		names []string
	}{
		{&s.bounding, c.Bounding},
		{&s.effective, c.Effective},
		{&s.permitted, c.Permitted},
		{&s.inheritable, c.Inheritable},
		{&s.ambient, c.Ambient},
	} {
		caps, err := Parse(p.names)
		if err != nil {
			return nil, err
		}
		*p.dst = caps
	}
	// Ambient capabilities the kernel would not raise are left out (see
	// Unraisable).
	s.ambient = slices.DeleteFunc(s.ambient, func(c capability.Cap) bool {
		return !slices.Contains(s.inheritable, c) || !slices.Contains(s.permitted, c)
	})
	return &s, nil
}

// Unraisable names the ambient capabilities of c that are not both
// permitted and inheritable. The kernel raises no such capability, and
// New leaves them out rather than fail: `runc spec` writes ambient sets
// that are not inheritable, and runc starts them, raising none of these
// (newer runc warns, as berth's callers do with this list).
func Unraisable(c *specs.LinuxCapabilities) []string {
	if c == nil {
		return nil
	}
	var names []string
	for _, n := range c.Ambient {
		if !containsName(c.Inheritable, n) || !containsName(c.Permitted, n) {
			names = append(names, n)
		}
	}
	return names
}

func containsName(set []string, name string) bool {
	return slices.ContainsFunc(set, func(n string) bool { return strings.EqualFold(n, name) })
}

// ApplyBounding drops every capability outside the bounding set. It needs
// CAP_SETPCAP, so it runs before the process changes its user.
func (s *Set) ApplyBounding() error {
	caps, err := capability.NewPid2(0)
	if err != nil {
		return fmt.Errorf("read capabilities: %w", err)
	}
	caps.Clear(capability.BOUNDING)
	caps.Set(capability.BOUNDING, s.bounding...)
	if err := caps.Apply(capability.BOUNDS); err != nil {
		return fmt.Errorf("drop bounding capabilities: %w", err)
	}
	return nil
}

// Apply sets the effective, permitted, inheritable and ambient sets. It runs
// after the user change (with PR_SET_KEEPCAPS held across it), so that the
// new uid keeps exactly the capabilities the config grants.
func (s *Set) Apply() error {
	caps, err := capability.NewPid2(0)
	if err != nil {
		return fmt.Errorf("read capabilities: %w", err)
	}
	caps.Clear(capability.CAPS | capability.AMBIENT)
	caps.Set(capability.EFFECTIVE, s.effective...)
	caps.Set(capability.PERMITTED, s.permitted...)
	caps.Set(capability.INHERITABLE, s.inheritable...)
	caps.Set(capability.AMBIENT, s.ambient...)
	if err := caps.Apply(capability.CAPS); err != nil {
		return fmt.Errorf("set capabilities: %w", err)
	}
	// New kept only ambient capabilities that are permitted and
	// inheritable, which the kernel raises.
	if err := caps.Apply(capability.AMBS); err != nil {
		return fmt.Errorf("set ambient capabilities: %w", err)
	}
	return nil
}

// Masks returns the five sets as bit masks (bit N for capability N), for
// code that sets them without this package (libcontainer/nsenter/exec.c).
func (s *Set) Masks() (bounding, effective, permitted, inheritable, ambient uint64) {
	mask := func(caps []capability.Cap) uint64 {
		var m uint64
		for _, c := range caps {
			m |= 1 << uint(c)
		}
		return m
	}
	return mask(s.bounding), mask(s.effective), mask(s.permitted), mask(s.inheritable), mask(s.ambient)
}
