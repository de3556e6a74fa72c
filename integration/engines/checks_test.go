package engines

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/berthrt/berth/integration/internal/tmux"
)

// idle is a container process that says when it is ready and ends cleanly
// on SIGTERM: `wait` returns as soon as a trapped signal arrives.
var idle = []string{"sh", "-c", "trap 'echo got-term; exit 0' TERM; echo ready; sleep 1000 & wait"}

const mib = 1 << 20

// check is one thing every engine must do with berth as its runtime.
type check struct {
	name string
	fn   func(t *testing.T, e engine)
}

var checks = []check{
	{"run", checkRun},
	{"exit-status", checkExitStatus},
	{"namespaces", checkNamespaces},
	{"run-detached", checkRunDetached},
	{"exec", checkExec},
	{"exec-user", checkExecUser},
	{"exec-tty", checkExecTTY},
	{"top", checkTop},
	{"pause", checkPause},
	{"update", checkUpdate},
	{"restart", checkRestart},
	{"stop", checkStop},
	{"kill", checkKill},
	{"rm", checkRemove},
	{"run-tty", checkRunTTY},
	{"stdin", checkStdin},
	{"oom", checkOOM},
	{"pids-limit", checkPidsLimit},
	{"cpus", checkCPUs},
	{"user", checkUser},
	{"read-only", checkReadOnly},
	{"cap-drop-all", checkCapDropAll},
	{"seccomp-default", checkSeccompDefault},
	{"seccomp-profile", checkSeccompProfile},
	{"seccomp-unconfined", checkSeccompUnconfined},
	{"bind-env-workdir-tmpfs", checkBindEnvWorkdirTmpfs},
	{"hostname", checkHostname},
	{"host-network", checkHostNetwork},
	{"slirp4netns", checkSlirp4netns},
	{"errors", checkErrors},
	{"runtime-error", checkRuntimeError},
}

// runChecks runs every check against e, then fails if the runtime still
// holds a container the checks made or a process of the engine is left.
func runChecks(t *testing.T, e engine) {
	before := runtimeList(t, e)
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) { c.fn(t, e) })
	}
	for _, id := range runtimeList(t, e) {
		if !slices.Contains(before, id) {
			t.Errorf("leak: %s still has container %s after the engine removed it", runtimeName(), id)
		}
	}
}

// runtimeList lists the containers in the runtime's root.
func runtimeList(t *testing.T, e engine) []string {
	t.Helper()
	return runtimeListAt(t, e.RuntimeRoot())
}

// runtimeListAt lists the containers in root ("" for the runtime's
// default); none when root was never made.
func runtimeListAt(t *testing.T, root string) []string {
	t.Helper()
	if root != "" {
		if _, err := os.Stat(root); err != nil {
			return nil
		}
	}
	return strings.Fields(mustRun(t, nil, runtimeArgv(root, "list", "--quiet")...).Stdout)
}

// want fails the test unless r exited with code and its output contains
// every string of outputs.
func want(t *testing.T, what string, r result, code int, outputs ...string) {
	t.Helper()
	if r.Code != code {
		t.Errorf("%s: exit status %d, want %d (%v)", what, r.Code, code, r)
	}
	for _, o := range outputs {
		if !strings.Contains(r.Output(), o) {
			t.Errorf("%s: output lacks %q (%v)", what, o, r)
		}
	}
}

func checkRun(t *testing.T, e engine) {
	r := e.Run(t, opts{}, "echo", "hello from busybox")
	want(t, "run echo", r, 0)
	if r.Stdout != "hello from busybox\n" {
		t.Errorf("run echo: stdout %q, want %q", r.Stdout, "hello from busybox\n")
	}
}

func checkExitStatus(t *testing.T, e engine) {
	want(t, "exit 42", e.Run(t, opts{}, "sh", "-c", "exit 42"), 42)
	want(t, "false", e.Run(t, opts{}, "false"), 1)
}

var namespaceKinds = []string{"pid", "mnt", "uts", "ipc", "net"}

