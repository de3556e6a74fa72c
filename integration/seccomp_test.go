package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"golang.org/x/sys/unix"
)

// seccompBundle makes a bundle with a writable root (so that mkdir can
// succeed when the filter lets it) whose process runs `sh -c script` under
// profile.
func seccompBundle(t *testing.T, profile *specs.LinuxSeccomp, script string) *bundle {
	t.Helper()
	bun := newBundle(t, "sh", "-c", script)
	bun.Spec.Root.Readonly = false
	bun.Spec.Linux.Seccomp = profile
	bun.Save(t)
	return bun
}

// denyOne is a profile that allows everything but mkdir, which gets action.
func denyOne(action specs.LinuxSeccompAction, errnoRet *uint) *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: action, ErrnoRet: errnoRet}},
	}
}

func errnoPtr(n uint) *uint { return &n }

// sigsysStatus is how `berth run` reports a container killed by SIGSYS.
const sigsysStatus = 128 + int(unix.SIGSYS)

func TestSeccompActions(t *testing.T) {
	tests := []struct {
		action   specs.LinuxSeccompAction
		errnoRet *uint
		code     int    // exit status of run
		want     string // in the output
	}{
		{specs.ActErrno, nil, 1, "Operation not permitted"},
		{specs.ActErrno, errnoPtr(uint(unix.ENOSPC)), 1, "No space left on device"},
		// Nobody traces the container: the kernel fails the syscall.
		{specs.ActTrace, nil, 1, "Function not implemented"},
		{specs.ActAllow, nil, 0, "made"},
		{specs.ActLog, nil, 0, "made"},
		{specs.ActKill, nil, sigsysStatus, "before"},
		{specs.ActKillThread, nil, sigsysStatus, "before"},
		{specs.ActKillProcess, nil, sigsysStatus, "before"},
		{specs.ActTrap, nil, sigsysStatus, "before"},
	}
	for _, tc := range tests {
		name := string(tc.action)
		if tc.errnoRet != nil {
			name += fmt.Sprintf("_%d", *tc.errnoRet)
		}
		t.Run(name, func(t *testing.T) {
			b := newBerth(t)
			// exec: a killed mkdir is then the container's init.
			bun := seccompBundle(t, denyOne(tc.action, tc.errnoRet), "echo before; mkdir /tmp/d && echo made; exec mkdir /tmp/e")
			r := b.RunContainer(bun, "act")
			out := r.Stdout + r.Stderr
			if tc.code == 0 {
				if r.Code != 0 || !strings.Contains(out, tc.want) {
					t.Fatalf("%s on mkdir: %v, want exit 0 and %q", tc.action, r, tc.want)
				}
				return
			}
			if r.Code != tc.code || !strings.Contains(out, tc.want) || strings.Contains(out, "made") {
				t.Fatalf("%s on mkdir: %v, want exit %d, %q and no directory made", tc.action, r, tc.code, tc.want)
			}
			if _, err := os.Stat(filepath.Join(bun.Rootfs(), "tmp", "d")); err == nil {
				t.Fatal("mkdir made /tmp/d through the filter")
			}
		})
	}
}

// busyboxSyscalls is what the shell and the applets of the tests below
// need; mkdir, rmdir and chmod are left out on purpose.
var busyboxSyscalls = []string{
	"access", "arch_prctl", "brk", "clock_gettime", "clock_nanosleep", "clone", "clone3", "close",
	"dup", "dup2", "dup3", "execve", "exit", "exit_group", "faccessat", "faccessat2", "fcntl",
	"fstat", "fstatfs", "futex", "getcwd", "getdents64", "getegid", "geteuid", "getgid",
	"getpgrp", "getpid", "getppid", "getrandom", "getuid", "ioctl", "lseek", "lstat", "madvise",
	"mmap", "mprotect", "munmap", "nanosleep", "newfstatat", "open", "openat", "pipe", "pipe2",
	"poll", "prctl", "pread64", "prlimit64", "read", "readlink", "readlinkat", "rseq",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend", "sendfile",
	"set_robust_list", "set_tid_address", "setpgid", "sigaltstack", "stat", "statx", "uname",
	"wait4", "write", "writev",
}

// goRuntimeSyscalls are what a static Go program (the hostile helper)
// needs beyond busyboxSyscalls to start and print.
var goRuntimeSyscalls = []string{
	"epoll_create1", "epoll_ctl", "epoll_pwait", "eventfd2", "gettid", "mincore",
	"sched_getaffinity", "sched_yield", "tgkill",
}

