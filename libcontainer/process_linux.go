package libcontainer

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/libcontainer/capabilities"
	"github.com/berthrt/berth/libcontainer/cgroups"
	"github.com/berthrt/berth/libcontainer/lsm"
	"github.com/berthrt/berth/libcontainer/procfs"
)

// Scheduling and other per-process attributes of the spec's process. They
// are set by init on the thread that later calls execve (they are per
// thread, and execve keeps them), before capabilities are dropped: some
// need CAP_SYS_NICE or CAP_SYS_RESOURCE.

var schedPolicies = map[specs.LinuxSchedulerPolicy]uint32{
	specs.SchedOther:    unix.SCHED_NORMAL,
	specs.SchedFIFO:     unix.SCHED_FIFO,
	specs.SchedRR:       unix.SCHED_RR,
	specs.SchedBatch:    unix.SCHED_BATCH,
	specs.SchedIdle:     unix.SCHED_IDLE,
	specs.SchedDeadline: unix.SCHED_DEADLINE,
}

var schedFlags = map[specs.LinuxSchedulerFlag]uint64{
	specs.SchedFlagResetOnFork:  unix.SCHED_FLAG_RESET_ON_FORK,
	specs.SchedFlagReclaim:      unix.SCHED_FLAG_RECLAIM,
	specs.SchedFlagDLOverrun:    unix.SCHED_FLAG_DL_OVERRUN,
	specs.SchedFlagKeepPolicy:   unix.SCHED_FLAG_KEEP_POLICY,
	specs.SchedFlagKeepParams:   unix.SCHED_FLAG_KEEP_PARAMS,
	specs.SchedFlagUtilClampMin: unix.SCHED_FLAG_UTIL_CLAMP_MIN,
	specs.SchedFlagUtilClampMax: unix.SCHED_FLAG_UTIL_CLAMP_MAX,
}

var ioprioClasses = map[specs.IOPriorityClass]int{
	specs.IOPRIO_CLASS_RT:   1,
	specs.IOPRIO_CLASS_BE:   2,
	specs.IOPRIO_CLASS_IDLE: 3,
}

// personalities are the execution domains of personality(2)
// (<linux/personality.h>: PER_LINUX, PER_LINUX32).
var personalities = map[specs.LinuxPersonalityDomain]int{
	specs.PerLinux:   0x0000,
	specs.PerLinux32: 0x0008,
}

// warnUnraisable warns of the ambient capabilities of p that are not
// permitted and inheritable: the process starts without them.
func warnUnraisable(p *specs.Process) {
	if names := capabilities.Unraisable(p.Capabilities); len(names) > 0 {
		logrus.Warnf("ambient capabilities %s are not both permitted and inheritable: the process gets none of them", strings.Join(names, ", "))
	}
}

// checkProcessAttrs rejects values the kernel would refuse or that berth
// does not know, before anything is made.
func checkProcessAttrs(p *specs.Process, l *specs.Linux) error {
	mountLabel := ""
	if l != nil {
		mountLabel = l.MountLabel
	}
	if err := lsm.Check(p, mountLabel); err != nil {
		return err
	}
	if err := checkNoNul(p); err != nil {
		return err
	}
	if err := checkExecSize(p); err != nil {
		return err
	}
	if n := len(p.User.AdditionalGids); n > maxGroups {
		return fmt.Errorf("process.user.additionalGids: %d groups, more than the kernel's limit of %d (NGROUPS_MAX)", n, maxGroups)
	}
	if p.OOMScoreAdj != nil && (*p.OOMScoreAdj < -1000 || *p.OOMScoreAdj > 1000) {
		return fmt.Errorf("process.oomScoreAdj %d is out of range (-1000 to 1000)", *p.OOMScoreAdj)
	}
	if s := p.Scheduler; s != nil {
		if _, ok := schedPolicies[s.Policy]; !ok {
			return fmt.Errorf("process.scheduler.policy %q is not one berth knows", s.Policy)
		}
		for _, f := range s.Flags {
			if _, ok := schedFlags[f]; !ok {
				return fmt.Errorf("process.scheduler.flags: %q is not a flag berth knows", f)
			}
		}
		if s.Nice < -20 || s.Nice > 19 {
			return fmt.Errorf("process.scheduler.nice %d is out of range (-20 to 19)", s.Nice)
		}
	}
	if io := p.IOPriority; io != nil {
		if _, ok := ioprioClasses[io.Class]; !ok {
			return fmt.Errorf("process.ioPriority.class %q is not one of IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE", io.Class)
		}
		if io.Priority < 0 || io.Priority > 7 {
			return fmt.Errorf("process.ioPriority.priority %d is out of range (0 to 7)", io.Priority)
		}
	}
	if a := p.ExecCPUAffinity; a != nil {
		for name, list := range map[string]string{"initial": a.Initial, "final": a.Final} {
			if _, err := cgroups.ParseCPUList(list); err != nil {
				return fmt.Errorf("process.execCPUAffinity.%s %q: %w", name, list, err)
			}
		}
	}
	if l != nil && l.Personality != nil {
		if _, ok := personalities[l.Personality.Domain]; !ok {
			return fmt.Errorf("linux.personality.domain %q is not one of LINUX, LINUX32", l.Personality.Domain)
		}
		if len(l.Personality.Flags) > 0 {
			return fmt.Errorf("linux.personality.flags %v: the runtime spec defines none", l.Personality.Flags)
		}
	}
	return nil
}

