// Package seccomp turns the spec's linux.seccomp section into a filter with
// libseccomp, loads it into the calling process and hands the notify fd of
// SCMP_ACT_NOTIFY rules to the seccomp agent.
//
// Names follow runc wherever the spec leaves room: SCMP_ACT_KILL kills the
// thread, syscall names this libseccomp does not know are skipped (a newer
// profile on an older host), and conditions on one rule are joined as runc
// joins them (see addRule).
package seccomp

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// Version returns the version of the libseccomp that berth is linked with.
func Version() string {
	major, minor, micro := libseccomp.GetLibraryVersion()
	return fmt.Sprintf("%d.%d.%d", major, minor, micro)
}

var actions = map[specs.LinuxSeccompAction]libseccomp.ScmpAction{
	specs.ActKill:        libseccomp.ActKillThread,
	specs.ActKillThread:  libseccomp.ActKillThread,
	specs.ActKillProcess: libseccomp.ActKillProcess,
	specs.ActTrap:        libseccomp.ActTrap,
	specs.ActErrno:       libseccomp.ActErrno,
	specs.ActTrace:       libseccomp.ActTrace,
	specs.ActAllow:       libseccomp.ActAllow,
	specs.ActLog:         libseccomp.ActLog,
	specs.ActNotify:      libseccomp.ActNotify,
}

var operators = map[specs.LinuxSeccompOperator]libseccomp.ScmpCompareOp{
	specs.OpNotEqual:     libseccomp.CompareNotEqual,
	specs.OpLessThan:     libseccomp.CompareLess,
	specs.OpLessEqual:    libseccomp.CompareLessOrEqual,
	specs.OpEqualTo:      libseccomp.CompareEqual,
	specs.OpGreaterEqual: libseccomp.CompareGreaterEqual,
	specs.OpGreaterThan:  libseccomp.CompareGreater,
	specs.OpMaskedEqual:  libseccomp.CompareMaskedEqual,
}

var archs = map[specs.Arch]libseccomp.ScmpArch{
	specs.ArchX86:         libseccomp.ArchX86,
	specs.ArchX86_64:      libseccomp.ArchAMD64,
	specs.ArchX32:         libseccomp.ArchX32,
	specs.ArchARM:         libseccomp.ArchARM,
	specs.ArchAARCH64:     libseccomp.ArchARM64,
	specs.ArchMIPS:        libseccomp.ArchMIPS,
	specs.ArchMIPS64:      libseccomp.ArchMIPS64,
	specs.ArchMIPS64N32:   libseccomp.ArchMIPS64N32,
	specs.ArchMIPSEL:      libseccomp.ArchMIPSEL,
	specs.ArchMIPSEL64:    libseccomp.ArchMIPSEL64,
	specs.ArchMIPSEL64N32: libseccomp.ArchMIPSEL64N32,
	specs.ArchPPC:         libseccomp.ArchPPC,
	specs.ArchPPC64:       libseccomp.ArchPPC64,
	specs.ArchPPC64LE:     libseccomp.ArchPPC64LE,
	specs.ArchS390:        libseccomp.ArchS390,
	specs.ArchS390X:       libseccomp.ArchS390X,
	specs.ArchPARISC:      libseccomp.ArchPARISC,
	specs.ArchPARISC64:    libseccomp.ArchPARISC64,
	specs.ArchRISCV64:     libseccomp.ArchRISCV64,
	specs.ArchLOONGARCH64: libseccomp.ArchLOONGARCH64,
	specs.ArchM68K:        libseccomp.ArchM68K,
	specs.ArchSH:          libseccomp.ArchSH,
	specs.ArchSHEB:        libseccomp.ArchSHEB,
}

// flagTsync is in the spec's list of flags but has no constant in its Go
// package.
const flagTsync specs.LinuxSeccompFlag = "SECCOMP_FILTER_FLAG_TSYNC"

// flags maps each known filter flag to the filter attribute that asks
// libseccomp for it. libseccomp refuses an attribute that it or the kernel
// cannot honour, which is how SupportedFlags tells them apart.
var flags = map[specs.LinuxSeccompFlag]func(*libseccomp.ScmpFilter) error{
	// libseccomp-golang always synchronises the filter across all threads.
	flagTsync:                              func(*libseccomp.ScmpFilter) error { return nil },
	specs.LinuxSeccompFlagLog:              func(f *libseccomp.ScmpFilter) error { return f.SetLogBit(true) },
	specs.LinuxSeccompFlagSpecAllow:        func(f *libseccomp.ScmpFilter) error { return f.SetSSB(true) },
	specs.LinuxSeccompFlagWaitKillableRecv: func(f *libseccomp.ScmpFilter) error { return f.SetWaitKill(true) },
}

