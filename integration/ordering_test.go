package integration

import (
	"os"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// A profile written before close_range(2) and friends, loaded without
// no_new_privs (so before init drops capabilities): init must do its fd
// marking and cwd check before the filter, or the container never starts.
func TestSeccompOlderThanInitsSyscalls(t *testing.T) {
	b := newBerth(t)
	profile := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{
			Names:  []string{"close_range", "getcwd"},
			Action: specs.ActErrno,
		}},
	}
	bun := seccompBundle(t, profile, "echo started")
	bun.Spec.Process.NoNewPrivileges = false
	bun.Save(t)
	if r := b.RunContainer(bun, "oldprofile"); r.Code != 0 || r.Stdout != "started\n" {
		t.Errorf("a filter denying close_range and getcwd: %v", r)
	}
}

// A low RLIMIT_AS applies to the user's process, not to berth's init,
// whose Go runtime reserves more address space than that.
func TestRlimitAddressSpace(t *testing.T) {
	b := newBerth(t)
	bun := seccompBundle(t, denyOne(specs.ActErrno, nil), "ulimit -v")
	bun.Spec.Process.Rlimits = append(bun.Spec.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_AS", Soft: 256 << 20, Hard: 256 << 20})
	bun.Save(t)
	r := b.RunContainer(bun, "rlimitas")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != strconv.Itoa(256<<10) {
		t.Errorf("RLIMIT_AS 256 MiB: %v, want ulimit -v %d", r, 256<<10)
	}

	bad := newBundle(t, "true")
	bad.Spec.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 10, Hard: 5}}
	bad.Save(t)
	b.MustFail([]string{"RLIMIT_NOFILE", "soft limit 10 is above its hard limit 5"}, "run", "--bundle", bad.Dir, "badrlimit")
}

// When start returns, the user's process runs: a signal sent then reaches
// it, not berth's init.
func TestStartReturnsAfterExec(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sleep", "1000")
	for i := 0; i < 5; i++ {
		id := "exec" + strconv.Itoa(i)
		b.MustRun("create", "--bundle", bun.Dir, id)
		pid := b.State(id).Pid
		b.MustRun("start", id)
		exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
		if err != nil || !strings.HasSuffix(exe, "/busybox") {
			t.Errorf("right after start, init's executable is %q (%v), want the container's busybox", exe, err)
		}
		b.MustRun("delete", "--force", id)
	}
}