// A syscall newer than every one a profile names gets ENOSYS, whatever the
// default action, so that a program can fall back to an older one (glibc's
// clone3 to clone) as on an older kernel; one the profile could have named
// still gets the default. 1000 stands for a syscall from the future: no
// kernel has it, so only berth's stub can make it ENOSYS under a default
// of EPERM. 163 (acct) is older than the newest syscall of the profile
// (faccessat2, 439).
func TestSeccompNewSyscallsENOSYS(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the syscall numbers of this test are x86_64's")
	}
	b := newBerth(t)
	profile := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Syscalls:      []specs.LinuxSyscall{{Names: append(slices.Clone(busyboxSyscalls), goRuntimeSyscalls...), Action: specs.ActAllow}},
	}
	bun := seccompBundle(t, profile, "hostile syscall 1000 163")
	withHostile(t, bun)
	out := b.RunContainer(bun, "enosys").Stdout
	if want := "syscall 1000: ENOSYS\nsyscall 163: EPERM\n"; out != want {
		t.Errorf("hostile syscall 1000 163 printed %q, want %q", out, want)
	}
	// Under a default that allows, a new syscall is the kernel's to answer.
	allow := denyOne(specs.ActErrno, nil)
	bun = seccompBundle(t, allow, "hostile syscall 1000")
	withHostile(t, bun)
	if out := b.RunContainer(bun, "enosys-allow").Stdout; out != "syscall 1000: ENOSYS\n" {
		t.Errorf("under a default of allow: %q", out)
	}
}

func TestSeccompDefaultErrno(t *testing.T) {
	b := newBerth(t)
	profile := &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: errnoPtr(uint(unix.EACCES)),
		Architectures:   []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Syscalls: []specs.LinuxSyscall{
			{Names: busyboxSyscalls, Action: specs.ActAllow},
			{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno},
			{Names: []string{"rmdir"}, Action: specs.ActErrno, ErrnoRet: errnoPtr(uint(unix.ENOSPC))},
		},
	}
	bun := seccompBundle(t, profile, "mkdir /tmp/a; rmdir /tmp; chmod 0 /tmp; echo done")
	r := b.RunContainer(bun, "errno")
	out := r.Stdout + r.Stderr
	for _, want := range []string{
		"mkdir: can't create directory '/tmp/a': Operation not permitted", // rule, default errno
		"rmdir: '/tmp': No space left on device",                          // rule, errnoRet
		"chmod: /tmp: Permission denied",                                  // defaultErrnoRet
		"done",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q: %v", want, r)
		}
	}
	if r.Code != 0 {
		t.Errorf("run: %v", r)
	}
}

func TestSeccompArguments(t *testing.T) {
	// linux32 calls personality(PER_LINUX32 = 8), linux64 personality(0).
	const script = `linux32 true && echo 32=ok || echo 32=denied; linux64 true && echo 64=ok || echo 64=denied`
	arg := func(op specs.LinuxSeccompOperator, value, valueTwo uint64) specs.LinuxSeccompArg {
		return specs.LinuxSeccompArg{Index: 0, Op: op, Value: value, ValueTwo: valueTwo}
	}
	tests := []struct {
		name string
		args []specs.LinuxSeccompArg
		want string
	}{
		{"eq", []specs.LinuxSeccompArg{arg(specs.OpEqualTo, 8, 0)}, "32=denied 64=ok"},
		{"ne", []specs.LinuxSeccompArg{arg(specs.OpNotEqual, 8, 0)}, "32=ok 64=denied"},
		{"gt", []specs.LinuxSeccompArg{arg(specs.OpGreaterThan, 4, 0)}, "32=denied 64=ok"},
		{"ge", []specs.LinuxSeccompArg{arg(specs.OpGreaterEqual, 8, 0)}, "32=denied 64=ok"},
		{"lt", []specs.LinuxSeccompArg{arg(specs.OpLessThan, 4, 0)}, "32=ok 64=denied"},
		{"le", []specs.LinuxSeccompArg{arg(specs.OpLessEqual, 0, 0)}, "32=ok 64=denied"},
		// value is the mask, valueTwo what the masked argument must equal.
		{"masked_eq", []specs.LinuxSeccompArg{arg(specs.OpMaskedEqual, 8, 0)}, "32=ok 64=denied"},
		// Two conditions on one argument: either matches.
		{"same argument twice", []specs.LinuxSeccompArg{arg(specs.OpEqualTo, 8, 0), arg(specs.OpEqualTo, 0, 0)}, "32=denied 64=denied"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBerth(t)
			profile := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
				Syscalls: []specs.LinuxSyscall{{Names: []string{"personality"}, Action: specs.ActErrno, Args: tc.args}}}
			r := b.RunContainer(seccompBundle(t, profile, script), "args")
			if got := strings.Join(strings.Fields(r.Stdout), " "); got != tc.want {
				t.Fatalf("got %q, want %q (%v)", got, tc.want, r)
			}
		})
	}
	t.Run("different arguments", func(t *testing.T) {
		// kill(1, 0) only: both conditions must match.
		b := newBerth(t)
		profile := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow,
			Syscalls: []specs.LinuxSyscall{{Names: []string{"kill"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{
				{Index: 0, Op: specs.OpEqualTo, Value: 1}, {Index: 1, Op: specs.OpEqualTo, Value: 0}}}}}
		script := `kill -0 1 && echo a=ok || echo a=denied; kill -CONT 1 && echo b=ok || echo b=denied; ` +
			`sleep 100 & kill -0 $! && echo c=ok || echo c=denied; kill -9 $!`
		r := b.RunContainer(seccompBundle(t, profile, script), "args")
		if got, want := strings.Join(strings.Fields(r.Stdout), " "), "a=denied b=ok c=ok"; got != want {
			t.Fatalf("got %q, want %q (%v)", got, want, r)
		}
	})
}