// Actions returns the action names berth recognises, sorted.
func Actions() []string { return sortedNames(actions) }

// Operators returns the argument comparison names berth recognises, sorted.
func Operators() []string { return sortedNames(operators) }

// Archs returns the architecture names that this build's libseccomp can
// add to a filter on this host, sorted: older libseccomp versions lack some
// that the spec lists, and one filter holds only architectures of the
// native byte order.
func Archs() []string {
	f, err := libseccomp.NewFilter(libseccomp.ActAllow)
	if err != nil {
		return nil
	}
	defer f.Release()
	var names []string
	for _, name := range sortedNames(archs) {
		if f.AddArch(archs[specs.Arch(name)]) == nil {
			names = append(names, name)
		}
	}
	return names
}

// KnownFlags returns the filter flag names berth recognises, sorted.
func KnownFlags() []string { return sortedNames(flags) }

// SupportedFlags returns the known flags that this libseccomp and the
// running kernel can honour, sorted.
func SupportedFlags() []string {
	var names []string
	for _, name := range KnownFlags() {
		f, err := libseccomp.NewFilter(libseccomp.ActAllow)
		if err != nil {
			return nil
		}
		if flags[specs.LinuxSeccompFlag(name)](f) == nil {
			names = append(names, name)
		}
		f.Release()
	}
	return names
}

func sortedNames[K ~string, V any](m map[K]V) []string {
	names := make([]string, 0, len(m))
	for k := range maps.Keys(m) {
		names = append(names, string(k))
	}
	slices.Sort(names)
	return names
}

// UsesNotify reports whether any rule of c hands syscalls to a seccomp
// agent, so that the runtime must connect to c.ListenerPath.
func UsesNotify(c *specs.LinuxSeccomp) bool {
	if c == nil {
		return false
	}
	for _, call := range c.Syscalls {
		if call.Action == specs.ActNotify {
			return true
		}
	}
	return false
}

// Filter is a filter built from the spec, ready to load.
type Filter struct {
	filter *libseccomp.ScmpFilter
	notify bool
	// prog is what Load loads and Program returns: libseccomp's program,
	// behind the stub of enosysStub when there is one. It is made once,
	// in New, so that its size is known before anything is made.
	prog []unix.SockFilter
}

// bpfMaxInsns is the most instructions the kernel takes in a seccomp
// filter (BPF_MAXINSNS): a longer one fails to load with EINVAL.
const bpfMaxInsns = 4096

// MaxRules is the most syscall rules (names, over all of syscalls[]) a
// profile may hold. libseccomp's time to build a filter grows with the
// square of its rules (8000 took 3.7 s here), and a rule that changes
// anything takes at least one instruction of the kernel's 4096; docker's
// default profile has 357.
const MaxRules = bpfMaxInsns

// countRules counts the syscall names of c's rules, as MaxRules counts.
func countRules(c *specs.LinuxSeccomp) int {
	n := 0
	for _, call := range c.Syscalls {
		n += len(call.Names)
	}
	return n
}

// Validate reports the first thing in c that would keep its filter from
// being built: an unknown action, architecture, operator or flag, a flag
// this host cannot honour, an errnoRet on an action without one, a notify
// rule without a listener. create calls it before it makes anything.
func Validate(c *specs.LinuxSeccomp) error {
	if c == nil {
		return nil
	}
	f, err := New(c)
	if err != nil {
		return err
	}
	f.filter.Release()
	return nil
}

