package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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
	maxRSS int64 // bytes: the highest VmHWM of berth seen while it ran
}

// RunMeasured runs berth like Run, giving it up to limit, and reports
// its wall-clock time and peak memory. The peak is sampled from /proc
// while berth runs: wait4's ru_maxrss would count the test's own memory,
// which the child shares until it execs (vfork).
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
	var m measured
	deadline := time.After(limit)
	for tick := time.NewTicker(5 * time.Millisecond); ; {
		m.maxRSS = max(m.maxRSS, peakRSS(cmd.Process.Pid))
		select {
		case <-done:
		case <-deadline:
			_ = cmd.Process.Kill()
			<-done
			b.t.Fatalf("berth %s took more than %v", strings.Join(args, " "), limit)
		case <-tick.C:
			continue
		}
		tick.Stop()
		break
	}
	m.wall = time.Since(start)
	m.result = result{Stdout: stdout.String(), Stderr: stderr.String(), Code: cmd.ProcessState.ExitCode()}
	b.t.Logf("berth %s: exit %d in %v, peak RSS %d MiB", args[0], m.Code, m.wall.Round(time.Millisecond), m.maxRSS>>20)
	return m
}

// peakRSS reads the VmHWM of process pid, 0 once it is gone.
func peakRSS(pid int) int64 {
	data, err := os.ReadFile("/proc/" + itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	_, rest, _ := strings.Cut(string(data), "VmHWM:")
	kb, _ := strconv.ParseInt(strings.Fields(rest + " 0")[0], 10, 64)
	return kb << 10
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

// refusedFast saves the bundle, runs it and expects berth to refuse it
// within a minute (the hang guard), naming each of want, in little memory.
func refusedFast(t *testing.T, b *berth, bun *bundle, id string, want ...string) measured {
	t.Helper()
	bun.Save(t)
	return refusedFastAsSaved(t, b, bun, id, want...)
}

// refusedFastAsSaved is refusedFast for a bundle whose config.json is
// written already.
func refusedFastAsSaved(t *testing.T, b *berth, bun *bundle, id string, want ...string) measured {
	t.Helper()
	m := b.RunMeasured(time.Minute, "run", "--bundle", bun.Dir, id)
	if m.Code == 0 {
		t.Fatalf("berth ran the config, want it refused: %v", m.result)
	}
	for _, w := range want {
		if !strings.Contains(m.Stderr, w) {
			t.Errorf("error %.500q does not say %q", m.Stderr, w)
		}
	}
	if len(m.Stderr) > 1000 {
		t.Errorf("error of %d bytes, want one short line", len(m.Stderr))
	}
	mustStayUnder(t, m, 200<<20)
	return m
}

// TestHugeConfigFile gives a config.json of 64 MB, an annotation: berth
// decoded all of it, kept it in the state every `list` reads, and peaked
// at 440 MB (580 MB through the Go init). And one that never ends, a
// symlink to /dev/zero: berth read until the kernel or the Go runtime
// stopped it for memory ("fatal error: out of memory" under a 2 GB
// address-space limit). A config is now read up to 16 MiB, and refused
// past that before it is decoded.
func TestHugeConfigFile(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "true")
	bun.Spec.Annotations = map[string]string{"huge": strings.Repeat("a", 64<<20)}
	refusedFast(t, b, bun, "fz-huge-config", "config.json", "16 MiB")

	bun = newBundle(t, "true")
	config := filepath.Join(bun.Dir, "config.json")
	if err := os.Remove(config); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", config); err != nil {
		t.Fatal(err)
	}
	refusedFastAsSaved(t, b, bun, "fz-endless-config", "config.json", "16 MiB")
}

// tmpfsMounts returns n tmpfs mounts on /tmp/m0… or, stacked, all on
// /tmp/m.
func tmpfsMounts(n int, stacked bool) []specs.Mount {
	mounts := make([]specs.Mount, n)
	for i := range mounts {
		dst := "/tmp/m"
		if !stacked {
			dst += itoa(i)
		}
		mounts[i] = specs.Mount{Destination: dst, Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "size=64k"}}
	}
	return mounts
}

