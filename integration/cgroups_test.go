package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// The cgroup tests check limits in the kernel's own files. They run on this
// host's v1 (hybrid) hierarchy and, under hack/vm-test.sh, on a pure cgroup
// v2 kernel; each checks the files of the version it finds.

// unifiedHost reports whether /sys/fs/cgroup is the v2 hierarchy.
func unifiedHost() bool {
	_, err := os.Stat("/sys/fs/cgroup/cgroup.controllers")
	return err == nil
}

// inVM reports whether the tests run in hack/vm-test.sh's VM. There they
// run in a service cgroup that holds processes, which cgroup v2 forbids to
// pass controllers down to the containers nested in it; so there the
// containers get a cgroupsPath of their own, below the root, as an engine
// gives one.
func inVM() bool { return os.Getenv("BERTH_IN_VM") == "1" && unifiedHost() }

// vmCgroupParent is where the containers of the cgroup tests go in the VM.
const vmCgroupParent = "/berth-test"

// cgroupBundle makes a bundle for container id of a cgroup test.
func cgroupBundle(t *testing.T, id string, args ...string) *bundle {
	t.Helper()
	bun := newBundle(t, args...)
	if inVM() {
		bun.Spec.Linux.CgroupsPath = vmCgroupParent + "/" + id
		bun.Save(t)
	}
	return bun
}

// containerCgroup returns the cgroup directory of container id for a v1
// controller, or its v2 directory on a unified host. Containers with no
// cgroupsPath nest under the test process's own cgroup.
func containerCgroup(t *testing.T, controller, id string) string {
	t.Helper()
	if inVM() {
		return filepath.Join("/sys/fs/cgroup", vmCgroupParent, id)
	}
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		if unifiedHost() && f[1] == "" {
			return filepath.Join("/sys/fs/cgroup", f[2], id)
		}
		if !unifiedHost() && slices.Contains(strings.Split(f[1], ","), controller) {
			return filepath.Join("/sys/fs/cgroup", controller, f[2], id)
		}
	}
	t.Skipf("skip: no %s cgroup controller on this host", controller)
	return ""
}

// cgroupFile reads a file of container id's cgroup for controller.
func cgroupFile(t *testing.T, controller, id, file string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(containerCgroup(t, controller, id), file))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// cgroupKey reads one "key value" line of a flat keyed cgroup file.
func cgroupKey(t *testing.T, controller, id, file, key string) uint64 {
	t.Helper()
	for _, line := range strings.Split(cgroupFile(t, controller, id, file), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok && k == key {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			if err != nil {
				t.Fatalf("%s: %q: %v", file, line, err)
			}
			return n
		}
	}
	t.Fatalf("%s has no %s", file, key)
	return 0
}

// hasCgroupFile reports whether container id's cgroup for controller has
// file, which tells which kernel features the host has.
func hasCgroupFile(t *testing.T, controller, id, file string) bool {
	_, err := os.Stat(filepath.Join(containerCgroup(t, controller, id), file))
	return err == nil
}

func resources(bun *bundle) *specs.LinuxResources {
	if bun.Spec.Linux.Resources == nil {
		bun.Spec.Linux.Resources = &specs.LinuxResources{}
	}
	return bun.Spec.Linux.Resources
}

func ptr[T any](v T) *T { return &v }

// startDetached runs the bundle in the background and deletes it when the
// test ends.
func startDetached(t *testing.T, b *berth, bun *bundle, id string) {
	t.Helper()
	bun.Save(t)
	b.MustRun("run", "-d", "--bundle", bun.Dir, id)
	t.Cleanup(func() { b.Run("delete", "--force", id) })
}

// eventsStream runs `berth events` for id in the background and returns
// the file its stdout goes to; it is killed when the test ends.
func eventsStream(t *testing.T, b *berth, id string, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "events")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(berthBinary, append([]string{"--root", b.Root, "events"}, append(args, id)...)...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return out
}

type eventLine struct {
	Type string          `json:"type"`
	ID   string          `json:"id"`
	Data json.RawMessage `json:"data"`
}

func readEvents(t *testing.T, path string) []eventLine {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var events []eventLine
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e eventLine
		if line == "" || json.Unmarshal([]byte(line), &e) != nil {
			continue
		}
		events = append(events, e)
	}
	return events
}

// TestCgroupMemoryOOM runs a process past the memory limit: the kernel
// kills it, counts the kill, and `events` reports an oom event.
func TestCgroupMemoryOOM(t *testing.T) {
	b := newBerth(t)
	bun := cgroupBundle(t, "oom")
	// The hog waits for the go-ahead so that events is watching first.
	script(bun, "while [ ! -e /go/now ]; do sleep 0.05; done; tail /dev/zero; sleep 1000")
	addMount(bun, specs.Mount{Destination: "/go", Type: "bind", Source: t.TempDir(), Options: []string{"bind"}})
	limit := int64(32 << 20)
	resources(bun).Memory = &specs.LinuxMemory{Limit: &limit, Swap: &limit}
	startDetached(t, b, bun, "oom")
	file := "memory.limit_in_bytes"
	if unifiedHost() {
		file = "memory.max"
	}
	if got := cgroupFile(t, "memory", "oom", file); got != strconv.FormatInt(limit, 10) {
		t.Fatalf("%s = %s, want %d", file, got, limit)
	}
	events := eventsStream(t, b, "oom", "--interval", "1h")
	// Give events a moment to register before the hog starts; the
	// outcome does not depend on it, as the kill is counted either way.
	time.Sleep(200 * time.Millisecond)
	writeFile(t, filepath.Join(bun.Spec.Mounts[len(bun.Spec.Mounts)-1].Source, "now"), "")
	waitFor(t, "an OOM kill", func() bool {
		if unifiedHost() {
			return cgroupKey(t, "memory", "oom", "memory.events", "oom_kill") > 0
		}
		return cgroupKey(t, "memory", "oom", "memory.oom_control", "oom_kill") > 0
	})
	waitFor(t, "an oom event from berth events", func() bool {
		for _, e := range readEvents(t, events) {
			if e.Type == "oom" && e.ID == "oom" {
				return true
			}
		}
		return false
	})
	// The container's shell survives; only the hog was killed.
	if st := b.State("oom"); st.Status != "running" {
		t.Errorf("status after the OOM kill = %s, want running", st.Status)
	}
}

