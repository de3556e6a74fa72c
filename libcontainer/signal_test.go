package libcontainer

import (
	"os/exec"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/libcontainer/cgroups"
)

// relisted is a container's cgroups whose listings the test scripts: each
// call of Pids returns the next one, the last one again once they run out.
type relisted struct {
	cgroups.Manager
	lists [][]int
}

func (r *relisted) Pids() ([]int, error) {
	pids := r.lists[0]
	if len(r.lists) > 1 {
		r.lists = r.lists[1:]
	}
	return pids, nil
}

// TestSignalCgroupSkipsReusedPid is `kill --all` losing the race it cannot
// be made to lose on demand: a pid read from the cgroups belonged to a
// container process that has exited since, and a host process (victim)
// has it now. The victim is not in the cgroups when they are listed
// again, and must not get the signal; the member must.
func TestSignalCgroupSkipsReusedPid(t *testing.T) {
	start := func() *exec.Cmd {
		cmd := exec.Command("sleep", "60")
		if err := cmd.Start(); err != nil {
			t.Skipf("no sleep to signal: %v", err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}
	victim, member := start(), start()
	cg := &relisted{lists: [][]int{{victim.Process.Pid, member.Process.Pid}, {member.Process.Pid}}}
	if err := signalCgroup(cg, unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = member.Wait()
	if ws := member.ProcessState.Sys().(syscall.WaitStatus); ws.Signal() != unix.SIGTERM {
		t.Errorf("the member of the cgroups: %v, want killed by SIGTERM", ws)
	}
	// A signal is delivered by the time kill(2) returns; the victim's
	// death takes a moment more.
	time.Sleep(50 * time.Millisecond)
	var ws unix.WaitStatus
	if pid, _ := unix.Wait4(victim.Process.Pid, &ws, unix.WNOHANG, nil); pid != 0 {
		t.Errorf("the process that took a listed pid was signalled: %v", ws)
	}
}
