package seccomp

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// mkdiratRules is a profile of n rules on mkdirat, each comparing conds
// arguments with its own value.
func mkdiratRules(n, conds int) *specs.LinuxSeccomp {
	c := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}
	for i := range n {
		call := specs.LinuxSyscall{Names: []string{"mkdirat"}, Action: specs.ActErrno}
		for a := range conds {
			call.Args = append(call.Args, specs.LinuxSeccompArg{Index: uint(1 + a), Value: uint64(i), Op: specs.OpEqualTo})
		}
		c.Syscalls = append(c.Syscalls, call)
	}
	return c
}

func TestProfileLimits(t *testing.T) {
	for _, tc := range []struct {
		c    *specs.LinuxSeccomp
		want string
	}{
		{mkdiratRules(MaxRules+1, 0), "4097 syscall rules, more than berth's limit of 4096"},
		{mkdiratRules(2000, 3), "BPF instructions, more than the kernel's limit of 4096"},
	} {
		err := Validate(tc.c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate = %v, want %q", err, tc.want)
		}
	}
	f, err := New(mkdiratRules(1000, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer f.filter.Release()
	if insns, _, err := f.Program(); err != nil || len(insns) == 0 || len(insns) > bpfMaxInsns {
		t.Errorf("Program of 1000 rules: %d instructions, %v", len(insns), err)
	}
}

// FuzzProfile builds profiles as configs give them, the seccomp sections
// of engine configs among the seeds: New accepts or refuses with one
// line, and what it accepts the kernel can load.
func FuzzProfile(f *testing.F) {
	paths, _ := filepath.Glob("../../spec/testdata/engines/*.json")
	for _, p := range paths {
		var s specs.Spec
		if data, err := os.ReadFile(p); err == nil && json.Unmarshal(data, &s) == nil && s.Linux != nil && s.Linux.Seccomp != nil {
			seed, _ := json.Marshal(s.Linux.Seccomp)
			f.Add(string(seed))
		}
	}
	for _, c := range []*specs.LinuxSeccomp{mkdiratRules(3, 2), rule(specs.LinuxSyscall{Names: []string{"kill"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 1, Value: 9, ValueTwo: 9, Op: specs.OpMaskedEqual}}})} {
		seed, _ := json.Marshal(c)
		f.Add(string(seed))
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var c specs.LinuxSeccomp
		if json.Unmarshal([]byte(doc), &c) != nil || UsesNotify(&c) {
			return // a notify profile needs an agent's socket
		}
		filter, err := New(&c)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		defer filter.filter.Release()
		insns, _, err := filter.Program()
		if err != nil || len(insns) == 0 || len(insns) > bpfMaxInsns {
			t.Fatalf("New accepted a profile whose program has %d instructions (%v)", len(insns), err)
		}
	})
}