// TestCgroupPidsLimit runs a bounded fork bomb: forks past pids.max fail
// and the kernel counts them.
func TestCgroupPidsLimit(t *testing.T) {
	b := newBerth(t)
	bun := cgroupBundle(t, "pids")
	// A shell exits when a fork fails: the bomb runs in a subshell, and
	// init then execs rather than forks.
	script(bun, "(for i in $(seq 40); do sleep 1000 & done) 2>/dev/null; exec sleep 1000")
	resources(bun).Pids = &specs.LinuxPids{Limit: ptr[int64](10)}
	startDetached(t, b, bun, "pids")
	if got := cgroupFile(t, "pids", "pids", "pids.max"); got != "10" {
		t.Fatalf("pids.max = %s, want 10", got)
	}
	waitFor(t, "a refused fork (pids.events max > 0)", func() bool {
		return cgroupKey(t, "pids", "pids", "pids.events", "max") > 0
	})
	if n, _ := strconv.Atoi(cgroupFile(t, "pids", "pids", "pids.current")); n > 10 || n < 2 {
		t.Errorf("pids.current = %d, want 2 to 10", n)
	}
	if st := b.State("pids").Status; st != "running" {
		t.Errorf("status = %s, want running", st)
	}
	var pids []int
	if err := json.Unmarshal([]byte(b.MustRun("ps", "--format", "json", "pids").Stdout), &pids); err != nil || len(pids) > 10 {
		t.Errorf("ps --format json = %v (%v), want at most 10 pids", pids, err)
	}
}

// TestCgroupCPUQuota runs a busy loop under a 10% quota: the kernel
// throttles it.
func TestCgroupCPUQuota(t *testing.T) {
	b := newBerth(t)
	bun := cgroupBundle(t, "quota")
	script(bun, "while :; do :; done")
	resources(bun).CPU = &specs.LinuxCPU{Quota: ptr[int64](10000), Period: ptr[uint64](100000)}
	startDetached(t, b, bun, "quota")
	if unifiedHost() {
		if got := cgroupFile(t, "cpu", "quota", "cpu.max"); got != "10000 100000" {
			t.Fatalf("cpu.max = %q, want 10000 100000", got)
		}
	} else if got := cgroupFile(t, "cpu", "quota", "cpu.cfs_quota_us"); got != "10000" {
		t.Fatalf("cpu.cfs_quota_us = %s, want 10000", got)
	}
	waitFor(t, "throttling (cpu.stat nr_throttled > 0)", func() bool {
		return cgroupKey(t, "cpu", "quota", "cpu.stat", "nr_throttled") > 0
	})
	var ev eventLine
	if err := json.Unmarshal([]byte(b.MustRun("events", "--stats", "quota").Stdout), &ev); err != nil || ev.Type != "stats" {
		t.Fatalf("events --stats: %v, %+v", err, ev)
	}
	var s struct {
		CPU struct {
			Throttling struct {
				ThrottledPeriods uint64 `json:"throttledPeriods"`
			} `json:"throttling"`
		} `json:"cpu"`
		Pids struct {
			Current uint64 `json:"current"`
		} `json:"pids"`
	}
	if err := json.Unmarshal(ev.Data, &s); err != nil {
		t.Fatal(err)
	}
	if s.CPU.Throttling.ThrottledPeriods == 0 || s.Pids.Current != 1 {
		t.Errorf("events --stats data = %s, want throttled periods and one pid", ev.Data)
	}
}

