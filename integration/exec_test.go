package integration

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// runningContainer starts a detached container that sleeps, deleted after
// the test.
func runningContainer(t *testing.T, b *berth, id string) *bundle {
	t.Helper()
	bun := newBundle(t, "sleep", "1000")
	b.MustRun("run", "-d", "--bundle", bun.Dir, id)
	t.Cleanup(func() { b.Run("delete", "--force", id) })
	return bun
}

func TestExecJoinsContainer(t *testing.T) {
	b := newBerth(t)
	runningContainer(t, b, "ex")
	initPid := b.State("ex").Pid
	r := b.MustRun("exec", "ex", "sh", "-c", "hostname; ps -o pid,args; for f in /proc/1/ns/mnt /proc/self/ns/mnt /proc/1/ns/net /proc/self/ns/net /proc/1/ns/pid /proc/self/ns/pid; do readlink $f; done; cat /proc/self/cgroup")
	lines := strings.Split(r.Stdout, "\n")
	if lines[0] != "berth" {
		t.Errorf("hostname in exec = %q, want the container's", lines[0])
	}
	if !strings.Contains(r.Stdout, "1 sleep 1000") {
		t.Errorf("exec does not see the container's init as pid 1:\n%s", r.Stdout)
	}
	for _, ns := range []string{"mnt", "net", "pid"} {
		var got []string
		for _, l := range lines {
			if strings.HasPrefix(l, ns+":") {
				got = append(got, l)
			}
		}
		if len(got) != 2 || got[0] != got[1] {
			t.Errorf("%s namespace of exec differs from init's: %v", ns, got)
		}
	}
	// The exec'd process sits in the container's cgroup, which the
	// cgroup namespace shows as the root.
	if !strings.Contains(r.Stdout, ":/\n") {
		t.Errorf("exec not in the container's cgroup namespace root:\n%s", r.Stdout)
	}
	host, _ := os.Readlink("/proc/self/ns/mnt")
	if strings.Contains(r.Stdout, host) {
		t.Errorf("exec runs in the host's mount namespace")
	}
	if b.State("ex").Pid != initPid {
		t.Errorf("exec changed the container's init pid")
	}
}

func TestExecExitStatusAndSignals(t *testing.T) {
	b := newBerth(t)
	runningContainer(t, b, "exs")
	if r := b.Run("exec", "exs", "sh", "-c", "exit 42"); r.Code != 42 {
		t.Errorf("exec exit status = %d, want 42 (%v)", r.Code, r)
	}
	if r := b.Run("exec", "exs", "sh", "-c", "kill -KILL $$"); r.Code != 128+9 {
		t.Errorf("exec killed by SIGKILL: status %d, want 137 (%v)", r.Code, r)
	}
}

