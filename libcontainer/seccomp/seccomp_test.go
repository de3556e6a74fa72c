package seccomp

import (
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func errno(n uint) *uint { return &n }

// rule is a profile that allows everything but applies one rule.
func rule(call specs.LinuxSyscall) *specs.LinuxSeccomp {
	return &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{call}}
}

func TestEveryActionBuilds(t *testing.T) {
	for _, name := range Actions() {
		t.Run(name, func(t *testing.T) {
			c := rule(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.LinuxSeccompAction(name)})
			if name == string(specs.ActNotify) {
				c.ListenerPath = "/run/agent.sock"
			}
			if err := Validate(c); err != nil {
				t.Fatalf("rule with %s: %v", name, err)
			}
			// Every action but ALLOW can also be the default.
			if name == string(specs.ActAllow) || name == string(specs.ActNotify) {
				return
			}
			c = &specs.LinuxSeccomp{DefaultAction: specs.LinuxSeccompAction(name),
				Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActAllow}}}
			if err := Validate(c); err != nil {
				t.Fatalf("default %s: %v", name, err)
			}
		})
	}
}

func TestEveryOperatorBuilds(t *testing.T) {
	for _, op := range Operators() {
		t.Run(op, func(t *testing.T) {
			c := rule(specs.LinuxSyscall{Names: []string{"personality"}, Action: specs.ActErrno,
				Args: []specs.LinuxSeccompArg{{Index: 0, Value: 8, ValueTwo: 8, Op: specs.LinuxSeccompOperator(op)}}})
			if err := Validate(c); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestConditionsBuild(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []specs.LinuxSeccompArg
	}{
		{"different arguments", []specs.LinuxSeccompArg{{Index: 0, Value: 1, Op: specs.OpEqualTo}, {Index: 1, Value: 0, Op: specs.OpEqualTo}}},
		{"same argument twice", []specs.LinuxSeccompArg{{Index: 0, Value: 1, Op: specs.OpEqualTo}, {Index: 0, Value: 2, Op: specs.OpEqualTo}}},
		{"all six arguments", []specs.LinuxSeccompArg{{Index: 0, Op: specs.OpEqualTo}, {Index: 1, Op: specs.OpEqualTo}, {Index: 2, Op: specs.OpEqualTo},
			{Index: 3, Op: specs.OpEqualTo}, {Index: 4, Op: specs.OpEqualTo}, {Index: 5, Op: specs.OpEqualTo}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := Validate(rule(specs.LinuxSyscall{Names: []string{"kill"}, Action: specs.ActErrno, Args: tc.args})); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestFlags(t *testing.T) {
	known, supported := KnownFlags(), SupportedFlags()
	for _, want := range []string{"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"} {
		if !slices.Contains(known, want) {
			t.Errorf("KnownFlags() = %v, lacks %s", known, want)
		}
	}
	for _, flag := range known {
		t.Run(flag, func(t *testing.T) {
			c := rule(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActErrno})
			c.Flags = []specs.LinuxSeccompFlag{specs.LinuxSeccompFlag(flag)}
			err := Validate(c)
			switch {
			case slices.Contains(supported, flag) && err != nil:
				t.Fatalf("supported flag fails: %v", err)
			case !slices.Contains(supported, flag) && err == nil:
				t.Fatal("unsupported flag builds, want an error")
			case err != nil && !strings.Contains(err.Error(), "not supported on this host"):
				t.Fatalf("unsupported flag: unclear error %q", err)
			case err != nil:
				t.Logf("not supported here: %v", err)
			}
		})
	}
}

func TestArchs(t *testing.T) {
	a := Archs()
	for _, want := range []string{"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"} {
		if !slices.Contains(a, want) {
			t.Errorf("Archs() = %v, lacks %s", a, want)
		}
	}
	c := rule(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActErrno})
	for _, arch := range a {
		c.Architectures = append(c.Architectures, specs.Arch(arch))
	}
	if err := Validate(c); err != nil {
		t.Fatalf("all of Archs(): %v", err)
	}
}

func TestUnknownSyscallIgnored(t *testing.T) {
	c := rule(specs.LinuxSyscall{Names: []string{"no_such_syscall", "mkdir"}, Action: specs.ActErrno})
	if err := Validate(c); err != nil {
		t.Fatal(err)
	}
}

func TestBadProfiles(t *testing.T) {
	tests := []struct {
		name string
		c    *specs.LinuxSeccomp
		want string
	}{
		{"unknown default action", &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_BOGUS"}, `unknown action "SCMP_ACT_BOGUS"`},
		{"missing default action", &specs.LinuxSeccomp{}, `seccomp defaultAction: unknown action ""`},
		{"unknown rule action", rule(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: "SCMP_ACT_NOPE"}), `unknown action "SCMP_ACT_NOPE"`},
		{"unknown arch", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{"SCMP_ARCH_Z80"}}, `unknown architecture "SCMP_ARCH_Z80"`},
		{"other byte order", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchS390X}}, "has another byte order"},
		{"unknown flag", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_FAST"}}, `unknown flag "SECCOMP_FILTER_FLAG_FAST"`},
		{"unknown operator", rule(specs.LinuxSyscall{Names: []string{"kill"}, Action: specs.ActErrno,
			Args: []specs.LinuxSeccompArg{{Index: 1, Op: "SCMP_CMP_ABOUT"}}}), `unknown operator "SCMP_CMP_ABOUT"`},
		{"argument index out of range", rule(specs.LinuxSyscall{Names: []string{"kill"}, Action: specs.ActErrno,
			Args: []specs.LinuxSeccompArg{{Index: 6, Op: specs.OpEqualTo}}}), "argument 6"},
		{"no names", rule(specs.LinuxSyscall{Action: specs.ActErrno}), "list at least one syscall"},
		{"empty name", rule(specs.LinuxSyscall{Names: []string{"mkdir", ""}, Action: specs.ActErrno}), "no empty names"},
		{"errnoRet on allow", rule(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActKillProcess, ErrnoRet: errno(1)}),
			"errnoRet is set but SCMP_ACT_KILL_PROCESS returns no errno"},
		{"defaultErrnoRet on kill", &specs.LinuxSeccomp{DefaultAction: specs.ActKill, DefaultErrnoRet: errno(1)},
			"errnoRet is set but SCMP_ACT_KILL returns no errno"},
		{"errnoRet too big", rule(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errno(70000)}), "does not fit in 16 bits"},
		{"notify without listener", rule(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActNotify}), "listenerPath is not set"},
		{"metadata without listener", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerMetadata: "x"}, "listenerMetadata is set without listenerPath"},
		{"notify as default", &specs.LinuxSeccomp{DefaultAction: specs.ActNotify, ListenerPath: "/run/a.sock"}, "cannot be the default action"},
		{"notify on sendmsg", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/run/a.sock",
			Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir", "sendmsg"}, Action: specs.ActNotify}}}, "cannot apply to sendmsg"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.c)
			if err == nil {
				t.Fatalf("Validate succeeded, want an error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %q, want one line containing %q", err, tc.want)
			}
		})
	}
}

func TestUsesNotify(t *testing.T) {
	if UsesNotify(nil) || UsesNotify(rule(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActErrno})) {
		t.Error("UsesNotify is true without a notify rule")
	}
	if !UsesNotify(rule(specs.LinuxSyscall{Names: []string{"mkdir"}, Action: specs.ActNotify})) {
		t.Error("UsesNotify is false with a notify rule")
	}
}

func TestRuleSameAsDefaultSkipped(t *testing.T) {
	c := &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: errno(38),
		Syscalls: []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: errno(38)}}}
	if err := Validate(c); err != nil {
		t.Fatal(err)
	}
}
