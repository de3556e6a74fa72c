package engines

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// containerd is a private containerd the test started.
type containerd struct {
	// address is its gRPC socket.
	address string
	// pid is its process, to reach its network namespace by.
	pid int
}

// startContainerd starts a private containerd with everything under dir
// and stops it by pid when the test ends. With cri "" the CRI plugin is
// off; otherwise cri is the plugin's configuration, and containerd runs in
// a network namespace of its own, where the pods' bridge network lives
// without touching the host's.
func startContainerd(t *testing.T, dir, cri string) containerd {
	t.Helper()
	for _, d := range []string{"tmp", "opt", "logs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	address := filepath.Join(dir, "containerd.sock")
	conf := fmt.Sprintf(`version = 2
root = "%[1]s/root"
state = "%[1]s/state"

[grpc]
  address = "%[2]s"

[ttrpc]
  address = "%[2]s.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "%[1]s/opt"
`, dir, address)
	if cri == "" {
		conf = `disabled_plugins = ["io.containerd.grpc.v1.cri"]` + "\n" + conf
	} else {
		conf += cri
	}
	config := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(config, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	argv := []string{"containerd", "--config", config}
	if cri != "" {
		argv = []string{"unshare", "--net", "--", busyboxPath, "sh", "-c", busyboxPath + ` ip link set lo up && exec "$@"`, "sh"}
		argv = append(argv, "containerd", "--config", config)
	}
	// TMPDIR: containerd mounts images for unpacking in temporary dirs.
	d := start(t, []string{"TMPDIR=" + filepath.Join(dir, "tmp")}, "", argv...)
	t.Cleanup(func() {
		stopDaemon(t, d)
		if t.Failed() {
			t.Logf("containerd's errors:\n%s", errorLines(d.wait(t).Stderr))
		}
	})
	waitFor(t, "containerd to serve", 30*time.Second, func() bool {
		select {
		case <-d.done:
			t.Fatalf("containerd exited: %v", d.wait(t))
		default:
		}
		return run(t, nil, "", "ctr", "--address", address, "version").Code == 0
	})
	return containerd{address: address, pid: d.cmd.Process.Pid}
}

// errorLines are the lines of a daemon's log at level error, the last 40.
func errorLines(log string) string {
	var lines []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "level=error") {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines[max(0, len(lines)-40):], "\n")
}

// ctrEngine drives containerd through ctr, which hands berth to the runc
// shim with --runc-binary, as the runc options' BinaryName does.
type ctrEngine struct {
	address string
	dir     string
	cgroup  string
	// exits are the exit statuses of deleted tasks: ctr reports a task's
	// status only as it deletes the task.
	exits map[string]int
}

func (e *ctrEngine) Name() string { return "containerd" }

// RuntimeRoot is --runc-root; the shim adds the namespace.
func (e *ctrEngine) RuntimeRoot() string { return filepath.Join(e.dir, "runtime", "default") }

func (e *ctrEngine) RuntimeID(t *testing.T, name string) string { return name }

func (e *ctrEngine) ctr(args ...string) []string {
	return append([]string{"ctr", "--address", e.address}, args...)
}

func (e *ctrEngine) must(t *testing.T, args ...string) string {
	t.Helper()
	return mustRun(t, nil, e.ctr(args...)...).Stdout
}

func (e *ctrEngine) runArgs(t *testing.T, name string, o opts) []string {
	t.Helper()
	args := []string{"run", "--runc-binary", runtimePath, "--runc-root", filepath.Join(e.dir, "runtime"),
		"--cgroup", e.cgroup + "/" + name, "--fifo-dir", filepath.Join(e.dir, "fifo")}
	unsupported := func(what string) { t.Skipf("ctr run has no flag for %s", what) }
	switch {
	case o.Network == "host":
		args = append(args, "--net-host")
	case o.Network != "":
		unsupported(o.Network + " networking")
	}
	if o.Memory != 0 {
		args = append(args, "--memory-limit", strconv.FormatInt(o.Memory, 10))
	}
	if o.PidsLimit != 0 {
		unsupported("a pids limit")
	}
	if o.CPUs != "" {
		args = append(args, "--cpus", o.CPUs)
	}
	if o.User != "" {
		unsupported("the user (ctr task exec --user is checked instead)")
	}
	if o.ReadOnly {
		args = append(args, "--read-only")
	}
	if o.CapDropAll {
		// ctr 1.6 does not know "ALL": drop each of its defaults.
		for _, c := range ctrDefaultCaps {
			args = append(args, "--cap-drop", c)
		}
	}
	switch o.Seccomp {
	case "", seccompUnconfined:
	case seccompDefault:
		args = append(args, "--seccomp")
	default:
		args = append(args, "--seccomp", "--seccomp-profile", o.Seccomp)
	}
	for _, v := range o.Volumes {
		src, dst, _ := strings.Cut(v, ":")
		args = append(args, "--mount", "type=bind,src="+src+",dst="+dst+",options=rbind:rw")
	}
	for _, v := range o.Env {
		args = append(args, "--env", v)
	}
	if o.Workdir != "" {
		args = append(args, "--cwd", o.Workdir)
	}
	if o.Hostname != "" {
		unsupported("the hostname")
	}
	if o.Tmpfs != "" {
		args = append(args, "--mount", "type=tmpfs,src=tmpfs,dst="+o.Tmpfs+",options=nosuid:nodev")
	}
	if o.Sysctl != "" {
		unsupported("sysctls")
	}
	return args
}

// ctrDefaultCaps are the capabilities containerd gives a container.
var ctrDefaultCaps = []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
	"CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}

func (e *ctrEngine) Run(t *testing.T, o opts, cmd ...string) result {
	t.Helper()
	name := o.Name
	if name == "" {
		name = "run-" + randomSuffix()
	}
	args := e.runArgs(t, name, o)
	if o.Name == "" {
		args = append(args, "--rm")
	} else {
		e.removeAtEnd(t, name)
	}
	return run(t, nil, o.Stdin, e.ctr(append(append(args, image, name), cmd...)...)...)
}

func (e *ctrEngine) removeAtEnd(t *testing.T, name string) {
	t.Cleanup(func() {
		run(t, nil, "", e.ctr("task", "delete", "--force", name)...)
		run(t, nil, "", e.ctr("container", "delete", name)...)
	})
}

// logURI is where the shim writes a detached container's output.
func (e *ctrEngine) logURI(name string) string {
	return "file://" + filepath.Join(e.dir, "logs", name+".log")
}

func (e *ctrEngine) Start(t *testing.T, name string, o opts, cmd ...string) {
	t.Helper()
	args := append(e.runArgs(t, name, o), "--detach", "--log-uri", e.logURI(name), image, name)
	e.removeAtEnd(t, name)
	e.must(t, append(args, cmd...)...)
	waitFor(t, name+" to run", 30*time.Second, func() bool { return e.Status(t, name) == "running" })
}

func (e *ctrEngine) Exec(t *testing.T, name string, o execOpts, cmd ...string) result {
	t.Helper()
	args := []string{"task", "exec", "--exec-id", "exec-" + randomSuffix(), "--fifo-dir", filepath.Join(e.dir, "fifo")}
	if o.User != "" {
		args = append(args, "--user", o.User)
	}
	return run(t, nil, "", e.ctr(append(append(args, name), cmd...)...)...)
}

func (e *ctrEngine) Logs(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(strings.TrimPrefix(e.logURI(name), "file://"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(data)
}

func (e *ctrEngine) Top(t *testing.T, name string) string {
	t.Helper()
	return e.must(t, "task", "ps", name)
}

func (e *ctrEngine) Pause(t *testing.T, name string)   { t.Helper(); e.must(t, "task", "pause", name) }
func (e *ctrEngine) Unpause(t *testing.T, name string) { t.Helper(); e.must(t, "task", "resume", name) }

func (e *ctrEngine) Update(t *testing.T, name string, memory int64, cpus string) {
	t.Skip("ctr 1.6 has no task update (docker update drives the same shim's update --resources -)")
}

// Restart stops the task and starts a new one in the same container, as
// an engine restarts a container on containerd.
func (e *ctrEngine) Restart(t *testing.T, name string) {
	t.Helper()
	e.Stop(t, name)
	e.Wait(t, name)
	delete(e.exits, name)
	e.must(t, "task", "start", "--detach", "--log-uri", e.logURI(name), "--fifo-dir", filepath.Join(e.dir, "fifo"), name)
	waitFor(t, name+" to run again", 30*time.Second, func() bool { return e.Status(t, name) == "running" })
}

func (e *ctrEngine) Stop(t *testing.T, name string) {
	t.Helper()
	e.must(t, "task", "kill", "--signal", "SIGTERM", name)
	waitFor(t, name+" to stop", time.Minute, func() bool { return e.Status(t, name) == "exited" })
}

func (e *ctrEngine) Kill(t *testing.T, name, signal string) {
	t.Helper()
	e.must(t, "task", "kill", "--signal", signal, name)
}

// ctrExitStatus is how ctr tells a deleted task's status when it is not 0.
var ctrExitStatus = regexp.MustCompile(`exit with non-zero exit code (\d+)`)

// Wait waits for the task to stop and deletes it, which is when ctr tells
// its exit status.
func (e *ctrEngine) Wait(t *testing.T, name string) int {
	t.Helper()
	if code, ok := e.exits[name]; ok {
		return code
	}
	waitFor(t, name+" to stop", time.Minute, func() bool { return e.Status(t, name) == "exited" })
	r := mustRun(t, nil, e.ctr("task", "delete", name)...)
	code := 0
	if m := ctrExitStatus.FindStringSubmatch(r.Stderr); m != nil {
		code, _ = strconv.Atoi(m[1])
	}
	e.exits[name] = code
	return code
}

func (e *ctrEngine) Remove(t *testing.T, name string) {
	t.Helper()
	e.must(t, "task", "delete", "--force", name)
	e.must(t, "container", "delete", name)
}

// Status reads `ctr task ls`; a container with no task has exited.
func (e *ctrEngine) Status(t *testing.T, name string) string {
	t.Helper()
	for _, line := range strings.Split(e.must(t, "task", "ls"), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == name {
			switch f[2] {
			case "RUNNING":
				return "running"
			case "PAUSED":
				return "paused"
			case "STOPPED":
				return "exited"
			default:
				return strings.ToLower(f[2])
			}
		}
	}
	return "exited"
}

// OOMKilled: ctr does not say why a task ended.
func (e *ctrEngine) OOMKilled(t *testing.T, name string) (killed, reported bool) { return false, false }

func (e *ctrEngine) Interactive(t *testing.T, name string, cmd ...string) string {
	t.Helper()
	e.removeAtEnd(t, name)
	args := append(append(e.runArgs(t, name, opts{}), "--tty", "--rm", image, name), cmd...)
	return shellCommand(nil, e.ctr(args...))
}

func (e *ctrEngine) InteractiveExec(t *testing.T, name string, cmd ...string) string {
	args := append([]string{"task", "exec", "--tty", "--exec-id", "exec-" + randomSuffix(), "--fifo-dir", filepath.Join(e.dir, "fifo"), name}, cmd...)
	return shellCommand(nil, e.ctr(args...))
}

func TestContainerd(t *testing.T) {
	imgs, err := buildImages()
	if err != nil {
		t.Fatal(err)
	}
	cg := newCgroupParent(t)
	dir := filepath.Join(workDir, "containerd")
	t.Cleanup(func() { checkEngineGone(t, dir) })
	e := &ctrEngine{address: startContainerd(t, dir, "").address, dir: dir, cgroup: cg.Path, exits: map[string]int{}}
	e.must(t, "images", "import", imgs.OCI)
	runChecks(t, e)
}