// New builds the filter c describes, for the native architecture (always
// included, as runc does) plus the ones c lists. Everything but the
// kernel's own checks happens here, so errors show before Load.
func New(c *specs.LinuxSeccomp) (*Filter, error) {
	if n := countRules(c); n > MaxRules {
		return nil, fmt.Errorf("seccomp: the profile has %d syscall rules, more than berth's limit of %d (the kernel runs at most %d BPF instructions in a filter)", n, MaxRules, bpfMaxInsns)
	}
	if err := checkListener(c); err != nil {
		return nil, err
	}
	def, err := action(c.DefaultAction, c.DefaultErrnoRet)
	if err != nil {
		return nil, fmt.Errorf("seccomp defaultAction: %w", err)
	}
	if def == libseccomp.ActNotify {
		// Every syscall init makes after loading, sending the notify fd
		// included, would wait for an agent that does not have it yet.
		return nil, errors.New("seccomp defaultAction: SCMP_ACT_NOTIFY cannot be the default action: use it in rules")
	}
	filter, err := libseccomp.NewFilter(def)
	if err != nil {
		return nil, fmt.Errorf("seccomp: make filter: %w", err)
	}
	f := &Filter{filter: filter, notify: UsesNotify(c)}
	if err := f.build(c, def); err != nil {
		filter.Release()
		return nil, err
	}
	native, err := libseccomp.GetNativeArch()
	if err != nil {
		filter.Release()
		return nil, fmt.Errorf("seccomp: native architecture: %w", err)
	}
	filterArchs := []libseccomp.ScmpArch{native}
	for _, name := range c.Architectures {
		if arch := archs[name]; arch != native {
			filterArchs = append(filterArchs, arch)
		}
	}
	if f.prog, err = exportWithStub(filter, enosysStub(c, def, filterArchs)); err != nil {
		filter.Release()
		return nil, err
	}
	if len(f.prog) > bpfMaxInsns {
		filter.Release()
		return nil, fmt.Errorf("seccomp: the profile compiles to %d BPF instructions, more than the kernel's limit of %d (BPF_MAXINSNS)", len(f.prog), bpfMaxInsns)
	}
	return f, nil
}

func checkListener(c *specs.LinuxSeccomp) error {
	if c.ListenerMetadata != "" && c.ListenerPath == "" {
		return errors.New("seccomp: listenerMetadata is set without listenerPath")
	}
	if !UsesNotify(c) {
		return nil
	}
	if c.ListenerPath == "" {
		return errors.New("seccomp: a rule uses SCMP_ACT_NOTIFY but listenerPath is not set: name the seccomp agent's socket")
	}
	// libseccomp reports an old kernel or library as API level < 6.
	if api, _ := libseccomp.GetAPI(); api < 6 {
		return fmt.Errorf("seccomp: SCMP_ACT_NOTIFY needs libseccomp >= 2.5.0 and Linux >= 5.7 (libseccomp %s reports API level %d, want 6)", Version(), api)
	}
	return nil
}

func (f *Filter) build(c *specs.LinuxSeccomp, def libseccomp.ScmpAction) error {
	for _, name := range c.Architectures {
		arch, ok := archs[name]
		if !ok {
			return fmt.Errorf("seccomp: unknown architecture %q (known: %v)", name, sortedNames(archs))
		}
		err := f.filter.AddArch(arch)
		if errors.Is(err, unix.EDOM) {
			return fmt.Errorf("seccomp: architecture %s has another byte order than this host's: libseccomp cannot mix them in one filter", name)
		}
		if err != nil {
			return fmt.Errorf("seccomp: architecture %s is not supported by libseccomp %s: %w", name, Version(), err)
		}
	}
	for _, flag := range c.Flags {
		set, ok := flags[flag]
		if !ok {
			return fmt.Errorf("seccomp: unknown flag %q (known: %v)", flag, KnownFlags())
		}
		if err := set(f.filter); err != nil {
			return fmt.Errorf("seccomp: flag %s is not supported on this host: %w", flag, err)
		}
	}
	// berth sets no_new_privs itself, from process.noNewPrivileges;
	// libseccomp would otherwise set it at load.
	if err := f.filter.SetNoNewPrivsBit(false); err != nil {
		return fmt.Errorf("seccomp: leave no_new_privs to the process config: %w", err)
	}
	// A binary tree makes long profiles (docker's has hundreds of rules)
	// cost O(log n) per syscall instead of O(n). libseccomp <= 2.5.4
	// mishandles it for an empty rule set, hence the threshold.
	if len(c.Syscalls) > 32 {
		if err := f.filter.SetOptimize(2); err != nil {
			logrus.Debugf("seccomp: binary tree optimisation unavailable: %v", err)
		}
	}
	for i, call := range c.Syscalls {
		if err := addRule(f.filter, call, def); err != nil {
			return fmt.Errorf("seccomp syscalls[%d]: %w", i, err)
		}
	}
	return nil
}