// TestSeccompLoadedOnlyForTheProcess denies, with death, syscalls that
// berth's own set-up makes before exec: the container must still start,
// under exactly one filter. Without no_new_privs the filter is loaded
// before init drops its capabilities, so only the syscalls init makes
// before that point can be denied.
func TestSeccompLoadedOnlyForTheProcess(t *testing.T) {
	setup := []string{"mount", "umount2", "pivot_root", "chroot", "sethostname", "setdomainname", "unshare",
		"mknod", "mknodat", "open_tree", "move_mount", "mount_setattr", "fsopen", "fsmount", "keyctl",
		"symlink", "symlinkat"}
	afterCaps := []string{"capset", "setgroups", "setresuid", "setresgid", "close_range", "umask", "chdir"}
	for _, tc := range []struct {
		name  string
		nnp   bool
		deny  []string
		nnpIs string
	}{
		{"no_new_privs", true, append(setup, afterCaps...), "NoNewPrivs:\t1"},
		{"without no_new_privs", false, setup, "NoNewPrivs:\t0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBerth(t)
			profile := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
				{Names: tc.deny, Action: specs.ActKillProcess},
				{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno},
			}}
			bun := seccompBundle(t, profile, "grep -E '^(Seccomp|NoNewPrivs)' /proc/self/status; mkdir /tmp/x")
			bun.Spec.Process.NoNewPrivileges = tc.nnp
			bun.Save(t)
			r := b.RunContainer(bun, "late")
			for _, want := range []string{"Seccomp:\t2\n", "Seccomp_filters:\t1\n", tc.nnpIs, "Operation not permitted"} {
				if !strings.Contains(r.Stdout+r.Stderr, want) {
					t.Errorf("output lacks %q: %v", want, r)
				}
			}
		})
	}
}

// TestSeccompLog checks the audit records the kernel writes for
// SCMP_ACT_LOG and for SECCOMP_FILTER_FLAG_LOG, which asks for a record of
// every action but ALLOW.
func TestSeccompLog(t *testing.T) {
	logged, err := os.ReadFile("/proc/sys/kernel/seccomp/actions_logged")
	if err != nil || !strings.Contains(string(logged), "log") || !strings.Contains(string(logged), "errno") {
		t.Fatalf("this kernel does not log seccomp actions log and errno (actions_logged %q, %v)", logged, err)
	}
	flagged := denyOne(specs.ActErrno, nil)
	flagged.Flags = []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog}
	for _, tc := range []struct {
		name    string
		profile *specs.LinuxSeccomp
		code    string // the filter's verdict in the record, without its data
	}{
		{"action", denyOne(specs.ActLog, nil), "code=0x7ffc0000"},
		{"flag", flagged, "code=0x50000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBerth(t)
			bun := seccompBundle(t, tc.profile, "exec mkdir /tmp/logged")
			kmsg := openKmsg(t)
			b.RunContainer(bun, "log")
			// The kernel's audit thread prints records when it gets to
			// them, and printk drops some under load: run again until
			// one shows, a few times.
			for attempt := 1; ; attempt++ {
				if kmsg.waitFor(`comm="mkdir"`, tc.code) {
					return
				}
				if attempt == 3 {
					t.Fatalf("no audit record with %s for mkdir in /dev/kmsg", tc.code)
				}
				b.RunContainer(bun, "log")
			}
		})
	}
}