// TestHugeMounts gives 100000 mounts. berth made 99961 of them in 7 s and
// failed on the next with ENOSPC, the kernel's fs.mount-max (100000 in a
// mount namespace, the host's copied mounts included). Mounts stacked on
// one path cost the kernel's lookups time that grows with the square of
// their number (8000: 1 s, 12000: 4.4 s of CPU here). berth now takes at
// most 4096 mounts, masks and read-only paths together, and those run:
// each spread over its own path and all stacked on one, on both start
// paths.
func TestHugeMounts(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		b := newBerth(t)
		bun := newBundle(t, "true")
		bun.Spec.Mounts = append(bun.Spec.Mounts, tmpfsMounts(100000, false)...)
		refusedFast(t, b, bun, "fz-mounts", "mounts", "4096")
	})
	for _, path := range startPaths {
		for _, stacked := range []bool{false, true} {
			name := path.name + map[bool]string{false: "-spread", true: "-stacked"}[stacked]
			t.Run(name, func(t *testing.T) {
				b := newBerth(t)
				bun := newBundle(t, "sh", "-c", "grep -c ' /tmp/m' /proc/self/mountinfo")
				path.set(bun)
				n := 4096 - len(bun.Spec.Mounts) - len(bun.Spec.Linux.MaskedPaths) - len(bun.Spec.Linux.ReadonlyPaths)
				bun.Spec.Mounts = append(bun.Spec.Mounts, tmpfsMounts(n, stacked)...)
				bun.Save(t)
				m := b.RunMeasured(2*time.Minute, "run", "--bundle", bun.Dir, "fz-mounts-"+name)
				if m.Code != 0 || strings.TrimSpace(m.Stdout) != itoa(n) {
					t.Fatalf("want %d mounts in the container: %v", n, m.result)
				}
				mustStayUnder(t, m, 200<<20)
			})
		}
	}
}

// TestHugeEnv gives the process a million environment entries (12 MB of
// config, written without indentation to stay under MaxConfigSize), and
// one entry of 200 KB. execve(2) takes a quarter of the stack's soft
// limit for argv and envp, at most 6 MiB, each string at most 128 KiB:
// berth made the container and failed at execve ("argument list too
// long", exit 127). It now refuses before anything is made, naming the
// limit, for create and exec; 80000 entries (1.5 MB with their pointers,
// under a quarter of the usual 8 MiB stack limit) run.
func TestHugeEnv(t *testing.T) {
	b := newBerth(t)
	env := func(n int) []string {
		v := make([]string, n)
		for i := range v {
			v[i] = "V" + itoa(i) + "=x"
		}
		return v
	}
	for i, extra := range [][]string{env(1000000), {"BIG=" + strings.Repeat("x", 200<<10)}} {
		bun := newBundle(t, "true")
		bun.Spec.Process.Env = append(bun.Spec.Process.Env, extra...)
		writeJSONFile(t, filepath.Join(bun.Dir, "config.json"), bun.Spec)
		refusedFastAsSaved(t, b, bun, "fz-env"+itoa(i), "process.env", "execve")
	}

	// env, not a shell: busybox sh takes time that grows with the square
	// of the variables it imports.
	bun := newBundle(t, "env")
	bun.Spec.Process.Env = append(bun.Spec.Process.Env, env(80000)...)
	bun.Save(t)
	m := b.RunMeasured(time.Minute, "run", "--bundle", bun.Dir, "fz-env-ok")
	if n := strings.Count(m.Stdout, "\nV"); m.Code != 0 || n != 80000 {
		t.Errorf("80000 entries: exit %d, %d seen, stderr %q", m.Code, n, m.Stderr)
	}

	bun = runningContainer(t, b, "fz-env-exec")
	p := *bun.Spec.Process
	p.Args = []string{"true", strings.Repeat("x", 200<<10)}
	path := filepath.Join(t.TempDir(), "process.json")
	writeJSONFile(t, path, &p)
	b.MustFail([]string{"process.args[1]", "execve"}, "exec", "--process", path, "fz-env-exec")
}