func checkNamespaces(t *testing.T, e engine) {
	script := "echo $$; for ns in " + strings.Join(namespaceKinds, " ") + "; do readlink /proc/self/ns/$ns; done"
	r := e.Run(t, opts{}, "sh", "-c", script)
	want(t, "namespaces", r, 0)
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if len(lines) != 1+len(namespaceKinds) {
		t.Fatalf("namespaces: want %d lines, got %q", 1+len(namespaceKinds), r.Stdout)
	}
	if lines[0] != "1" {
		t.Errorf("the container's process has pid %s, want 1", lines[0])
	}
	for i, kind := range namespaceKinds {
		if host := hostNamespace(t, kind); lines[i+1] == host {
			t.Errorf("the container shares the host's %s namespace %s", kind, host)
		}
	}
}

func hostNamespace(t *testing.T, kind string) string {
	t.Helper()
	link, err := os.Readlink("/proc/self/ns/" + kind)
	if err != nil {
		t.Fatal(err)
	}
	return link
}

// startIdle starts an idle container and waits until it says it is ready.
func startIdle(t *testing.T, e engine, name string, o opts) {
	t.Helper()
	e.Start(t, name, o, idle...)
	waitFor(t, name+" to be ready", time.Minute, func() bool { return strings.Contains(e.Logs(t, name), "ready") })
}

func checkRunDetached(t *testing.T, e engine) {
	startIdle(t, e, "detached", opts{})
	if s := e.Status(t, "detached"); s != "running" {
		t.Errorf("%s says the container is %q, want running", e.Name(), s)
	}
	status, pid := runtimeState(t, e, "detached")
	if status != "running" || pid <= 0 {
		t.Fatalf("%s state: status %q pid %d, want running with a pid", runtimeName(), status, pid)
	}
	comm, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	if err != nil || strings.TrimSpace(string(comm)) != "sh" {
		t.Errorf("the runtime's pid %d is %q (%v), want the container's sh", pid, comm, err)
	}
}

func checkExec(t *testing.T, e engine) {
	startIdle(t, e, "exec", opts{})
	r := e.Exec(t, "exec", execOpts{}, "sh", "-c", "echo in-$((6*7)); readlink /proc/1/ns/pid; readlink /proc/self/ns/pid; exit 7")
	want(t, "exec", r, 7, "in-42")
	if f := strings.Fields(r.Stdout); len(f) != 3 || f[1] != f[2] {
		t.Errorf("exec: the process is not in the pid namespace of the container's init: %q", r.Stdout)
	}
}

func checkExecUser(t *testing.T, e engine) {
	startIdle(t, e, "exec-user", opts{})
	want(t, "exec --user", e.Exec(t, "exec-user", execOpts{User: "65534:65534"}, "id"), 0, "uid=65534(nobody) gid=65534(nogroup)")
}

func checkExecTTY(t *testing.T, e engine) {
	startIdle(t, e, "exec-tty", opts{})
	s := tmux.New(t, e.InteractiveExec(t, "exec-tty", "sh"))
	s.WaitScreen("/ #")
	s.Send("tty; echo tty-$((6*7))", "Enter")
	s.WaitScreen("tty-42")
	s.WaitScreen("/dev/pts/")
	s.Send("exit 5", "Enter")
	s.WaitScreen("exit-status=5")
}

func checkTop(t *testing.T, e engine) {
	startIdle(t, e, "top", opts{})
	_, pid := runtimeState(t, e, "top")
	out := e.Top(t, "top")
	// docker and ctr list host pids (asked of the runtime's ps), podman
	// reads the container's own /proc: either shows the container's sh.
	if !slices.Contains(strings.Fields(out), strconv.Itoa(pid)) && !strings.Contains(out, "sleep 1000") {
		t.Errorf("top lists neither the container's pid %d nor its sleep:\n%s", pid, out)
	}
}