type kmsgReader struct {
	t *testing.T
	f *os.File
}

// openKmsg opens the kernel log at its end, so that only new records are
// read.
func openKmsg(t *testing.T) *kmsgReader {
	f, err := os.OpenFile("/dev/kmsg", os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatalf("open the kernel log: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := unix.Seek(int(f.Fd()), 0, unix.SEEK_END); err != nil {
		t.Fatalf("seek to the end of the kernel log: %v", err)
	}
	return &kmsgReader{t: t, f: f}
}

// waitFor reads records until one contains all of want, or reports false
// when none has come for a while.
func (k *kmsgReader) waitFor(want ...string) bool {
	buf := make([]byte, 8192)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		n, err := unix.Read(int(k.f.Fd()), buf)
		switch {
		case err == unix.EAGAIN:
			time.Sleep(50 * time.Millisecond)
		case err == unix.EPIPE:
			// Records were overwritten before we read them; go on.
		case err != nil:
			k.t.Fatalf("read the kernel log: %v", err)
		case !slices.ContainsFunc(want, func(w string) bool { return !strings.Contains(string(buf[:n]), w) }):
			return true
		}
	}
	return false
}

// seccompAgent runs integration/seccompagent on a socket in the test's
// directory and returns the socket path and a function that returns the
// container process states the agent has received.
func seccompAgent(t *testing.T) (socket string, states func() []specs.ContainerProcessState) {
	t.Helper()
	bin := tool(t, "./seccompagent")
	dir := t.TempDir()
	socket = filepath.Join(dir, "agent.sock")
	statePath := filepath.Join(dir, "states")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: socket, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ln.SetUnlinkOnClose(false)
	lf, err := ln.File()
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	cmd := exec.Command(bin, "-state", statePath)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.ExtraFiles = []*os.File{lf}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if stderr.Len() > 0 {
			t.Logf("seccompagent: %s", stderr.String())
		}
	})
	return socket, func() []specs.ContainerProcessState {
		f, err := os.Open(statePath)
		if err != nil {
			t.Fatalf("the agent received nothing: %v", err)
		}
		defer f.Close()
		var states []specs.ContainerProcessState
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var st specs.ContainerProcessState
			if err := json.Unmarshal(sc.Bytes(), &st); err != nil {
				t.Fatalf("parse state %q: %v", sc.Text(), err)
			}
			states = append(states, st)
		}
		return states
	}
}

func notifyProfile(socket, metadata string) *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{
		DefaultAction:    specs.ActAllow,
		ListenerPath:     socket,
		ListenerMetadata: metadata,
		Syscalls:         []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActNotify}},
	}
}