// TestExecForwardsSignals sends exec in the foreground a real-time signal as
// well, which berth passes on like any other.
func TestExecForwardsSignals(t *testing.T) {
	b := newBerth(t)
	runningContainer(t, b, "exfwd")
	exec := b.Spawn(nil, "exec", "exfwd", "sh", "-c", `trap 'echo got USR1' USR1; trap 'echo got 37' 37; trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.02; done`)
	waitFor(t, "the process's traps", func() bool { return exec.Stdout() == "ready\n" })
	for i, sig := range []unix.Signal{unix.SIGUSR1, 37} {
		if err := exec.cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		want := []string{"ready\ngot USR1\n", "ready\ngot USR1\ngot 37\n"}[i]
		waitFor(t, "the process to handle signal "+strconv.Itoa(int(sig)), func() bool { return exec.Stdout() == want })
	}
	if err := exec.cmd.Process.Signal(unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if r := exec.Wait(); r.Code != 7 || !strings.HasSuffix(r.Stdout, "got TERM\n") {
		t.Errorf("SIGTERM to berth exec: want the process's trap to exit 7, got %v", r)
	}
}

func TestExecProcessFlags(t *testing.T) {
	b := newBerth(t)
	runningContainer(t, b, "exf")
	r := b.MustRun("exec", "--user", "1000:1001", "--additional-gids", "7", "--cwd", "/tmp", "--env", "GREETING=hello", "exf",
		"sh", "-c", "id -u; id -g; id -G; pwd; echo $GREETING")
	want := "1000\n1001\n1001 7\n/tmp\nhello\n"
	if r.Stdout != want {
		t.Errorf("exec flags: got %q, want %q", r.Stdout, want)
	}
}

// Users and groups given by name are looked up in the container's files.
func TestExecUserByName(t *testing.T) {
	b := newBerth(t)
	runningContainer(t, b, "exname")
	if r := b.MustRun("exec", "--user", "nobody", "exname", "id"); !strings.HasPrefix(r.Stdout, "uid=65534(nobody) gid=65534(nogroup)") {
		t.Errorf("exec --user nobody: %q", r.Stdout)
	}
	if r := b.MustRun("exec", "--user", "nobody:tty", "exname", "id", "-g"); r.Stdout != "5\n" {
		t.Errorf("exec --user nobody:tty: gid %q, want 5", r.Stdout)
	}
}

func TestExecProcessFile(t *testing.T) {
	b := newBerth(t)
	bun := runningContainer(t, b, "exp")
	p := *bun.Spec.Process
	p.Args = []string{"sh", "-c", "echo from process.json; echo $ONLY_HERE"}
	p.Env = []string{"PATH=/bin", "ONLY_HERE=yes"}
	path := filepath.Join(t.TempDir(), "process.json")
	writeJSONFile(t, path, &p)
	r := b.MustRun("exec", "--process", path, "exp")
	if r.Stdout != "from process.json\nyes\n" {
		t.Errorf("exec --process: got %q", r.Stdout)
	}
}

func TestExecDetachAndPidFile(t *testing.T) {
	b := newBerth(t)
	runningContainer(t, b, "exd")
	pidFile := filepath.Join(t.TempDir(), "pid")
	b.MustRun("exec", "-d", "--pid-file", pidFile, "exd", "sleep", "999")
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(string(data))
	if err != nil {
		t.Fatalf("pid file %q: %v", data, err)
	}
	// berth returns once the process is about to exec; it may still be
	// in execve.
	waitFor(t, "the exec'd process to be sleep 999", func() bool {
		cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		return err == nil && strings.HasPrefix(string(cmdline), "sleep\x00999")
	})
}

func TestExecBadInput(t *testing.T) {
	b := newBerth(t)
	runningContainer(t, b, "exb")
	b.MustFail([]string{"nosuch", "not found"}, "exec", "exb", "nosuch")
	b.MustFail([]string{`"ghost"`, "does not exist"}, "exec", "ghost", "true")
	b.MustFail([]string{"command"}, "exec", "exb")
	b.MustFail([]string{`user "bob"`, "passwd"}, "exec", "--user", "bob", "exb", "true")

	stopped := newBundle(t, "true")
	b.MustRun("run", "--keep", "--bundle", stopped.Dir, "exstopped")
	b.MustFail([]string{`"exstopped"`, "stopped"}, "exec", "exstopped", "true")
	b.MustRun("delete", "exstopped")
}

// Errors of an exec's own set-up read as Go words them, which engines
// match on, whether the exec starts from a plan (a numeric user), where C
// reports them, or from the Go init (a user by name).
func TestExecErrorWords(t *testing.T) {
	b := newBerth(t)
	bun := runningContainer(t, b, "exwords")
	if err := os.Symlink("loop", filepath.Join(bun.Dir, "rootfs", "loop")); err != nil {
		t.Fatal(err)
	}
	long := "/" + strings.Repeat("x", 300)
	for _, user := range []string{"0:0", "root"} {
		b.MustFail([]string{`"/loop"`, "too many levels of symbolic links"}, "exec", "--user", user, "exwords", "/loop")
		b.MustFail([]string{"file name too long"}, "exec", "--user", user, "exwords", long)
	}
}

// pidfdReceiver listens on a unix socket and returns the pid behind the
// first pidfd it receives, read from the fd's fdinfo.
func pidfdReceiver(t *testing.T) (socket string, pid func() int) {
	t.Helper()
	socket = filepath.Join(t.TempDir(), "pidfd.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: socket, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got := make(chan int, 1)
	go func() {
		defer close(got)
		conn, err := ln.AcceptUnix()
		if err != nil {
			return
		}
		defer conn.Close()
		oob := make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := conn.ReadMsgUnix(make([]byte, 64), oob)
		if err != nil {
			return
		}
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		if len(msgs) != 1 {
			return
		}
		fds, _ := unix.ParseUnixRights(&msgs[0])
		if len(fds) != 1 {
			return
		}
		defer unix.Close(fds[0])
		info, _ := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", fds[0]))
		for _, line := range strings.Split(string(info), "\n") {
			if v, ok := strings.CutPrefix(line, "Pid:"); ok {
				n, _ := strconv.Atoi(strings.TrimSpace(v))
				got <- n
			}
		}
	}()
	return socket, func() int {
		select {
		case n := <-got:
			return n
		case <-time.After(10 * time.Second):
			t.Fatal("no pidfd arrived")
			return 0
		}
	}
}

func TestPidfdSocket(t *testing.T) {
	b := newBerth(t)
	socket, pid := pidfdReceiver(t)
	bun := newBundle(t, "sleep", "1000")
	b.MustRun("run", "-d", "--pidfd-socket", socket, "--bundle", bun.Dir, "pfd")
	t.Cleanup(func() { b.Run("delete", "--force", "pfd") })
	if got, want := pid(), b.State("pfd").Pid; got != want {
		t.Errorf("pidfd from run names pid %d, want init %d", got, want)
	}

	socket, pid = pidfdReceiver(t)
	pidFile := filepath.Join(t.TempDir(), "pid")
	b.MustRun("exec", "-d", "--pid-file", pidFile, "--pidfd-socket", socket, "pfd", "sleep", "999")
	data, _ := os.ReadFile(pidFile)
	if got := pid(); strconv.Itoa(got) != string(data) {
		t.Errorf("pidfd from exec names pid %d, pid file says %s", got, data)
	}
	b.MustFail([]string{"pidfd socket"}, "exec", "-d", "--pidfd-socket", filepath.Join(t.TempDir(), "none.sock"), "pfd", "true")
}

func TestExecSubCgroup(t *testing.T) {
	b := newBerth(t)
	runningContainer(t, b, "exsub")
	pid := b.State("exsub").Pid
	pidsDir := hostCgroupDir(t, "pids", pid)
	if pidsDir == "" {
		t.Skip("no v1 pids hierarchy on this host: the v2 form is covered in the VM")
	}
	if err := os.Mkdir(filepath.Join(pidsDir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := b.MustRun("exec", "--cgroup", "pids:sub", "exsub", "grep", "pids", "/proc/self/cgroup")
	if !strings.HasSuffix(strings.TrimSpace(r.Stdout), ":pids:/sub") {
		t.Errorf("exec --cgroup pids:sub ran in %q", r.Stdout)
	}
	b.MustFail([]string{"--cgroup", "nosuch"}, "exec", "--cgroup", "pids:nosuch", "exsub", "true")
	b.MustFail([]string{"--cgroup", "below"}, "exec", "--cgroup", "../escape", "exsub", "true")
}

// hostCgroupDir returns the directory of pid's cgroup in a v1 hierarchy as
// the host sees it.
func hostCgroupDir(t *testing.T, controller string, pid int) string {
	t.Helper()
	out, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if parts := strings.SplitN(line, ":", 3); len(parts) == 3 && parts[1] == controller {
			return filepath.Join("/sys/fs/cgroup", controller, parts[2])
		}
	}
	return ""
}

func TestExecIgnorePaused(t *testing.T) {
	b := newBerth(t)
	runningContainer(t, b, "expause")
	b.MustRun("pause", "expause")
	b.MustFail([]string{"paused", "--ignore-paused"}, "exec", "expause", "true")
	b.MustRun("exec", "-d", "--ignore-paused", "expause", "sh", "-c", "echo ran > /dev/shm/mark")
	// Frozen with the container, it runs once the container resumes.
	if r := b.Run("exec", "--ignore-paused", "-d", "expause", "true"); r.Code != 0 {
		t.Fatalf("second exec into the paused container: %v", r)
	}
	b.MustRun("resume", "expause")
	waitFor(t, "the exec'd process to run after resume", func() bool {
		return strings.TrimSpace(b.Run("exec", "expause", "cat", "/dev/shm/mark").Stdout) == "ran"
	})
}

// An exec that needs only ids, capabilities, rlimits, seccomp, args, env
// and cwd starts from a plan the nsenter constructor applies, without a Go
// init (libcontainer/exec_plan.go); one given a user by name goes through
// the Go init. Both must give the process the same state: ids and groups,
// capabilities, no_new_privs, seccomp (mkdir refused), rlimits, umask, cwd,
// env with HOME from /etc/passwd, and no fd but stdio.
func TestExecFastPathMatchesInit(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sleep", "1000")
	bun.Spec.Root.Readonly = false
	bun.Spec.Linux.Seccomp = denyOne("SCMP_ACT_ERRNO", nil)
	bun.Spec.Process.Rlimits = append(bun.Spec.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_NPROC", Soft: 300, Hard: 400})
	umask := uint32(0o027)
	bun.Spec.Process.User.Umask = &umask
	adj := 300
	bun.Spec.Process.OOMScoreAdj = &adj
	bun.Save(t)
	b.MustRun("run", "-d", "--bundle", bun.Dir, "fast")
	t.Cleanup(func() { b.Run("delete", "--force", "fast") })

	script := `id; umask; pwd; echo "HOME=$HOME X=$X"; grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status; cat /proc/self/oom_score_adj; ` +
		`ulimit -u; ulimit -Hu; mkdir /tmp/d 2>&1; ls /proc/$$/fd`
	run := func(user string) (string, string) {
		r := b.MustRun("--debug", "exec", "--user", user, "--cap", "CAP_NET_RAW", "--cwd", "/tmp", "--env", "X=1", "fast", "sh", "-c", script)
		return r.Stdout, r.Stderr
	}
	fast, fastLog := run("65534:65534")
	slow, slowLog := run("nobody")
	const planned = "starts from a plan"
	if !strings.Contains(fastLog, planned) || strings.Contains(slowLog, planned) {
		t.Fatalf("want the numeric user's exec from a plan and the named one's through the Go init; logs:\n%s\n%s", fastLog, slowLog)
	}
	if fast != slow {
		t.Errorf("the exec from a plan and the one through the Go init differ:\nplan:\n%s\ninit:\n%s", fast, slow)
	}
	for _, want := range []string{"uid=65534(nobody) gid=65534(nogroup)", "0027\n/tmp\nHOME=/nonexistent X=1\n", "NoNewPrivs:\t1",
		"Seccomp:\t2", "\n300\n", "300\n400\n", "Operation not permitted", "\n0\n1\n2\n"} {
		if !strings.Contains(fast, want) {
			t.Errorf("the exec from a plan lacks %q:\n%s", want, fast)
		}
	}
}