// cpuUsage reads the container's CPU time from its cgroup.
func cpuUsage(t *testing.T, id string) uint64 {
	if unifiedHost() {
		return cgroupKey(t, "cpu", id, "cpu.stat", "usage_usec")
	}
	n, err := strconv.ParseUint(cgroupFile(t, "cpuacct", id, "cpuacct.usage"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func frozen(t *testing.T, id string) bool {
	if unifiedHost() {
		return cgroupKey(t, "", id, "cgroup.events", "frozen") == 1
	}
	return cgroupFile(t, "freezer", id, "freezer.state") == "FROZEN"
}

// TestCgroupPauseResume freezes a busy container: it stops using CPU until
// resumed. delete --force then removes it while paused.
func TestCgroupPauseResume(t *testing.T) {
	b := newBerth(t)
	bun := cgroupBundle(t, "frz")
	script(bun, "while :; do :; done")
	startDetached(t, b, bun, "frz")
	b.MustRun("pause", "frz")
	if !frozen(t, "frz") {
		t.Fatal("the cgroup is not frozen after pause")
	}
	if st := b.State("frz").Status; st != "paused" {
		t.Errorf("state after pause = %s, want paused", st)
	}
	if out := b.MustRun("list").Stdout; !strings.Contains(out, "paused") {
		t.Errorf("list does not show paused:\n%s", out)
	}
	before := cpuUsage(t, "frz")
	time.Sleep(300 * time.Millisecond)
	if after := cpuUsage(t, "frz"); after != before {
		t.Errorf("a paused container used CPU: %d then %d", before, after)
	}
	b.MustFail([]string{`cannot pause container "frz": it is paused`}, "pause", "frz")
	b.MustRun("resume", "frz")
	if frozen(t, "frz") {
		t.Fatal("the cgroup is still frozen after resume")
	}
	waitFor(t, "CPU use after resume", func() bool { return cpuUsage(t, "frz") > before })
	if st := b.State("frz").Status; st != "running" {
		t.Errorf("state after resume = %s, want running", st)
	}
	b.MustFail([]string{`cannot resume container "frz": it is running, not paused`}, "resume", "frz")

	b.MustRun("pause", "frz")
	b.MustFail([]string{"it is paused"}, "delete", "frz")
	b.MustRun("delete", "--force", "frz")
	if _, err := os.Stat(containerCgroup(t, "freezer", "frz")); !os.IsNotExist(err) {
		t.Errorf("cgroup left after delete --force of a paused container: %v", err)
	}
}

// kill KILL of a paused container stops it, as runc's does: on cgroup v1
// the killed processes would stay frozen until resumed, so berth thaws the
// cgroup after the signal (integration/runcdiff's kill-paused).
func TestCgroupKillPaused(t *testing.T) {
	b := newBerth(t)
	bun := cgroupBundle(t, "kilp")
	script(bun, "while :; do :; done")
	startDetached(t, b, bun, "kilp")
	b.MustRun("pause", "kilp")
	b.MustRun("kill", "kilp", "KILL")
	waitFor(t, "the paused container to stop", func() bool { return b.State("kilp").Status == "stopped" })
	if frozen(t, "kilp") {
		t.Error("the cgroup is still frozen after kill")
	}
	b.MustRun("delete", "kilp")
}

// A container whose cgroup someone else froze (systemctl freeze of its
// slice, say) is paused as well: state says so, and exec refuses at once
// instead of starting a process that would hang frozen; resume thaws it.
func TestCgroupFrozenElsewhere(t *testing.T) {
	b := newBerth(t)
	bun := cgroupBundle(t, "ext")
	script(bun, "while :; do :; done")
	startDetached(t, b, bun, "ext")
	file, value := "freezer.state", "FROZEN"
	if unifiedHost() {
		file, value = "cgroup.freeze", "1"
	}
	writeFile(t, filepath.Join(containerCgroup(t, "freezer", "ext"), file), value)
	waitFor(t, "the cgroup to freeze", func() bool { return frozen(t, "ext") })
	if st := b.State("ext").Status; st != "paused" {
		t.Errorf("state of a container frozen from outside = %s, want paused", st)
	}
	b.MustFail([]string{`cannot exec in container "ext": it is paused`}, "exec", "ext", "true")
	b.MustRun("resume", "ext")
	if frozen(t, "ext") {
		t.Fatal("the cgroup is still frozen after resume")
	}
	if st := b.State("ext").Status; st != "running" {
		t.Errorf("state after resume = %s, want running", st)
	}
}

// TestCgroupPauseStopped refuses to pause a container that has stopped.
func TestCgroupPauseStopped(t *testing.T) {
	b := newBerth(t)
	bun := cgroupBundle(t, "done", "true")
	startDetached(t, b, bun, "done")
	waitFor(t, "the container to stop", func() bool { return b.State("done").Status == "stopped" })
	b.MustFail([]string{`cannot pause container "done": it is stopped`}, "pause", "done")
	b.MustFail([]string{`cannot resume container "done": it is stopped, not paused`}, "resume", "done")
	b.MustFail([]string{`container "done" is not running`}, "events", "done")
	b.MustRun("delete", "done")
}

// TestCgroupUpdate changes limits of a running container with flags, with
// a resources file and with JSON on stdin, and checks the files.
func TestCgroupUpdate(t *testing.T) {
	b := newBerth(t)
	bun := cgroupBundle(t, "upd", "sleep", "1000")
	startDetached(t, b, bun, "upd")
	v2 := unifiedHost()
	swap := hasCgroupFile(t, "memory", "upd", map[bool]string{false: "memory.memsw.limit_in_bytes", true: "memory.swap.max"}[v2])

	args := []string{"update", "--memory", "64m", "--memory-reservation", "32M", "--cpu-share", "512",
		"--cpu-quota", "20000", "--cpu-period", "100000", "--pids-limit", "50", "--cpuset-cpus", "0"}
	if swap {
		args = append(args, "--memory-swap", "128m")
	}
	b.MustRun(append(args, "upd")...)
	want := map[[2]string]string{
		{"memory", "memory.limit_in_bytes"}:      "67108864",
		{"memory", "memory.soft_limit_in_bytes"}: "33554432",
		{"cpu", "cpu.shares"}:                    "512",
		{"cpu", "cpu.cfs_quota_us"}:              "20000",
		{"cpu", "cpu.cfs_period_us"}:             "100000",
		{"pids", "pids.max"}:                     "50",
		{"cpuset", "cpuset.cpus"}:                "0",
	}
	if swap {
		want[[2]string{"memory", "memory.memsw.limit_in_bytes"}] = "134217728"
	}
	if v2 {
		want = map[[2]string]string{
			{"memory", "memory.max"}:  "67108864",
			{"memory", "memory.low"}:  "33554432",
			{"cpu", "cpu.weight"}:     "59",
			{"cpu", "cpu.max"}:        "20000 100000",
			{"pids", "pids.max"}:      "50",
			{"cpuset", "cpuset.cpus"}: "0",
		}
		if swap {
			want[[2]string{"memory", "memory.swap.max"}] = "67108864"
		}
	}
	checkFiles(t, "upd", want)

	// A resources file: only what it names changes; quota keeps its
	// period.
	res := filepath.Join(t.TempDir(), "res.json")
	writeFile(t, res, `{"memory": {"limit": 100663296}, "cpu": {"quota": 30000}, "pids": {"limit": 60}}`)
	b.MustRun("update", "--resources", res, "upd")
	if v2 {
		checkFiles(t, "upd", map[[2]string]string{
			{"memory", "memory.max"}: "100663296", {"cpu", "cpu.max"}: "30000 100000", {"pids", "pids.max"}: "60", {"memory", "memory.low"}: "33554432",
		})
	} else {
		checkFiles(t, "upd", map[[2]string]string{
			{"memory", "memory.limit_in_bytes"}: "100663296", {"cpu", "cpu.cfs_quota_us"}: "30000", {"pids", "pids.max"}: "60", {"cpu", "cpu.shares"}: "512",
		})
	}

	// The same from stdin, lifting the limits.
	stdin, err := os.Open(writeTemp(t, `{"memory": {"limit": -1}, "pids": {"limit": 0}, "cpu": {"quota": -1}}`))
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	if r := b.RunStdin(stdin, "update", "-r", "-", "upd"); r.Code != 0 {
		t.Fatalf("update -r -: %v", r)
	}
	if v2 {
		checkFiles(t, "upd", map[[2]string]string{{"memory", "memory.max"}: "max", {"pids", "pids.max"}: "max", {"cpu", "cpu.max"}: "max 100000"})
	} else {
		checkFiles(t, "upd", map[[2]string]string{{"pids", "pids.max"}: "max", {"cpu", "cpu.cfs_quota_us"}: "-1"})
		if got := cgroupFile(t, "memory", "upd", "memory.limit_in_bytes"); len(got) < 15 {
			t.Errorf("memory.limit_in_bytes = %s, want no limit", got)
		}
	}

	// Bad input changes nothing.
	b.MustFail([]string{`invalid --memory "lots"`}, "update", "--memory", "lots", "upd")
	b.MustFail([]string{"cpu.shares 1: must be 2 to 262144"}, "update", "--cpu-share", "1", "upd")
	b.MustFail([]string{"invalid linux.resources JSON"}, "update", "-r", writeTemp(t, `{"memory": 5}`), "upd")
	b.MustFail([]string{"read --resources", "no such file"}, "update", "-r", "/nonexistent.json", "upd")
	checkFiles(t, "upd", map[[2]string]string{{"pids", "pids.max"}: "max"})
	if r := b.MustRun("update", "--kernel-memory", "1m", "upd"); !strings.Contains(r.Stderr, "--kernel-memory is obsolete and ignored") {
		t.Errorf("update --kernel-memory: no warning in %q", r.Stderr)
	}
	b.MustFail([]string{`container "nosuch" does not exist`}, "update", "--memory", "1m", "nosuch")
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "file")
	writeFile(t, path, content)
	return path
}

// checkFiles compares files of container id's cgroups, keyed by controller
// and file name, with the values wanted.
func checkFiles(t *testing.T, id string, want map[[2]string]string) {
	t.Helper()
	for key, w := range want {
		if got := cgroupFile(t, key[0], id, key[1]); got != w {
			t.Errorf("%s = %q, want %q", key[1], got, w)
		}
	}
}

// TestCgroupResources creates a container with each resource the host
// supports and checks the kernel's files.
func TestCgroupResources(t *testing.T) {
	b := newBerth(t)
	bun := cgroupBundle(t, "res", "sleep", "1000")
	r := resources(bun)
	r.Memory = &specs.LinuxMemory{Limit: ptr[int64](64 << 20), Reservation: ptr[int64](16 << 20)}
	r.CPU = &specs.LinuxCPU{Shares: ptr[uint64](2048), Quota: ptr[int64](50000), Period: ptr[uint64](200000), Cpus: "0", Mems: "0"}
	r.Pids = &specs.LinuxPids{Limit: ptr[int64](99)}
	r.BlockIO = &specs.LinuxBlockIO{}
	dev := blockDevice(t)
	r.BlockIO.ThrottleReadBpsDevice = []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev, Rate: 1 << 20}}
	r.BlockIO.ThrottleWriteIOPSDevice = []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev, Rate: 100}}
	v2 := unifiedHost()
	if !v2 {
		r.Memory.Swappiness = ptr[uint64](10)
		r.Memory.DisableOOMKiller = ptr(true)
		r.CPU.RealtimePeriod = ptr[uint64](100000)
		r.CPU.RealtimeRuntime = ptr[int64](1000)
	} else {
		r.Unified = map[string]string{"memory.high": "50331648"}
	}
	startDetached(t, b, bun, "res")
	devKey := fmt.Sprintf("%d:%d", dev.Major, dev.Minor)
	if v2 {
		checkFiles(t, "res", map[[2]string]string{
			{"memory", "memory.max"}: "67108864", {"memory", "memory.low"}: "16777216", {"memory", "memory.high"}: "50331648",
			{"cpu", "cpu.weight"}: "174", {"cpu", "cpu.max"}: "50000 200000",
			{"cpuset", "cpuset.cpus"}: "0", {"cpuset", "cpuset.mems"}: "0", {"pids", "pids.max"}: "99",
		})
		if got := cgroupFile(t, "io", "res", "io.max"); !strings.Contains(got, devKey+" rbps=1048576 wbps=max riops=max wiops=100") {
			t.Errorf("io.max = %q, want the limits of %s", got, devKey)
		}
		return
	}
	checkFiles(t, "res", map[[2]string]string{
		{"memory", "memory.limit_in_bytes"}: "67108864", {"memory", "memory.soft_limit_in_bytes"}: "16777216",
		{"memory", "memory.swappiness"}: "10",
		{"cpu", "cpu.shares"}:           "2048", {"cpu", "cpu.cfs_quota_us"}: "50000", {"cpu", "cpu.cfs_period_us"}: "200000",
		{"cpu", "cpu.rt_period_us"}: "100000", {"cpu", "cpu.rt_runtime_us"}: "1000",
		{"cpuset", "cpuset.cpus"}: "0", {"cpuset", "cpuset.mems"}: "0", {"pids", "pids.max"}: "99",
		{"blkio", "blkio.throttle.read_bps_device"}: devKey + " 1048576", {"blkio", "blkio.throttle.write_iops_device"}: devKey + " 100",
	})
	if cgroupKey(t, "memory", "res", "memory.oom_control", "oom_kill_disable") != 1 {
		t.Error("memory.oom_control: oom_kill_disable is not 1")
	}
}