func checkPause(t *testing.T, e engine) {
	startIdle(t, e, "pause", opts{})
	e.Pause(t, "pause")
	if s := e.Status(t, "pause"); s != "paused" {
		t.Errorf("after pause %s says %q, want paused", e.Name(), s)
	}
	if s, _ := runtimeState(t, e, "pause"); s != "paused" {
		t.Errorf("after pause %s state says %q, want paused", runtimeName(), s)
	}
	e.Unpause(t, "pause")
	if s := e.Status(t, "pause"); s != "running" {
		t.Errorf("after unpause %s says %q, want running", e.Name(), s)
	}
	want(t, "exec after unpause", e.Exec(t, "pause", execOpts{}, "echo", "thawed"), 0, "thawed")
}

func checkUpdate(t *testing.T, e engine) {
	startIdle(t, e, "update", opts{Memory: 64 * mib})
	e.Update(t, "update", 96*mib, "0.5")
	_, pid := runtimeState(t, e, "update")
	if got := cgroupValue(t, pid, "memory", "memory.limit_in_bytes", "memory.max"); got != strconv.Itoa(96*mib) {
		t.Errorf("after update the memory limit is %s, want %d", got, 96*mib)
	}
	checkQuota(t, pid, 50000)
}

// checkQuota checks the cpu quota of pid's cgroup, for a 100ms period.
func checkQuota(t *testing.T, pid, quota int) {
	t.Helper()
	if got := cgroupValue(t, pid, "cpu", "cpu.cfs_quota_us", "cpu.max"); got != strconv.Itoa(quota) && got != strconv.Itoa(quota)+" 100000" {
		t.Errorf("cpu quota is %s, want %d", got, quota)
	}
}

func checkRestart(t *testing.T, e engine) {
	startIdle(t, e, "restart", opts{})
	_, before := runtimeState(t, e, "restart")
	e.Restart(t, "restart")
	status, after := runtimeState(t, e, "restart")
	if status != "running" || after == before || after <= 0 {
		t.Errorf("after restart %s state says %q with pid %d (pid %d before), want running in a new process", runtimeName(), status, after, before)
	}
}

func checkStop(t *testing.T, e engine) {
	startIdle(t, e, "stop", opts{})
	e.Stop(t, "stop")
	if code := e.Wait(t, "stop"); code != 0 {
		t.Errorf("stopped with SIGTERM, the container exited %d, want 0 (from its trap)", code)
	}
	if !strings.Contains(e.Logs(t, "stop"), "got-term") {
		t.Errorf("the container never got SIGTERM: %q", e.Logs(t, "stop"))
	}
}

func checkKill(t *testing.T, e engine) {
	startIdle(t, e, "kill", opts{})
	e.Kill(t, "kill", "SIGKILL")
	if code := e.Wait(t, "kill"); code != 137 {
		t.Errorf("killed with SIGKILL, the container exited %d, want 137", code)
	}
}

func checkRemove(t *testing.T, e engine) {
	startIdle(t, e, "rm", opts{})
	id := e.RuntimeID(t, "rm")
	e.Remove(t, "rm")
	if slices.Contains(runtimeList(t, e), id) {
		t.Errorf("after %s removed the running container, %s still lists it", e.Name(), runtimeName())
	}
}

func checkRunTTY(t *testing.T, e engine) {
	s := tmux.New(t, e.Interactive(t, "run-tty", "sh"))
	s.WaitScreen("/ #")
	// docker and containerd size the terminal after the process starts.
	s.Send("tty; until stty size 2>/dev/null; do sleep 0.1; done; echo tty-$((6*7))", "Enter")
	s.WaitScreen("tty-42")
	s.WaitScreen("/dev/pts/0")
	s.WaitScreen("40 120")
	s.Send("exit 3", "Enter")
	s.WaitScreen("exit-status=3")
}

func checkStdin(t *testing.T, e engine) {
	r := e.Run(t, opts{Stdin: "from-stdin\n"}, "sh", "-c", "read line; echo got-$line")
	want(t, "stdin", r, 0, "got-from-stdin")
}