// checkNoNul refuses a NUL byte in the process's args, env and cwd:
// execve(2) and chdir(2) take C strings, which end at the first NUL, so
// the process would run with less than the config says (the plan's C
// side reads them so too).
func checkNoNul(p *specs.Process) error {
	if strings.IndexByte(p.Cwd, 0) >= 0 {
		return errors.New("process.cwd holds a NUL byte, which ends a path for chdir(2)")
	}
	for _, list := range []struct {
		name    string
		strings []string
	}{{"args", p.Args}, {"env", p.Env}} {
		for i, s := range list.strings {
			if strings.IndexByte(s, 0) >= 0 {
				return fmt.Errorf("process.%s[%d] holds a NUL byte, which ends a string for execve(2)", list.name, i)
			}
		}
	}
	return nil
}

// maxGroups is the most supplementary groups setgroups(2) takes
// (NGROUPS_MAX).
const maxGroups = 65536

// The kernel's bounds on what execve(2) passes (fs/exec.c): the strings
// of argv and envp, with their terminating NULs and a pointer each, may
// take a quarter of the soft stack limit, but never more than 6 MiB
// (three quarters of _STK_LIM) and always 128 KiB (ARG_MAX); one string
// may take 128 KiB (MAX_ARG_STRLEN).
const (
	maxExecStrings = 6 << 20
	minExecStrings = 128 << 10
	maxExecString  = 128 << 10
)

// checkExecSize refuses args and env that execve(2) would refuse once
// the container is made ("argument list too long"), for the stack limit
// the process will exec with.
func checkExecSize(p *specs.Process) error {
	limit := max(min(stackLimit(p.Rlimits)/4, maxExecStrings), minExecStrings)
	size := uint64(8 * (max(len(p.Args), 1) + len(p.Env)))
	for _, list := range []struct {
		name    string
		strings []string
	}{{"args", p.Args}, {"env", p.Env}} {
		for i, s := range list.strings {
			if len(s)+1 > maxExecString {
				return fmt.Errorf("process.%s[%d] has %d bytes, more than execve(2) takes in one string (%d KiB)", list.name, i, len(s), maxExecString>>10)
			}
			size += uint64(len(s) + 1)
		}
	}
	if size > limit {
		return fmt.Errorf("process.args and process.env take %d bytes, more than execve(2) takes here: %d (a quarter of the soft RLIMIT_STACK, from %d KiB to %d MiB)", size, limit, minExecStrings>>10, maxExecStrings>>20)
	}
	return nil
}

// stackLimit is the soft RLIMIT_STACK a process execs with: the one its
// rlimits give, or else the one it inherits from berth.
func stackLimit(rlimits []specs.POSIXRlimit) uint64 {
	for _, r := range rlimits {
		if r.Type == "RLIMIT_STACK" {
			return r.Soft
		}
	}
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_STACK, &rl) != nil {
		return maxExecStrings * 4
	}
	return rl.Cur
}

// oomScoreAdjError says why oomScoreAdj v could not be set.
func oomScoreAdjError(v int, err error) error {
	if errors.Is(err, unix.EACCES) {
		return fmt.Errorf("set oomScoreAdj %d: %w (lowering it below the runtime's own needs CAP_SYS_RESOURCE)", v, err)
	}
	return fmt.Errorf("set oomScoreAdj %d: %w", v, err)
}

// setProcessAttrs applies oomScoreAdj, the scheduler and the I/O priority.
func setProcessAttrs(p *specs.Process) error {
	if p.OOMScoreAdj != nil {
		if err := procfs.WriteThreadSelf("oom_score_adj", strconv.Itoa(*p.OOMScoreAdj)); err != nil {
			return oomScoreAdjError(*p.OOMScoreAdj, err)
		}
	}
	if s := p.Scheduler; s != nil {
		attr := unix.SchedAttr{
			Policy:   schedPolicies[s.Policy],
			Nice:     s.Nice,
			Priority: uint32(s.Priority),
			Runtime:  s.Runtime,
			Deadline: s.Deadline,
			Period:   s.Period,
		}
		for _, f := range s.Flags {
			attr.Flags |= schedFlags[f]
		}
		if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
			return fmt.Errorf("set scheduler %s: %w", s.Policy, err)
		}
	}
	if io := p.IOPriority; io != nil {
		const ioprioWhoProcess, classShift = 1, 13
		prio := ioprioClasses[io.Class]<<classShift | io.Priority
		if _, _, errno := unix.Syscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, 0, uintptr(prio)); errno != 0 {
			return fmt.Errorf("set ioPriority %s %d: %w", io.Class, io.Priority, errno)
		}
	}
	return nil
}

// setPersonality sets the execution domain the process starts in.
func setPersonality(l *specs.Linux) error {
	if l == nil || l.Personality == nil {
		return nil
	}
	if _, _, errno := unix.Syscall(unix.SYS_PERSONALITY, uintptr(personalities[l.Personality.Domain]), 0, 0); errno != 0 {
		return fmt.Errorf("set personality %s: %w", l.Personality.Domain, errno)
	}
	return nil
}

// setCPUAffinity pins the calling thread, and so the program it execs, to
// the CPUs in list (cpuset syntax); an empty list leaves it alone.
func setCPUAffinity(list string) error {
	cpus, err := cgroups.ParseCPUList(list)
	if err != nil || len(cpus) == 0 {
		return err
	}
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(int(c))
	}
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("set CPU affinity %s: %w", list, err)
	}
	return nil
}