// action resolves an action name, with the errno it returns for the two
// actions that carry one (EPERM unless errnoRet says otherwise).
func action(name specs.LinuxSeccompAction, errnoRet *uint) (libseccomp.ScmpAction, error) {
	a, ok := actions[name]
	if !ok {
		return libseccomp.ActInvalid, fmt.Errorf("unknown action %q (known: %v)", name, Actions())
	}
	if a != libseccomp.ActErrno && a != libseccomp.ActTrace {
		if errnoRet != nil {
			return libseccomp.ActInvalid, fmt.Errorf("errnoRet is set but %s returns no errno: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one", name)
		}
		return a, nil
	}
	ret := uint(unix.EPERM)
	if errnoRet != nil {
		ret = *errnoRet
	}
	// The kernel carries it in the 16-bit data of the filter's verdict.
	if ret > 0xffff {
		return libseccomp.ActInvalid, fmt.Errorf("errnoRet %d of %s does not fit in 16 bits", ret, name)
	}
	return a.SetReturnCode(int16(ret)), nil
}

// addRule adds one syscalls[] entry. Conditions on different arguments
// must all match (one rule); when two conditions test the same argument,
// each becomes a rule of its own, so any of them matches — runc's reading,
// which profiles written for docker rely on.
func addRule(filter *libseccomp.ScmpFilter, call specs.LinuxSyscall, def libseccomp.ScmpAction) error {
	if len(call.Names) == 0 || slices.Contains(call.Names, "") {
		return fmt.Errorf("names %q: list at least one syscall, and no empty names", call.Names)
	}
	act, err := action(call.Action, call.ErrnoRet)
	if err != nil {
		return fmt.Errorf("%v: %w", call.Names, err)
	}
	if act == libseccomp.ActNotify && slices.Contains(call.Names, "sendmsg") {
		return errors.New("SCMP_ACT_NOTIFY cannot apply to sendmsg: berth sends the notify fd to the agent with it")
	}
	conds := make([]libseccomp.ScmpCondition, 0, len(call.Args))
	seen := map[uint]bool{}
	repeated := false
	for _, arg := range call.Args {
		op, ok := operators[arg.Op]
		if !ok {
			return fmt.Errorf("%v: unknown operator %q (known: %v)", call.Names, arg.Op, Operators())
		}
		cond, err := libseccomp.MakeCondition(arg.Index, op, arg.Value, arg.ValueTwo)
		if err != nil {
			return fmt.Errorf("%v: argument %d: %w", call.Names, arg.Index, err)
		}
		repeated = repeated || seen[arg.Index]
		seen[arg.Index] = true
		conds = append(conds, cond)
	}
	if act == def {
		// libseccomp refuses a rule that changes nothing.
		return nil
	}
	for _, name := range call.Names {
		nr, err := libseccomp.GetSyscallFromName(name)
		if err != nil {
			// A profile written for a newer kernel names syscalls this
			// libseccomp does not know; nothing can call them here.
			logrus.Debugf("seccomp: unknown syscall %q ignored", name)
			continue
		}
		switch {
		case len(conds) == 0:
			err = filter.AddRule(nr, act)
		case repeated:
			for _, c := range conds {
				if err = filter.AddRuleConditional(nr, act, []libseccomp.ScmpCondition{c}); err != nil {
					break
				}
			}
		default:
			err = filter.AddRuleConditional(nr, act, conds)
		}
		if err != nil {
			return fmt.Errorf("add rule for %s: %w", name, err)
		}
	}
	return nil
}

// Load loads the filter into the calling process, for all its threads.
// When a rule notifies, it returns the notify fd, which the caller sends to
// the agent (SendState) and then closes; otherwise it returns nil.
//
// Without no_new_privs set, loading needs CAP_SYS_ADMIN.
func (f *Filter) Load() (*os.File, error) {
	return f.loadProgram()
}

// SendState sends the container process state and the notify fd to the
// seccomp agent over conn, a stream socket connected to listenerPath, in
// one message (the runtime spec's seccomp notify protocol), and closes
// conn: the spec allows one state per connection.
func SendState(conn, notify *os.File, state *specs.ContainerProcessState) error {
	defer conn.Close()
	st := *state
	st.Fds = []string{specs.SeccompFdName}
	data, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode seccomp agent state: %w", err)
	}
	if err := unix.Sendmsg(int(conn.Fd()), data, unix.UnixRights(int(notify.Fd())), nil, 0); err != nil {
		return fmt.Errorf("send seccomp notify fd to the agent: %w", err)
	}
	return nil
}