func checkOOM(t *testing.T, e engine) {
	// The shell keeps the whole 256 MiB in memory: far above the limit.
	r := e.Run(t, opts{Name: "oom", Memory: 32 * mib}, "sh", "-c", "x=$(head -c 268435456 /dev/zero | tr '\\0' x); echo survived")
	want(t, "over the memory limit", r, 137)
	if strings.Contains(r.Stdout, "survived") {
		t.Errorf("the process outgrew its memory limit and survived")
	}
	if killed, reported := e.OOMKilled(t, "oom"); reported && !killed {
		t.Errorf("%s does not report the OOM kill", e.Name())
	}
}

func checkPidsLimit(t *testing.T, e engine) {
	r := e.Run(t, opts{PidsLimit: 10}, "sh", "-c", "for i in $(seq 20); do sleep 30 & done; echo started-all")
	if strings.Contains(r.Stdout, "started-all") || !strings.Contains(r.Output(), "fork") {
		t.Errorf("20 processes started under a pids limit of 10: %v", r)
	}
}

func checkCPUs(t *testing.T, e engine) {
	startIdle(t, e, "cpus", opts{CPUs: "1.5"})
	_, pid := runtimeState(t, e, "cpus")
	checkQuota(t, pid, 150000)
}

func checkUser(t *testing.T, e engine) {
	want(t, "--user", e.Run(t, opts{User: "65534:65534"}, "id"), 0, "uid=65534(nobody) gid=65534(nogroup)")
}

func checkReadOnly(t *testing.T, e engine) {
	r := e.Run(t, opts{ReadOnly: true}, "touch", "/written")
	if r.Code == 0 || !strings.Contains(r.Output(), "Read-only file system") {
		t.Errorf("wrote to a read-only root: %v", r)
	}
}

func checkCapDropAll(t *testing.T, e engine) {
	r := e.Run(t, opts{CapDropAll: true}, "grep", "^Cap", "/proc/self/status")
	want(t, "--cap-drop ALL", r, 0)
	for _, set := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
		if !strings.Contains(r.Stdout, set+":\t0000000000000000") {
			t.Errorf("with every capability dropped, %s is not empty:\n%s", set, r.Stdout)
		}
	}
}

// seccompProbe prints the process's seccomp mode and whether it may make a
// user namespace, which the kernel allows without CAP_SYS_ADMIN.
const seccompProbe = "grep ^Seccomp: /proc/self/status; unshare -U true && echo unshare-allowed"

func checkSeccompDefault(t *testing.T, e engine) {
	r := e.Run(t, opts{Seccomp: seccompDefault}, "sh", "-c", seccompProbe)
	if e.Name() == "podman" {
		// podman's default profile (containers/common) allows unshare(2).
		want(t, "default seccomp", r, 0, "Seccomp:\t2")
		return
	}
	// docker's and containerd's default profiles refuse it.
	want(t, "default seccomp", r, 1, "Seccomp:\t2", "Operation not permitted")
}

func checkSeccompUnconfined(t *testing.T, e engine) {
	r := e.Run(t, opts{Seccomp: seccompUnconfined}, "sh", "-c", seccompProbe)
	want(t, "seccomp unconfined", r, 0, "Seccomp:\t0", "unshare-allowed")
}

func checkSeccompProfile(t *testing.T, e engine) {
	// Both an OCI seccomp section (ctr) and a docker profile (docker,
	// podman): mkdir fails with EOPNOTSUPP, everything else is allowed.
	profile := filepath.Join(t.TempDir(), "profile.json")
	const p = `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95}]}`
	if err := os.WriteFile(profile, []byte(p), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.Run(t, opts{Seccomp: profile}, "sh", "-c", "grep ^Seccomp: /proc/self/status; touch /tmp/file && mkdir /tmp/dir")
	want(t, "custom seccomp profile", r, 1, "Seccomp:\t2", "Operation not supported")
}

func checkBindEnvWorkdirTmpfs(t *testing.T, e engine) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in"), []byte("from-host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.Run(t, opts{Volumes: []string{dir + ":/data"}, Env: []string{"GREETING=hello-env"}, Workdir: "/data", Tmpfs: "/scratch"},
		"sh", "-c", `cat in; echo $GREETING; pwd; grep " /scratch " /proc/mounts | cut -d" " -f3; echo from-container > out`)
	want(t, "bind, env, workdir, tmpfs", r, 0)
	if wantOut := "from-host\nhello-env\n/data\ntmpfs\n"; r.Stdout != wantOut {
		t.Errorf("bind, env, workdir, tmpfs: stdout %q, want %q", r.Stdout, wantOut)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "out")); err != nil || string(data) != "from-container\n" {
		t.Errorf("the container's write through the bind mount: %q, %v", data, err)
	}
}

