package integration

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Huge and hostile configs (issue 15): each is refused at once with an
// error that names the limit, or runs in time and memory that grow with
// its size. The bounds below only guard against a hang or a blow-up: this
// machine is shared and noisy, so no test measures speed.

// measured is what one berth command did and cost.
type measured struct {
	result
	wall   time.Duration
	maxRSS int64 // bytes, of berth and the children it waited for
}

// RunMeasured runs berth like Run, giving it up to limit, and reports
// its wall-clock time and peak memory.
func (b *berth) RunMeasured(limit time.Duration, args ...string) measured {
	b.t.Helper()
	if i := len(args) - 1; i > 0 && (args[0] == "run" || args[0] == "create") {
		b.ids[args[i]] = true
	}
	cmd := exec.Command(b.Binary, append([]string{"--root", b.Root}, args...)...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.t.Fatalf("start berth: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(limit):
		_ = cmd.Process.Kill()
		<-done
		b.t.Fatalf("berth %s took more than %v", strings.Join(args, " "), limit)
	}
	m := measured{result: result{Stdout: stdout.String(), Stderr: stderr.String(), Code: cmd.ProcessState.ExitCode()}, wall: time.Since(start)}
	m.maxRSS = cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
	b.t.Logf("berth %s: exit %d in %v, peak RSS %d MiB", args[0], m.Code, m.wall.Round(time.Millisecond), m.maxRSS>>20)
	return m
}

// mustStayUnder fails the test unless m used at most maxRSS bytes.
func mustStayUnder(t *testing.T, m measured, maxRSS int64) {
	t.Helper()
	if m.maxRSS > maxRSS {
		t.Errorf("berth peaked at %d MiB, want at most %d MiB", m.maxRSS>>20, maxRSS>>20)
	}
	if strings.Contains(m.Stderr, "panic") || strings.Contains(m.Stderr, "goroutine ") {
		t.Errorf("berth panicked: %s", m.Stderr)
	}
}

// TestHugeCpusetList gives linux.resources.cpu.cpus as "0-65535" written
// 20000 times (160 KB). The list was expanded member by member while the
// config was checked: 1.3 billion numbers, 7 GB and 28 s here, before the
// kernel refused the value; a 16 MB config would have had the kernel kill
// berth for memory. The ranges are now merged first: at most 65536
// members, whatever the list's length. Found by FuzzParseList.
func TestHugeCpusetList(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "true")
	cpus := strings.Repeat("0-65535,", 20000) + "0"
	if bun.Spec.Linux.Resources == nil {
		bun.Spec.Linux.Resources = &specs.LinuxResources{}
	}
	bun.Spec.Linux.Resources.CPU = &specs.LinuxCPU{Cpus: cpus}
	bun.Save(t)
	m := b.RunMeasured(time.Minute, "run", "--bundle", bun.Dir, "fz-cpus")
	mustStayUnder(t, m, 256<<20)
	if m.Code == 0 || len(m.Stderr) > 1000 {
		t.Errorf("want a short error (the host has no CPU 65535): %.300s", m.Stderr)
	}
}
