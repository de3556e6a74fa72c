package libcontainer

import (
	"fmt"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// init sets the process's rlimits last, right before execve: a low
// RLIMIT_AS or RLIMIT_DATA set earlier would starve init's own Go runtime
// (which reserves much address space) and libseccomp of memory. The parent
// cannot do it with prlimit(2) once init has changed its uid, unless it has
// CAP_SYS_RESOURCE. By then no one hears an error but the container's
// stderr, so the one step of it the kernel may refuse, raising a hard
// limit (without CAP_SYS_RESOURCE, or RLIMIT_NOFILE past fs.nr_open),
// init takes early, while create still fails on it (raiseHardRlimits), as
// runc's does.

var rlimitResources = map[string]int{
	"RLIMIT_AS":         unix.RLIMIT_AS,
	"RLIMIT_CORE":       unix.RLIMIT_CORE,
	"RLIMIT_CPU":        unix.RLIMIT_CPU,
	"RLIMIT_DATA":       unix.RLIMIT_DATA,
	"RLIMIT_FSIZE":      unix.RLIMIT_FSIZE,
	"RLIMIT_LOCKS":      unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK":    unix.RLIMIT_MEMLOCK,
	"RLIMIT_MSGQUEUE":   unix.RLIMIT_MSGQUEUE,
	"RLIMIT_NICE":       unix.RLIMIT_NICE,
	"RLIMIT_NOFILE":     unix.RLIMIT_NOFILE,
	"RLIMIT_NPROC":      unix.RLIMIT_NPROC,
	"RLIMIT_RSS":        unix.RLIMIT_RSS,
	"RLIMIT_RTPRIO":     unix.RLIMIT_RTPRIO,
	"RLIMIT_RTTIME":     unix.RLIMIT_RTTIME,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING,
	"RLIMIT_STACK":      unix.RLIMIT_STACK,
}

// checkRlimits rejects unknown or impossible rlimits before anything is
// made.
func checkRlimits(limits []specs.POSIXRlimit) error {
	seen := map[string]bool{}
	for _, l := range limits {
		if _, ok := rlimitResources[l.Type]; !ok {
			return fmt.Errorf("process.rlimits: unknown type %q", l.Type)
		}
		if seen[l.Type] {
			return fmt.Errorf("process.rlimits: %s is given twice", l.Type)
		}
		seen[l.Type] = true
		if l.Soft > l.Hard {
			return fmt.Errorf("process.rlimits: %s soft limit %d is above its hard limit %d", l.Type, l.Soft, l.Hard)
		}
	}
	return nil
}

// setRlimits sets the calling process's rlimits. It uses package
// syscall, not x/sys, so that Go does not put back at exec the
// RLIMIT_NOFILE it found at start.
func setRlimits(limits []specs.POSIXRlimit) error {
	for _, l := range limits {
		if err := syscall.Setrlimit(rlimitResources[l.Type], &syscall.Rlimit{Cur: l.Soft, Max: l.Hard}); err != nil {
			return fmt.Errorf("set %s to soft %d, hard %d: %w", l.Type, l.Soft, l.Hard, err)
		}
	}
	return nil
}

// raiseHardRlimits raises, to the config's value, each hard limit that
// limits set above the current one, keeping the soft limit; setRlimits
// later sets both, which then only lowers.
func raiseHardRlimits(limits []specs.POSIXRlimit) error {
	for _, l := range limits {
		resource := rlimitResources[l.Type]
		var cur syscall.Rlimit
		if err := syscall.Getrlimit(resource, &cur); err != nil {
			return fmt.Errorf("read %s: %w", l.Type, err)
		}
		if l.Hard <= cur.Max {
			continue
		}
		if err := syscall.Setrlimit(resource, &syscall.Rlimit{Cur: cur.Cur, Max: l.Hard}); err != nil {
			return fmt.Errorf("set %s to soft %d, hard %d: %w", l.Type, l.Soft, l.Hard, err)
		}
	}
	return nil
}