func checkHostname(t *testing.T, e engine) {
	r := e.Run(t, opts{Hostname: "berth-box"}, "hostname")
	want(t, "--hostname", r, 0)
	if r.Stdout != "berth-box\n" {
		t.Errorf("hostname: %q, want berth-box", r.Stdout)
	}
}

func checkHostNetwork(t *testing.T, e engine) {
	r := e.Run(t, opts{Network: "host"}, "readlink", "/proc/self/ns/net")
	want(t, "host network", r, 0)
	if host := hostNamespace(t, "net"); strings.TrimSpace(r.Stdout) != host {
		t.Errorf("with the host network the container is in %q, want the host's %s", r.Stdout, host)
	}
}

// checkSlirp4netns reaches a server on the host's loopback from a
// container on slirp4netns, which podman starts on a network namespace
// the runtime must join by path.
func checkSlirp4netns(t *testing.T, e engine) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(time.Minute))
		line, _ := bufio.NewReader(c).ReadString('\n')
		_, _ = c.Write([]byte("hello-container\n"))
		got <- line
	}()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	r := e.Run(t, opts{Network: "slirp4netns:allow_host_loopback=true"}, "sh", "-c",
		"readlink /proc/self/ns/net; echo hello-host | nc 10.0.2.2 "+port)
	want(t, "slirp4netns", r, 0, "hello-container")
	if strings.Contains(r.Stdout, hostNamespace(t, "net")) {
		t.Errorf("the container is in the host's network namespace")
	}
	select {
	case line := <-got:
		if line != "hello-host\n" {
			t.Errorf("the server on the host's loopback got %q, want hello-host", line)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("nothing reached the server on the host's loopback")
	}
}

// checkErrors checks what the engines make of berth's failures: the
// message reaches the user, and podman and docker map it to the exit
// statuses they document (127: command not found, 126: not executable).
func checkErrors(t *testing.T, e engine) {
	notFound, notExec := 127, 126
	if _, ok := e.(*ctrEngine); ok {
		notFound, notExec = 1, 1 // ctr reports every failure as 1
	}
	want(t, "missing command", e.Run(t, opts{}, "/no/such/command"), notFound, "/no/such/command")
	want(t, "command not in $PATH", e.Run(t, opts{}, "no-such-command"), notFound, "no-such-command")
	want(t, "not executable", e.Run(t, opts{}, "/etc/passwd"), notExec, "/etc/passwd", "permission denied")
	want(t, "a directory", e.Run(t, opts{}, "/tmp"), notExec, "/tmp", "permission denied")

	startIdle(t, e, "errors", opts{})
	r := e.Exec(t, "errors", execOpts{}, "/no/such/command")
	if r.Code == 0 || !strings.Contains(r.Output(), "/no/such/command") {
		t.Errorf("exec of a missing command: %v", r)
	}
	if s := e.Status(t, "errors"); s != "running" {
		t.Errorf("a failed exec left the container %q, want running", s)
	}
}

// checkRuntimeError makes the runtime fail where only it can see the
// problem: its message must reach the user (from its --log file, for the
// containerd shim).
func checkRuntimeError(t *testing.T, e engine) {
	r := e.Run(t, opts{Sysctl: "net.ipv4.no_such_knob=1"}, "true")
	if r.Code == 0 || !strings.Contains(r.Output(), "no_such_knob") {
		t.Errorf("a sysctl the kernel lacks: %v", r)
	}
}