// TestCgroupBlockIOWeight sets blockIO.weight where the kernel has a file
// for it, which a probe container's cgroup shows: on cgroup v1 CFQ's
// blkio.weight (gone since Linux 5.0) or BFQ's blkio.bfq.weight, on v2
// BFQ's io.bfq.weight or iocost's io.weight. A v1 host without BFQ has
// none, and runc fails such a config too. The VM's kernel has iocost built
// in, so there the test must not skip.
func TestCgroupBlockIOWeight(t *testing.T) {
	b := newBerth(t)
	controller, files := "blkio", []string{"blkio.weight", "blkio.bfq.weight"}
	if unifiedHost() {
		controller, files = "io", []string{"io.bfq.weight", "io.weight"}
	}
	probe := cgroupBundle(t, "sd-weight-probe", "sleep", "1000")
	startDetached(t, b, probe, "sd-weight-probe")
	i := slices.IndexFunc(files, func(f string) bool { return hasCgroupFile(t, controller, "sd-weight-probe", f) })
	b.MustRun("delete", "--force", "sd-weight-probe")
	if i < 0 {
		if inVM() {
			t.Fatalf("the VM's kernel has none of %v", files)
		}
		t.Skipf("skip: the kernel has none of %v to set blockIO.weight in (no BFQ; CFQ went in Linux 5.0)", files)
	}
	bun := cgroupBundle(t, "sd-weight", "sleep", "1000")
	resources(bun).BlockIO = &specs.LinuxBlockIO{Weight: ptr[uint16](300)}
	startDetached(t, b, bun, "sd-weight")
	// The v1 files hold a number; the v2 ones "default N" and a line per
	// device, and io.weight's range is 1 to 10000.
	want := "300"
	switch files[i] {
	case "io.weight":
		want = "default 2930"
	case "io.bfq.weight":
		want = "default 300"
	}
	if got := cgroupFile(t, controller, "sd-weight", files[i]); !strings.HasPrefix(got, want) {
		t.Errorf("%s = %q, want %q", files[i], got, want)
	}
}