func TestSeccompNotify(t *testing.T) {
	const script = `mkdir /tmp/n && echo made || echo failed; ls -d /tmp/n 2>/dev/null || echo absent; ls -l /proc/self/fd/ | grep -c seccomp`
	for _, tc := range []struct {
		metadata string
		want     string
	}{
		{"errno=0;note=answered by the test agent", "made\nabsent\n0\n"},
		{"errno=28", "failed\nabsent\n0\n"},
	} {
		t.Run(tc.metadata, func(t *testing.T) {
			b := newBerth(t)
			socket, states := seccompAgent(t)
			bun := seccompBundle(t, notifyProfile(socket, tc.metadata), script)
			r := b.RunContainer(bun, "notify")
			if r.Stdout != tc.want {
				t.Fatalf("got %q, want %q (%v)", r.Stdout, tc.want, r)
			}
			if tc.metadata == "errno=28" && !strings.Contains(r.Stderr, "No space left on device") {
				t.Errorf("mkdir did not fail with the agent's errno: %v", r)
			}
			got := states()
			if len(got) != 1 {
				t.Fatalf("agent got %d states, want 1: %+v", len(got), got)
			}
			st := got[0]
			if st.Version != specs.Version || !slices.Equal(st.Fds, []string{specs.SeccompFdName}) || st.Pid <= 0 ||
				st.Metadata != tc.metadata || st.State.ID != "notify" || st.State.Pid != st.Pid ||
				st.State.Bundle != bun.Dir || st.State.Status != specs.StateRunning {
				t.Fatalf("agent got state %+v", st)
			}
		})
	}
	t.Run("exec", func(t *testing.T) {
		b := newBerth(t)
		socket, states := seccompAgent(t)
		bun := seccompBundle(t, notifyProfile(socket, ""), "exec sleep 1000")
		b.MustRun("run", "-d", "--bundle", bun.Dir, "nx")
		t.Cleanup(func() { b.Run("delete", "--force", "nx") })
		r := b.MustRun("exec", "nx", "sh", "-c", "mkdir /tmp/x && echo made; ls -d /tmp/x 2>/dev/null || echo absent")
		if r.Stdout != "made\nabsent\n" {
			t.Fatalf("exec: %v", r)
		}
		got := states()
		initPid := b.State("nx").Pid
		if len(got) != 2 || got[0].Pid != initPid || got[1].Pid == initPid || got[1].Pid <= 0 ||
			got[1].State.Pid != initPid || got[1].State.Status != specs.StateRunning {
			t.Fatalf("agent got states %+v, want init's (pid %d) then the exec'd process's", got, initPid)
		}
	})
}

func TestSeccompBadProfiles(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nobody-listens.sock")
	tests := []struct {
		name    string
		profile *specs.LinuxSeccomp
		want    string
	}{
		{"unknown action", denyOne("SCMP_ACT_EXPLODE", nil), `unknown action "SCMP_ACT_EXPLODE"`},
		{"unknown arch", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{"SCMP_ARCH_PDP11"}}, `unknown architecture "SCMP_ARCH_PDP11"`},
		{"unknown operator", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"kill"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 1, Op: "SCMP_CMP_SOMETIMES"}}}}}, `unknown operator "SCMP_CMP_SOMETIMES"`},
		{"unknown flag", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_NOPE"}}, `unknown flag "SECCOMP_FILTER_FLAG_NOPE"`},
		{"errnoRet on kill", denyOne(specs.ActKillProcess, errnoPtr(1)), "errnoRet is set but SCMP_ACT_KILL_PROCESS returns no errno"},
		{"notify without listener", notifyProfile("", ""), "listenerPath is not set"},
		{"listener not there", notifyProfile(missing, ""), "seccomp listenerPath: connect to " + missing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBerth(t)
			bun := seccompBundle(t, tc.profile, "true")
			r := b.MustFail([]string{`create container "bad"`, tc.want}, "create", "--bundle", bun.Dir, "bad")
			if strings.Count(strings.TrimSpace(r.Stderr), "\n") > 0 {
				t.Errorf("error is not one line: %q", r.Stderr)
			}
		})
	}
}

// berthFeatures runs `berth features` and parses its output.
func berthFeatures(t *testing.T, b *berth) *features.Features {
	t.Helper()
	r := b.MustRun("features")
	var f features.Features
	if err := json.Unmarshal([]byte(r.Stdout), &f); err != nil {
		t.Fatalf("parse features %q: %v", r.Stdout, err)
	}
	return &f
}

