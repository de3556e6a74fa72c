// Package devices turns an OCI config's device rules into the cgroup
// device policy: lines for v1's devices.allow and devices.deny, or a
// BPF_CGROUP_DEVICE program for v2, which has no device files.
//
// Rules read as the runtime spec says: a list evaluated in order, where the
// last rule matching an access decides it, and an access no rule matches is
// denied.
package devices

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Validate checks each rule's type, access and numbers.
func Validate(rules []specs.LinuxDeviceCgroup) error {
	for i, r := range rules {
		switch r.Type {
		case "", "a", "b", "c":
		default:
			return fmt.Errorf("devices[%d]: type %q: must be a (all), b (block) or c (char)", i, r.Type)
		}
		if _, err := accessMask(r.Access); err != nil {
			return fmt.Errorf("devices[%d]: %w", i, err)
		}
		for _, n := range []*int64{r.Major, r.Minor} {
			if n != nil && (*n < -1 || *n > 1<<31-1) {
				return fmt.Errorf("devices[%d]: device number %d: use -1 or leave it out for any", i, *n)
			}
		}
	}
	return nil
}

// Access bits of a rule, as BPF_DEVCG_ACC_* numbers them.
const (
	accMknod = 1
	accRead  = 2
	accWrite = 4
	accAll   = accMknod | accRead | accWrite
)

// accessMask parses a rule's access: any of "r", "w", "m" once each; empty
// means all three.
func accessMask(access string) (uint32, error) {
	if access == "" {
		return accAll, nil
	}
	var mask uint32
	for _, c := range access {
		var bit uint32
		switch c {
		case 'r':
			bit = accRead
		case 'w':
			bit = accWrite
		case 'm':
			bit = accMknod
		default:
			return 0, fmt.Errorf("access %q: only r, w and m are allowed", access)
		}
		if mask&bit != 0 {
			return 0, fmt.Errorf("access %q: %c is repeated", access, c)
		}
		mask |= bit
	}
	return mask, nil
}

// DefaultRules are the accesses every container gets after its config's own
// rules, the ones runc 1.1.5 grants: creating any node (opening one is what
// the policy guards), the spec's default devices, the pty devices for
// terminals, and /dev/net/tun, which docker users have long relied on.
// Nodes the config's linux.devices creates get nothing more: an engine
// that adds a device adds the rule for it, and a config whose rules deny
// a device it lists means that.
func DefaultRules() []specs.LinuxDeviceCgroup {
	wild := int64(-1)
	rule := func(typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
		r := specs.LinuxDeviceCgroup{Allow: true, Type: typ, Access: access}
		if major != wild {
			r.Major = &major
		}
		if minor != wild {
			r.Minor = &minor
		}
		return r
	}
	return []specs.LinuxDeviceCgroup{
		rule("c", wild, wild, "m"),
		rule("b", wild, wild, "m"),
		rule("c", 1, 3, "rwm"),      // /dev/null
		rule("c", 1, 5, "rwm"),      // /dev/zero
		rule("c", 1, 7, "rwm"),      // /dev/full
		rule("c", 1, 8, "rwm"),      // /dev/random
		rule("c", 1, 9, "rwm"),      // /dev/urandom
		rule("c", 5, 0, "rwm"),      // /dev/tty
		rule("c", 5, 2, "rwm"),      // /dev/ptmx
		rule("c", 10, 200, "rwm"),   // /dev/net/tun
		rule("c", 136, wild, "rwm"), // /dev/pts/*, and /dev/console bound from one
	}
}

// isAll reports whether a rule covers every access to every device, which
// v1 expresses as a change of the default rather than an entry.
func isAll(r specs.LinuxDeviceCgroup) bool {
	mask, _ := accessMask(r.Access)
	return (r.Type == "" || r.Type == "a") && wildcard(r.Major) && wildcard(r.Minor) && mask == accAll
}

func wildcard(n *int64) bool { return n == nil || *n == -1 }

// V1Line is one write to a v1 devices cgroup.
type V1Line struct {
	// File is "devices.allow" or "devices.deny".
	File string
	// Line is what is written: "a", or "c 1:3 rwm".
	Line string
}

// V1Lines returns the writes that give a fresh v1 devices cgroup the
// policy of rules: deny everything first, then each rule in order.
func V1Lines(rules []specs.LinuxDeviceCgroup) []V1Line {
	lines := []V1Line{{File: "devices.deny", Line: "a"}}
	for _, r := range rules {
		file := "devices.deny"
		if r.Allow {
			file = "devices.allow"
		}
		if isAll(r) {
			lines = append(lines, V1Line{File: file, Line: "a"})
			continue
		}
		types := []string{r.Type}
		if r.Type == "" || r.Type == "a" {
			// v1's "a" would reset the whole list; a partial
			// rule for every type is one rule per type.
			types = []string{"b", "c"}
		}
		access := r.Access
		if access == "" {
			access = "rwm"
		}
		for _, t := range types {
			lines = append(lines, V1Line{File: file, Line: fmt.Sprintf("%s %s:%s %s", t, number(r.Major), number(r.Minor), access)})
		}
	}
	return lines
}

func number(n *int64) string {
	if wildcard(n) {
		return "*"
	}
	return fmt.Sprint(*n)
}