// blockDevice returns the numbers of a disk of the host, for throttling
// rules, which the kernel accepts only for a real block device.
func blockDevice(t *testing.T) specs.LinuxBlockIODevice {
	t.Helper()
	entries, _ := os.ReadDir("/sys/block")
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("/sys/block", e.Name(), "dev"))
		if err != nil || strings.HasPrefix(e.Name(), "loop") || strings.HasPrefix(e.Name(), "zram") || strings.HasPrefix(e.Name(), "ram") {
			continue
		}
		var d specs.LinuxBlockIODevice
		if _, err := fmt.Sscanf(strings.TrimSpace(string(data)), "%d:%d", &d.Major, &d.Minor); err == nil {
			return d
		}
	}
	t.Skip("skip: no disk in /sys/block to throttle")
	return specs.LinuxBlockIODevice{}
}

// TestCgroupSwapAndHugetlb sets the limits that need kernel features some
// hosts lack, and skips each one the host does not have.
func TestCgroupSwapAndHugetlb(t *testing.T) {
	b := newBerth(t)
	probe := cgroupBundle(t, "probe", "sleep", "1000")
	startDetached(t, b, probe, "probe")
	v2 := unifiedHost()
	swapFile := map[bool]string{false: "memory.memsw.limit_in_bytes", true: "memory.swap.max"}[v2]
	hugeFile := map[bool]string{false: "hugetlb.2MB.limit_in_bytes", true: "hugetlb.2MB.max"}[v2]
	haveSwap := hasCgroupFile(t, "memory", "probe", swapFile)
	haveHuge := false
	if v2 {
		haveHuge = hasCgroupFile(t, "hugetlb", "probe", hugeFile)
	} else if _, err := os.Stat("/sys/fs/cgroup/hugetlb"); err == nil {
		haveHuge = hasCgroupFile(t, "hugetlb", "probe", hugeFile)
	}
	b.MustRun("delete", "--force", "probe")

	t.Run("swap", func(t *testing.T) {
		if !haveSwap {
			t.Skipf("skip: this kernel has no swap accounting (no %s); runs in the v2 VM", swapFile)
		}
		bun := cgroupBundle(t, "swap", "sleep", "1000")
		bun.Spec.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](32 << 20), Swap: ptr[int64](48 << 20)}}
		startDetached(t, b, bun, "swap")
		want := map[bool]string{false: "50331648", true: "16777216"}[v2]
		if got := cgroupFile(t, "memory", "swap", swapFile); got != want {
			t.Errorf("%s = %s, want %s", swapFile, got, want)
		}
	})
	t.Run("hugetlb", func(t *testing.T) {
		if !haveHuge {
			t.Skip("skip: no hugetlb controller for the container here (a hybrid host keeps it in the v2 hierarchy); runs in the v2 VM")
		}
		bun := cgroupBundle(t, "huge", "sleep", "1000")
		bun.Spec.Linux.Resources = &specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}}}
		startDetached(t, b, bun, "huge")
		if got := cgroupFile(t, "hugetlb", "huge", hugeFile); got != "4194304" {
			t.Errorf("%s = %s, want 4194304", hugeFile, got)
		}
	})
}