func TestFeatures(t *testing.T) {
	b := newBerth(t)
	f := berthFeatures(t, b)
	if f.OCIVersionMin != "1.0.0" || f.OCIVersionMax != specs.Version {
		t.Errorf("oci versions %q … %q", f.OCIVersionMin, f.OCIVersionMax)
	}
	for _, o := range []string{"ro", "rbind", "nosuid", "rprivate", "nosymfollow", "rro"} {
		if !slices.Contains(f.MountOptions, o) {
			t.Errorf("mountOptions %v lack %q", f.MountOptions, o)
		}
	}
	l := f.Linux
	if l == nil || l.Seccomp == nil || l.Cgroup == nil || l.Apparmor == nil || l.Selinux == nil {
		t.Fatalf("linux section incomplete: %+v", l)
	}
	if !slices.Contains(l.Capabilities, "CAP_SYS_ADMIN") || !slices.Contains(l.Capabilities, "CAP_CHOWN") {
		t.Errorf("capabilities %v", l.Capabilities)
	}
	sc := l.Seccomp
	if sc.Enabled == nil || !*sc.Enabled {
		t.Error("seccomp not enabled")
	}
	for _, want := range []struct {
		list []string
		item string
	}{
		{sc.Actions, "SCMP_ACT_NOTIFY"}, {sc.Actions, "SCMP_ACT_KILL_PROCESS"}, {sc.Operators, "SCMP_CMP_MASKED_EQ"},
		{sc.Archs, "SCMP_ARCH_X86_64"}, {sc.KnownFlags, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"}, {sc.SupportedFlags, "SECCOMP_FILTER_FLAG_LOG"},
	} {
		if !slices.Contains(want.list, want.item) {
			t.Errorf("seccomp lists %v lack %s", want.list, want.item)
		}
	}
	for _, fl := range sc.SupportedFlags {
		if !slices.Contains(sc.KnownFlags, fl) {
			t.Errorf("supported flag %s is not a known one", fl)
		}
	}
	// Support in berth, not on this host: TestLSMNotOnHost and the VM's
	// TestAppArmor show what it does with the fields.
	if l.Apparmor.Enabled == nil || !*l.Apparmor.Enabled || l.Selinux.Enabled == nil || !*l.Selinux.Enabled {
		t.Error("apparmor or selinux not claimed: berth applies both")
	}
	if v := f.Annotations["io.github.seccomp.libseccomp.version"]; v == "" || !strings.Contains(b.MustRun("--version").Stdout, "libseccomp: "+v) {
		t.Errorf("libseccomp version annotation %q does not match --version", v)
	}
}

// TestFeaturesHold creates a container with everything `berth features`
// claims at once: every namespace, every architecture and supported flag,
// a rule for every action and operator. A known flag that is not
// supported must fail clearly.
func TestFeaturesHold(t *testing.T) {
	b := newBerth(t)
	f := berthFeatures(t, b)
	sc := f.Linux.Seccomp
	profile := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}
	for _, a := range sc.Archs {
		profile.Architectures = append(profile.Architectures, specs.Arch(a))
	}
	for _, fl := range sc.SupportedFlags {
		profile.Flags = append(profile.Flags, specs.LinuxSeccompFlag(fl))
	}
	// Rules on syscalls that echo never makes, told apart by an argument.
	for _, a := range sc.Actions {
		if a == string(specs.ActNotify) || a == string(specs.ActAllow) {
			continue // notify needs an agent; TestSeccompNotify covers it
		}
		profile.Syscalls = append(profile.Syscalls, specs.LinuxSyscall{Names: []string{"acct"}, Action: specs.LinuxSeccompAction(a),
			Args: []specs.LinuxSeccompArg{{Index: 0, Op: specs.OpEqualTo, Value: uint64(len(profile.Syscalls))}}})
	}
	for i, op := range sc.Operators {
		profile.Syscalls = append(profile.Syscalls, specs.LinuxSyscall{Names: []string{"swapon"}, Action: specs.ActErrno,
			Args: []specs.LinuxSeccompArg{{Index: uint(i % 2), Op: specs.LinuxSeccompOperator(op), Value: 12345, ValueTwo: 12345}}})
	}
	bun := seccompBundle(t, profile, "echo ran")
	bun.Spec.Linux.Namespaces = nil
	for _, ns := range f.Linux.Namespaces {
		bun.Spec.Linux.Namespaces = append(bun.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.LinuxNamespaceType(ns)})
	}
	// A user namespace needs id maps; the identity keeps the rootfs,
	// owned by the host's root, reachable.
	identity := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 65536}}
	bun.Spec.Linux.UIDMappings, bun.Spec.Linux.GIDMappings = identity, identity
	bun.Save(t)
	if r := b.RunContainer(bun, "all"); r.Code != 0 || r.Stdout != "ran\n" {
		t.Fatalf("a container with everything features lists: %v", r)
	}
	for _, fl := range sc.KnownFlags {
		if slices.Contains(sc.SupportedFlags, fl) {
			continue
		}
		t.Logf("%s is known but not supported here: create must refuse it", fl)
		profile := denyOne(specs.ActErrno, nil)
		profile.Flags = []specs.LinuxSeccompFlag{specs.LinuxSeccompFlag(fl)}
		bun := seccompBundle(t, profile, "true")
		b.MustFail([]string{"seccomp: flag " + fl + " is not supported on this host"}, "create", "--bundle", bun.Dir, "flag")
	}
}