// seccompRules returns n rules that refuse mkdirat with a given mode, one
// mode each, with conds comparisons each.
func seccompRules(n, conds int) *specs.LinuxSeccomp {
	s := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow}
	for i := range n {
		call := specs.LinuxSyscall{Names: []string{"mkdirat"}, Action: specs.ActErrno}
		for c := range conds {
			call.Args = append(call.Args, specs.LinuxSeccompArg{Index: uint(1 + c), Value: uint64(i), Op: specs.OpEqualTo})
		}
		s.Syscalls = append(s.Syscalls, call)
	}
	return s
}

// TestHugeSeccompProfile gives a profile of 20000 rules: libseccomp's
// time grows with the square of the rules (8000: 3.7 s here), and the
// kernel takes a filter of at most 4096 BPF instructions, so the
// container failed late ("load seccomp filter: invalid argument"), after
// `start` from a plan. A profile of more than 4096 rules is refused
// before it is compiled, and one that compiles to more than 4096
// instructions before anything is made.
func TestHugeSeccompProfile(t *testing.T) {
	for _, path := range startPaths {
		t.Run(path.name, func(t *testing.T) {
			b := newBerth(t)
			bun := newBundle(t, "true")
			path.set(bun)
			bun.Spec.Linux.Seccomp = seccompRules(20000, 1)
			refusedFast(t, b, bun, "fz-seccomp-"+path.name, "seccomp", "rules", "4096")

			bun.Spec.Linux.Seccomp = seccompRules(2000, 3)
			refusedFast(t, b, bun, "fz-seccomp2-"+path.name, "seccomp", "BPF instructions", "4096")
		})
	}
}

// TestHugeDeviceRules gives 64000 device rules: the v1 devices cgroup
// keeps its exceptions in a list it walks for each new one, 23 s of
// kernel CPU here while the container was half made. berth now takes at
// most 4096.
func TestHugeDeviceRules(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "true")
	for i := range 64000 {
		major, minor := int64(7), int64(i)
		bun.Spec.Linux.Resources.Devices = append(bun.Spec.Linux.Resources.Devices,
			specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: &major, Minor: &minor, Access: "rwm"})
	}
	refusedFast(t, b, bun, "fz-devices", "linux.resources.devices", "4096")
}

// TestHugeIDLists gives 341 uid mappings (the kernel takes 340 lines in a
// uid_map), 70000 additional gids (setgroups(2) takes NGROUPS_MAX, 65536)
// and 2000 hooks: each failed, or ran, only once the container was half
// made. Each is now refused before anything is made.
func TestHugeIDLists(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "true")
	userNamespace(bun, 100000)
	bun.Spec.Linux.UIDMappings = nil
	for i := range 341 {
		bun.Spec.Linux.UIDMappings = append(bun.Spec.Linux.UIDMappings, specs.LinuxIDMapping{ContainerID: uint32(i), HostID: 100000 + uint32(i), Size: 1})
	}
	refusedFast(t, b, bun, "fz-uidmap", "linux.uidMappings", "340")

	bun = newBundle(t, "true")
	for i := range 70000 {
		bun.Spec.Process.User.AdditionalGids = append(bun.Spec.Process.User.AdditionalGids, uint32(i))
	}
	refusedFast(t, b, bun, "fz-gids", "process.user.additionalGids", "65536")

	bun = newBundle(t, "true")
	bun.Spec.Hooks = &specs.Hooks{}
	for range 2000 {
		bun.Spec.Hooks.CreateRuntime = append(bun.Spec.Hooks.CreateRuntime, specs.Hook{Path: "/bin/true"})
	}
	refusedFast(t, b, bun, "fz-hooks", "hooks", "1024")
}