// TestCgroupDevices makes device nodes inside the container: one the
// policy allows opens, one it does not fails with EPERM (devices.deny on
// v1, the eBPF program on v2), unless the config allows it.
func TestCgroupDevices(t *testing.T) {
	b := newBerth(t)
	bun := cgroupBundle(t, "dev1")
	caps := bun.Spec.Process.Capabilities
	caps.Bounding = append(caps.Bounding, "CAP_MKNOD")
	caps.Effective = append(caps.Effective, "CAP_MKNOD")
	caps.Permitted = append(caps.Permitted, "CAP_MKNOD")
	// /dev/fuse (10:229) is not among the default devices, and opening
	// it needs no privilege of its own.
	script(bun, `mknod /dev/fuse2 c 10 229 && mknod /dev/zero2 c 1 5 || exit 9
head -c 1 /dev/zero2 >/dev/null && echo zero ok
(exec 3</dev/fuse2) 2>/tmp/err; echo "fuse $? $(cat /tmp/err)"`)
	tmpfsTmp(bun)
	out := runInside(t, b, bun, "dev1")
	if !strings.Contains(out, "zero ok") {
		t.Errorf("an allowed device did not open:\n%s", out)
	}
	if !strings.Contains(out, "fuse 1") && !strings.Contains(out, "fuse 2") || !strings.Contains(out, "not permitted") {
		t.Errorf("a disallowed device opened, or failed for another reason than EPERM:\n%s", out)
	}

	r := resources(bun)
	r.Devices = append(r.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr[int64](10), Minor: ptr[int64](229), Access: "r"})
	if out := runInside(t, b, bun, "dev2"); !strings.Contains(out, "fuse 0") {
		t.Errorf("a device the config allows did not open:\n%s", out)
	}
}

// TestCgroupDevicesAsRulesSay gives a container device nodes in
// linux.devices and a device policy that denies them: a node is not a
// permission, so the policy holds (a container once wrote to the host's
// /dev/kmsg this way). An allow rule grants only the access it names. On
// both start paths: the parent builds the nodes on one, the Go init on
// the other.
func TestCgroupDevicesAsRulesSay(t *testing.T) {
	b := newBerth(t)
	for _, goInit := range []bool{false, true} {
		id := "tcg-devrules"
		if goInit {
			id += "-goinit"
		}
		t.Run(id, func(t *testing.T) {
			bun := cgroupBundle(t, id)
			bun.Spec.Linux.Devices = []specs.LinuxDevice{
				{Path: "/dev/kmsg", Type: "c", Major: 1, Minor: 11},
				{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229},
			}
			// The default config denies every device; allow reading
			// /dev/fuse only.
			r := resources(bun)
			r.Devices = append(r.Devices, specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr[int64](10), Minor: ptr[int64](229), Access: "r"})
			if goInit {
				bun.Spec.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux}
			}
			// Opened for writing only, /dev/kmsg needs no privilege
			// of its own, and nothing is written.
			script(bun, `for probe in "kmsg w:3>/dev/kmsg" "fuse r:3</dev/fuse" "fuse w:3>/dev/fuse" "null w:3>/dev/null"; do
	if (eval "exec ${probe#*:}") 2>/tmp/err; then echo "${probe%%:*} open"
	elif grep -q "Operation not permitted" /tmp/err; then echo "${probe%%:*} EPERM"
	else echo "${probe%%:*} $(cat /tmp/err)"; fi
done`)
			tmpfsTmp(bun)
			out := runInside(t, b, bun, id)
			for _, want := range []string{"kmsg w EPERM", "fuse r open", "fuse w EPERM", "null w open"} {
				if !strings.Contains(out, want+"\n") {
					t.Errorf("want %q in:\n%s", want, out)
				}
			}
		})
	}
}

// TestCgroupNamespace checks that the container sees its own cgroup as the
// root of each hierarchy.
func TestCgroupNamespace(t *testing.T) {
	b := newBerth(t)
	bun := cgroupBundle(t, "cgns", "cat", "/proc/self/cgroup")
	out := runInside(t, b, bun, "cgns")
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasSuffix(line, ":/") {
			t.Errorf("/proc/self/cgroup inside: %q, want the root /", line)
		}
	}
}

// TestCgroupDeleteRemoves checks that delete removes the cgroup in every
// hierarchy, and that ps lists the container's processes.
func TestCgroupDeleteRemoves(t *testing.T) {
	b := newBerth(t)
	bun := cgroupBundle(t, "gone", "sleep", "1000")
	startDetached(t, b, bun, "gone")
	init := b.State("gone").Pid
	table := b.MustRun("ps", "gone", "--", "-o", "pid,comm").Stdout
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "PID") || !strings.HasPrefix(strings.TrimSpace(lines[1]), strconv.Itoa(init)+" ") {
		t.Errorf("ps table = %q, want the header and init (%d)", table, init)
	}
	b.MustFail([]string{`unknown --format "yaml"`}, "ps", "--format", "yaml", "gone")
	var dirs []string
	for _, c := range []string{"memory", "cpu", "pids", "freezer", "devices"} {
		dirs = append(dirs, containerCgroup(t, c, "gone"))
	}
	b.MustRun("delete", "--force", "gone")
	for _, dir := range dirs {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("cgroup %s left after delete (%v)", dir, err)
		}
	}
}

// TestCgroupBadResources refuses invalid or unsupported resources before
// anything is made.
func TestCgroupBadResources(t *testing.T) {
	b := newBerth(t)
	tests := []struct {
		name string
		r    specs.LinuxResources
		want string
	}{
		{"shares", specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: ptr[uint64](1)}}, "cpu.shares 1: must be 2 to 262144"},
		{"cpus", specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "3-1"}}, `cpu.cpus "3-1"`},
		{"swap", specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: ptr[int64](2 << 20), Swap: ptr[int64](1 << 20)}}, "memory.swap 1048576 is below memory.limit"},
		{"pagesize", specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "3MB", Limit: 1}}}, `pageSize "3MB"`},
		{"device type", specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Type: "z"}}}, `devices[0]: type "z"`},
		{"weight", specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: ptr[uint16](5000)}}, "blockIO.weight 5000"},
	}
	if unifiedHost() {
		tests = append(tests, struct {
			name string
			r    specs.LinuxResources
			want string
		}{"network on v2", specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: ptr[uint32](1)}}, "unsupported linux.resources on cgroup v2: network"})
	} else {
		tests = append(tests, struct {
			name string
			r    specs.LinuxResources
			want string
		}{"unified on v1", specs.LinuxResources{Unified: map[string]string{"memory.high": "1"}}, "unified sets cgroup v2 files, and this host uses cgroup v1"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bun := newBundle(t, "true")
			bun.Spec.Linux.Resources = &tt.r
			bun.Save(t)
			mustFailClean(b, []string{tt.want}, "run", "--bundle", bun.Dir, "bad")
		})
	}
}

// With --systemd-cgroup, linux.cgroupsPath is systemd's "slice:prefix:name",
// as docker, podman and the kubelet give it with the systemd cgroup driver:
// the container goes where systemd's driver would put it (the slice's name
// expanded into nested cgroups, the scope inside), and a path in another
// form fails clearly. The placement needs the root of the hierarchy, which
// is outside this test's cgroup on the host: it runs in the VM.
func TestCgroupSystemdPath(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sleep", "1000")
	bun.Spec.Linux.CgroupsPath = "/berth-test/sd"
	bun.Save(t)
	mustFailClean(b, []string{`"/berth-test/sd"`, "slice:prefix:name"}, "--systemd-cgroup", "run", "-d", "--bundle", bun.Dir, "sd")
	if !inVM() {
		t.Skip("the placement runs in the VM (hack/vm-test.sh): a systemd slice is at the root of the hierarchy, outside this test's cgroup")
	}

	bun.Spec.Linux.CgroupsPath = "berth-test.slice:berth:sd"
	limit := int64(64 << 20)
	bun.Spec.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &limit}}
	bun.Save(t)
	const scope = "/berth.slice/berth-test.slice/berth-sd.scope"
	t.Cleanup(func() {
		for _, dir := range []string{"/berth.slice/berth-test.slice", "/berth.slice"} {
			if err := os.Remove("/sys/fs/cgroup" + dir); err != nil {
				t.Errorf("remove the slice the test made: %v", err)
			}
		}
	})
	b.MustRun("--systemd-cgroup", "run", "-d", "--bundle", bun.Dir, "sd")
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", b.State("sd").Pid))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(data)); got != "0::"+scope {
		t.Errorf("the container is in cgroup %q, want %s", got, scope)
	}
	if max, err := os.ReadFile("/sys/fs/cgroup" + scope + "/memory.max"); err != nil || strings.TrimSpace(string(max)) != "67108864" {
		t.Errorf("memory.max of %s: %q, %v; want 67108864", scope, max, err)
	}
	b.MustRun("delete", "--force", "sd")
	if _, err := os.Stat("/sys/fs/cgroup" + scope); !os.IsNotExist(err) {
		t.Errorf("after delete, %s: %v; want it gone", scope, err)
	}
}

// preexistingCgroup makes, before berth runs, the cgroup that the returned
// cgroupsPath names, in every hierarchy berth uses, nested where
// cgroupBundle nests containers, and sets up its cpuset as an engine
// would. It returns the cgroupsPath and the directories, which are removed
// when the test ends.
func preexistingCgroup(t *testing.T, name string) (string, []string) {
	t.Helper()
	cgroupsPath, parents := name, ownCgroupDirs(t)
	if inVM() {
		cgroupsPath, parents = vmCgroupParent+"/"+name, []string{"/sys/fs/cgroup" + vmCgroupParent}
	}
	var dirs []string
	for _, parent := range parents {
		dir := filepath.Join(parent, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
		for _, file := range []string{"cpuset.cpus", "cpuset.mems"} {
			if value, err := os.ReadFile(filepath.Join(parent, file)); err == nil && !unifiedHost() {
				writeFile(t, filepath.Join(dir, file), string(value))
			}
		}
	}
	t.Cleanup(func() {
		for _, dir := range dirs {
			if err := os.Remove(dir); err != nil && !os.IsNotExist(err) {
				t.Errorf("remove the cgroup the test made: %v", err)
			}
		}
	})
	return cgroupsPath, dirs
}

// startBystander starts a process that is no container's and puts it in
// the cgroups dirs; it is killed when the test ends.
func startBystander(t *testing.T, dirs ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	for _, dir := range dirs {
		writeFile(t, filepath.Join(dir, "cgroup.procs"), itoa(cmd.Process.Pid))
	}
	return cmd
}

// checkBystander fails the test unless the bystander is alive and still in
// the cgroups dirs.
func checkBystander(t *testing.T, cmd *exec.Cmd, dirs ...string) {
	t.Helper()
	if processGone(cmd.Process.Pid) {
		t.Fatalf("the bystander (pid %d) is gone", cmd.Process.Pid)
	}
	for _, dir := range dirs {
		procs, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err != nil || !slices.Contains(strings.Fields(string(procs)), itoa(cmd.Process.Pid)) {
			t.Errorf("the bystander (pid %d) is not in its cgroup %s any more: %q, %v", cmd.Process.Pid, dir, procs, err)
		}
	}
}

func checkCgroupsThere(t *testing.T, dirs []string) {
	t.Helper()
	for _, dir := range dirs {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("the cgroup that was there before berth is gone: %v", err)
		}
	}
}

// TestCgroupPreexisting gives containers a cgroupsPath whose cgroup exists
// before berth runs, as an engine may make it. berth refuses one that
// holds a process, in whichever hierarchy (a shared cgroupsPath once had
// a bystander killed and its cgroup removed), or one that is frozen (the
// init hung in it); and it takes an empty one but never removes it,
// whether create fails late or the container is deleted, nor kills a
// process in it that is not the container's. On both start paths.
func TestCgroupPreexisting(t *testing.T) {
	t.Run("frozen", func(t *testing.T) {
		b := newBerth(t)
		path, dirs := preexistingCgroup(t, "tcg-frozen")
		file, freeze, thaw := "freezer.state", "FROZEN", "THAWED"
		if unifiedHost() {
			file, freeze, thaw = "cgroup.freeze", "1", "0"
		}
		freezer := containerCgroup(t, "freezer", "tcg-frozen")
		writeFile(t, filepath.Join(freezer, file), freeze)
		t.Cleanup(func() { writeFile(t, filepath.Join(freezer, file), thaw) })
		bun := newBundle(t, "true")
		bun.Spec.Linux.CgroupsPath = path
		bun.Save(t)
		mustFailClean(b, []string{"container's cgroup " + freezer + " is frozen"}, "run", "--bundle", bun.Dir, "tcg-frz")
		checkCgroupsThere(t, dirs)
	})
	for _, goInit := range []bool{false, true} {
		suffix := ""
		if goInit {
			suffix = "-goinit"
		}
		bundle := func(t *testing.T, cgroupsPath string, args ...string) *bundle {
			bun := newBundle(t, args...)
			bun.Spec.Linux.CgroupsPath = cgroupsPath
			if goInit {
				bun.Spec.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux}
			}
			bun.Save(t)
			return bun
		}
		t.Run("populated"+suffix, func(t *testing.T) {
			b := newBerth(t)
			path, dirs := preexistingCgroup(t, "tcg-shared"+suffix)
			bun := bundle(t, path, "true")
			// In every hierarchy, as a shared cgroupsPath has it, and
			// in one: each must be checked.
			memory := containerCgroup(t, "memory", "tcg-shared"+suffix)
			for _, in := range [][]string{dirs, {memory}} {
				bystander := startBystander(t, in...)
				for _, cmd := range []string{"run", "create"} {
					mustFailClean(b, []string{"container's cgroup is not empty: 1 process(es) found in "}, cmd, "--bundle", bun.Dir, "tcg-pop"+suffix)
					checkBystander(t, bystander, in...)
					checkCgroupsThere(t, dirs)
				}
				_ = bystander.Process.Kill()
				_ = bystander.Wait()
			}
		})
		t.Run("failed-create"+suffix, func(t *testing.T) {
			b := newBerth(t)
			path, dirs := preexistingCgroup(t, "tcg-empty"+suffix)
			bun := bundle(t, path, "/no/such/program")
			mustFailClean(b, []string{"/no/such/program"}, "run", "--bundle", bun.Dir, "tcg-fail"+suffix)
			checkCgroupsThere(t, dirs)
			bun.Spec.Process.Args = []string{"true"}
			bun.Spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/false"}}}
			bun.Save(t)
			mustFailClean(b, []string{"createRuntime"}, "run", "--bundle", bun.Dir, "tcg-fail"+suffix)
			checkCgroupsThere(t, dirs)
		})
		t.Run("delete"+suffix, func(t *testing.T) {
			b := newBerth(t)
			path, dirs := preexistingCgroup(t, "tcg-kept"+suffix)
			bun := bundle(t, path, "sleep", "1000")
			id := "tcg-del" + suffix
			b.MustRun("run", "-d", "--bundle", bun.Dir, id)
			init := b.State(id).Pid
			// A process put in the container's cgroup after create is
			// not the container's: its pid namespace holds all of those.
			bystander := startBystander(t, dirs...)
			b.MustRun("delete", "--force", id)
			if !processGone(init) {
				t.Errorf("the container's init (pid %d) outlived delete", init)
			}
			checkBystander(t, bystander, dirs...)
			checkCgroupsThere(t, dirs)
		})
	}
}
