package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Each test here is a hostile bundle, or a hostile process in a container,
// trying one known way out; docs/security.md lists them with the defence
// each one proves.

// CVE-2019-5736: a process that gets hold of berth init's executable (as
// /proc/<pid>/exe) must not be able to write the runtime binary through
// it, even after init has exec'd the container's process.
func TestRuntimeBinaryCannotBeOverwritten(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sleep", "1000")
	b.MustRun("create", "--bundle", bun.Dir, "exe")
	t.Cleanup(func() { b.Run("delete", "--force", "exe") })
	pid := b.State("exe").Pid

	// From inside, init is not even reachable before start: it is not
	// dumpable.
	r := b.Run("exec", "exe", "sh", "-c", "echo pwned >> /proc/1/exe")
	if r.Code == 0 || !strings.Contains(r.Stderr, "denied") {
		t.Errorf("writing /proc/1/exe from the container: %v, want permission denied", r)
	}

	// The attack of CVE-2019-5736: hold the exe open, wait for the
	// runtime to get out of the way, then reopen it for writing.
	held, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/exe", unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(held)
	b.MustRun("start", "exe")
	waitFor(t, "init to exec sleep", func() bool {
		exe, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe")
		return strings.HasSuffix(exe, "/busybox")
	})

	// The binary itself is writable now that nothing runs from it, so a
	// naive runtime would be overwritten here.
	f, err := os.OpenFile(berthBinary, os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("berth binary is not writable: %v (test cannot tell anything)", err)
	}
	f.Close()
	w, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", held), os.O_WRONLY, 0)
	if err == nil {
		w.Close()
		t.Errorf("reopened berth init's exe for writing: the runtime binary could be overwritten")
	} else if !errors.Is(err, unix.EROFS) {
		t.Errorf("reopen berth init's exe for writing: %v, want EROFS", err)
	}
}

// withHostile puts the attacker (integration/hostile) in the bundle's root
// as /bin/hostile.
func withHostile(t *testing.T, bun *bundle) {
	t.Helper()
	data, err := os.ReadFile(tool(t, "./hostile"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bun.Rootfs(), "bin", "hostile"), data, 0o755); err != nil {
		t.Fatal(err)
	}
}

// hostTarget makes a directory on the host, outside every bundle, for an
// attack to aim at.
func hostTarget(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "host-file"), "host\n")
	return dir
}

// unchanged returns a function that fails the test if anything under dir
// was made, removed or written since.
func unchanged(t *testing.T, dir string) func() {
	t.Helper()
	before := tree(t, dir)
	return func() {
		t.Helper()
		if after := tree(t, dir); !slices.Equal(before, after) {
			t.Errorf("the host directory %s changed:\nbefore %q\nafter  %q", dir, before, after)
		}
	}
}

// tree lists what is under dir: each path, its type, a file's content.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		line := strings.TrimPrefix(p, dir) + " " + d.Type().String()
		if d.Type().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += " " + string(data)
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// withoutMounts drops the config's mounts at or below dir.
func withoutMounts(bun *bundle, dir string) {
	bun.Spec.Mounts = slices.DeleteFunc(bun.Spec.Mounts, func(m specs.Mount) bool {
		return m.Destination == dir || strings.HasPrefix(m.Destination, dir+"/")
	})
}

// replaceMount puts m in place of the config's mount at m.Destination.
func replaceMount(t *testing.T, bun *bundle, m specs.Mount) {
	t.Helper()
	i := slices.IndexFunc(bun.Spec.Mounts, func(o specs.Mount) bool { return o.Destination == m.Destination })
	if i < 0 {
		t.Fatalf("the config has no mount at %s", m.Destination)
	}
	bun.Spec.Mounts[i] = m
}

// probeScript tries, from inside the container, each way into another
// process that a process of the same user and capabilities has: its fds,
// executable, root and environment through /proc, and ptrace. $p is the
// pid. It prints a line for each way that opened.
const probeScript = `
for f in /proc/$p/fd/*; do readlink $f >/dev/null 2>&1 && { echo "fds open"; break; }; done
readlink /proc/$p/exe >/dev/null 2>&1 && echo "exe open"
ls /proc/$p/root/ >/dev/null 2>&1 && echo "root open"
cat /proc/$p/environ >/dev/null 2>&1 && echo "environ open"
hostile ptrace $p
`

// checkProbe fails the test unless the probe of pid found every way
// closed.
func checkProbe(t *testing.T, what, pid, out string) {
	t.Helper()
	if strings.Contains(out, " open") || !strings.Contains(out, "ptrace "+pid+": operation not permitted") {
		t.Errorf("%s is reachable from the container:\n%s", what, out)
	}
}

// CVE-2016-9962: until it execs the container's process, init holds host
// fds (the exec fifo, the sync socket) and runs berth's binary. A process
// in the container with the same user and capabilities (the user's own
// exec) must not reach it through /proc or ptrace: init is not dumpable
// from its first instruction.
func TestInitUntouchableBeforeStart(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sleep", "1000")
	withHostile(t, bun)
	b.MustRun("create", "--bundle", bun.Dir, "undumpable")
	t.Cleanup(func() { b.Run("delete", "--force", "undumpable") })

	// The probe itself works: against a process of its own it gets in
	// everywhere.
	r := b.MustRun("exec", "undumpable", "sh", "-c", "sleep 1000 & p=$!"+probeScript+"kill $p")
	if strings.Count(r.Stdout, " open") != 4 || !strings.Contains(r.Stdout, ": attached") {
		t.Fatalf("the probe cannot reach even its own child, so it tells nothing:\n%v", r)
	}
	r = b.Run("exec", "undumpable", "sh", "-c", "p=1"+probeScript)
	checkProbe(t, "the waiting init", "1", r.Stdout+r.Stderr)
}

// seccompNotif and seccompNotifResp are struct seccomp_notif and struct
// seccomp_notif_resp of <linux/seccomp.h>.
type seccompNotif struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Data  struct {
		Nr   int32
		Arch uint32
		IP   uint64
		Args [6]uint64
	}
}

type seccompNotifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

// holdExecs is a seccomp agent for a filter that notifies execve: it lets
// every execve go ahead, except the first of each process exec'd into the
// container (berth's init, about to exec the user's program), which it
// holds until release is called. held receives the pid of a held process.
func holdExecs(t *testing.T) (socket string, held <-chan int, release func()) {
	t.Helper()
	socket = filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: socket, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	heldc := make(chan int, 1)
	releasec := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(releasec) }) }
	t.Cleanup(func() {
		release()
		ln.Close()
	})
	go func() {
		for {
			conn, err := ln.AcceptUnix()
			if err != nil {
				return
			}
			st, fd, err := receiveNotifyFd(conn)
			conn.Close()
			if err != nil {
				t.Errorf("seccomp agent: %v", err)
				continue
			}
			// An exec's process is not the container's init.
			go answerExecs(fd, st.Pid != st.State.Pid, heldc, releasec)
		}
	}()
	return socket, heldc, release
}

// receiveNotifyFd reads the container process state and the notify fd that
// berth sends to a seccomp agent.
func receiveNotifyFd(conn *net.UnixConn) (*specs.ContainerProcessState, int, error) {
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, -1, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, -1, fmt.Errorf("no fd with the state: %v", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, -1, fmt.Errorf("want one fd with the state: %v", err)
	}
	var st specs.ContainerProcessState
	if err := json.Unmarshal(buf[:n], &st); err != nil {
		unix.Close(fds[0])
		return nil, -1, err
	}
	return &st, fds[0], nil
}

// answerExecs lets each notified execve go ahead, holding the first one
// when hold is set, until every process under the filter is gone.
func answerExecs(fd int, hold bool, held chan<- int, release <-chan struct{}) {
	defer unix.Close(fd)
	for {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, -1); errors.Is(err, unix.EINTR) {
			continue
		}
		if pfd[0].Revents&unix.POLLIN == 0 {
			return
		}
		var req seccompNotif
		if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&req))); errno != 0 {
			continue
		}
		if hold {
			hold = false
			held <- int(req.Pid)
			<-release
		}
		resp := seccompNotifResp{ID: req.ID, Flags: unix.SECCOMP_USER_NOTIF_FLAG_CONTINUE}
		_, _, _ = unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp)))
	}
}

// execDetached runs `berth exec -d` in container id and returns the host
// pid of the process it started.
func execDetached(t *testing.T, b *berth, id string, args ...string) int {
	t.Helper()
	pidFile := filepath.Join(t.TempDir(), "pid")
	b.MustRun(append([]string{"exec", "-d", "--pid-file", pidFile, id}, args...)...)
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatalf("pid file %q: %v", data, err)
	}
	return pid
}

// nsPid returns the pid that host process pid has in its own pid
// namespace.
func nsPid(t *testing.T, pid int) string {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(statusField(t, string(status), "NSpid"))
	return f[len(f)-1]
}

// CVE-2019-5736 and CVE-2016-9962 for `exec`: the process berth starts in
// a running container is berth's binary until it execs the user's
// program. Held by a seccomp agent at that very execve, it must be
// unreachable from the container (not dumpable), and its executable, held
// open from the host, must not be writable once the runtime is out of the
// way (berth runs from a file that cannot be written, libcontainer/sealself.go).
func TestExecInitUntouchable(t *testing.T) {
	b := newBerth(t)
	socket, held, release := holdExecs(t)
	// The container's own process is the attacker: it waits for the pid
	// of the exec'd process, probes it and reports to /out.
	bun := newBundle(t, "sh", "-c", "read p </go"+probeScript+"echo done; exec sleep 1000")
	withHostile(t, bun)
	bun.Spec.Root.Readonly = false
	bun.Spec.Linux.Seccomp = &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		ListenerPath:  socket,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"execve", "execveat"}, Action: specs.ActNotify}},
	}
	if err := unix.Mkfifo(filepath.Join(bun.Rootfs(), "go"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(bun.Rootfs(), "out")
	bun.Spec.Process.Args[2] = "exec >/out 2>&1; " + bun.Spec.Process.Args[2]
	startDetached(t, b, bun, "held")

	pid := execDetached(t, b, "held", "sleep", "1000")
	select {
	case got := <-held:
		if got != pid {
			t.Fatalf("the agent holds pid %d, exec started %d", got, pid)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the exec'd process never reached execve")
	}
	exePath := fmt.Sprintf("/proc/%d/exe", pid)
	exe, err := unix.Open(exePath, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(exe)
	if link, _ := os.Readlink(exePath); strings.HasSuffix(link, "/busybox") {
		t.Fatalf("held process already runs %s: the test tells nothing", link)
	}

	writeFile(t, filepath.Join(bun.Rootfs(), "go"), nsPid(t, pid)+"\n")
	waitFor(t, "the container's probe", func() bool {
		data, _ := os.ReadFile(out)
		return strings.Contains(string(data), "done")
	})
	probe, _ := os.ReadFile(out)
	checkProbe(t, "berth's exec'd process before its execve", nsPid(t, pid), string(probe))

	release()
	waitFor(t, "the exec'd process to exec sleep", func() bool {
		link, _ := os.Readlink(exePath)
		return strings.HasSuffix(link, "/busybox")
	})
	w, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", exe), os.O_WRONLY, 0)
	if err == nil {
		w.Close()
		t.Errorf("reopened the exec'd process's former executable for writing: the runtime binary could be overwritten")
	} else if !errors.Is(err, unix.EROFS) {
		t.Errorf("reopen the exec'd process's former executable for writing: %v, want EROFS", err)
	}
}

// leakDir opens dir without close-on-exec at fd 100 or above, as a careless
// caller of berth leaves a descriptor, so that every berth the test runs
// inherits it. It returns the fd number.
func leakDir(t *testing.T, dir string) int {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	leaked, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD, 100)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(leaked) })
	return leaked
}

// CVE-2024-21626: a host directory fd that reaches init (here one leaked
// by berth's caller) must not become the process's working directory
// through process.cwd or exec --cwd "/proc/self/fd/N", and no fd but the
// process's stdio may reach the container.
func TestLeakedFdsAndCwd(t *testing.T) {
	b := newBerth(t)
	host := hostTarget(t)
	cwd := "/proc/self/fd/" + itoa(leakDir(t, host))

	bun := newBundle(t, "sh", "-c", "pwd; ls")
	bun.Spec.Process.Cwd = cwd
	bun.Save(t)
	r := b.MustFail([]string{"outside the container"}, "run", "--bundle", bun.Dir, "leakcwd")
	if strings.Contains(r.Stdout, "host-file") {
		t.Errorf("the container listed the host directory:\n%s", r.Stdout)
	}

	// The fds of the container's init and of an exec'd process, listed
	// from outside them: a shell listing its own would see its pipes.
	runningContainer(t, b, "leakexec")
	if out := b.MustRun("exec", "leakexec", "ls", "/proc/1/fd").Stdout; out != "0\n1\n2\n" {
		t.Errorf("fds of the container's init: %q, want only 0 1 2", out)
	}
	pid := execDetached(t, b, "leakexec", "sleep", "1000")
	if out := b.MustRun("exec", "leakexec", "ls", "/proc/"+nsPid(t, pid)+"/fd").Stdout; out != "0\n1\n2\n" {
		t.Errorf("fds of an exec'd process: %q, want only 0 1 2", out)
	}
	r = b.MustFail([]string{"outside the container"}, "exec", "--cwd", cwd, "leakexec", "ls")
	if strings.Contains(r.Stdout, "host-file") {
		t.Errorf("exec listed the host directory:\n%s", r.Stdout)
	}
}

// Mount destinations that lead out of the root through the image's
// symlinks (absolute, relative, "..") or "..": the mounts land inside the
// root, where the same path leads in the container, and the host directory
// the links name gets nothing, not even an empty mount point
// (CVE-2021-30465, CVE-2024-45310). The links dangle: what they name
// inside the root is made there, as runc makes it, and an image's
// /etc/resolv.conf that links to a file not yet there still takes the
// engine's bind mount.
func TestMountTargetSymlinks(t *testing.T) {
	b := newBerth(t)
	host := hostTarget(t)
	check := unchanged(t, host)
	file := filepath.Join(t.TempDir(), "file")
	writeFile(t, file, "bound\n")

	bun := newBundle(t, "sh", "-c", "cat /etc/resolv.conf /proc/self/mountinfo")
	mustMkdir(t, filepath.Join(bun.Rootfs(), "etc"))
	if err := os.Symlink("../run/systemd/resolve/stub-resolv.conf", filepath.Join(bun.Rootfs(), "etc", "resolv.conf")); err != nil {
		t.Fatal(err)
	}
	for name, target := range map[string]string{
		"abs":  host,
		"rel":  strings.Repeat("../", 20) + strings.TrimPrefix(host, "/"),
		"dots": "/../../.." + host,
	} {
		if err := os.Symlink(target, filepath.Join(bun.Rootfs(), name)); err != nil {
			t.Fatal(err)
		}
	}
	tmpfs := func(dest string) specs.Mount {
		return specs.Mount{Destination: dest, Type: "tmpfs", Source: "tmpfs"}
	}
	bun.Spec.Mounts = append(bun.Spec.Mounts,
		tmpfs("/abs/m1"), tmpfs("/rel/m2"), tmpfs("/dots/m3"), tmpfs("/nowhere/../../.."+host+"/m4"),
		specs.Mount{Destination: "/abs/f1", Type: "bind", Source: file, Options: []string{"bind"}},
		specs.Mount{Destination: "/rel/d1/d2", Type: "bind", Source: filepath.Dir(file), Options: []string{"bind"}},
		specs.Mount{Destination: "/etc/resolv.conf", Type: "bind", Source: file, Options: []string{"bind", "ro"}},
	)
	bun.Save(t)
	out := b.MustRun("run", "--bundle", bun.Dir, "links").Stdout
	if !strings.HasPrefix(out, "bound\n") || !strings.Contains(out, " /run/systemd/resolve/stub-resolv.conf ") {
		t.Errorf("the bind mount on /etc/resolv.conf, a dangling link, is not at the file it names:\n%s", out)
	}
	for _, name := range []string{"m1", "m2", "m3", "m4", "f1", "d1/d2"} {
		if !strings.Contains(out, " "+host+"/"+name+" ") {
			t.Errorf("no mount at %s/%s inside the container:\n%s", host, name, out)
		}
	}
	check()
}

// CVE-2021-30465, CVE-2024-45310, raced: a container swaps a directory of
// a rootfs it shares with the next container for a symlink to a host
// directory and back, as fast as it can, while that next container is
// created again and again with mounts below the directory. A mount that
// escaped would show in a later mount whose source is that host directory
// (as a volume's source is a host path), and a mount point made through
// the symlink would appear on the host, and a write to the read-only
// volume would show in its directory. The race runs for at most 50
// containers or 15 seconds; a container may fail with a clear error when
// the swap makes a mount point a symlink, but must never escape.
func TestMountTargetRace(t *testing.T) {
	b := newBerth(t)
	host := hostTarget(t)
	mustMkdir(t, filepath.Join(host, "m"))
	mustMkdir(t, filepath.Join(host, "b"))
	writeFile(t, filepath.Join(host, "b", "marker"), "host\n")
	check := unchanged(t, host)
	volume := t.TempDir()
	writeFile(t, filepath.Join(volume, "marker"), "volume\n")

	racer := newBundle(t, "hostile", "exchange", "/race/d", "/race/l")
	withHostile(t, racer)
	racer.Spec.Root.Readonly = false
	mustMkdir(t, filepath.Join(racer.Rootfs(), "race", "d", "m"))
	mustMkdir(t, filepath.Join(racer.Rootfs(), "race", "d", "b"))
	if err := os.Symlink(host, filepath.Join(racer.Rootfs(), "race", "l")); err != nil {
		t.Fatal(err)
	}
	startDetached(t, b, racer, "racer")

	// The volume is bound read-only: the flag is set on the detached
	// mount before it is attached, so no swap can leave it writable.
	victim := newBundle(t, "sh", "-c", "cat /seen/marker; (echo x > /race/d/b/written) 2>/dev/null; true")
	victim.Spec.Root.Path = racer.Rootfs()
	victim.Spec.Mounts = append(victim.Spec.Mounts,
		specs.Mount{Destination: "/race/d/m", Type: "tmpfs", Source: "tmpfs"},
		specs.Mount{Destination: "/race/d/b", Type: "bind", Source: volume, Options: []string{"bind", "ro"}},
		specs.Mount{Destination: "/race/d/new/deeper", Type: "tmpfs", Source: "tmpfs"},
		specs.Mount{Destination: "/seen", Type: "bind", Source: filepath.Join(host, "b"), Options: []string{"bind"}},
	)
	victim.Save(t)
	ran, refused := 0, 0
	deadline := time.Now().Add(15 * time.Second)
	for i := 0; i < 50 && time.Now().Before(deadline); i++ {
		r := b.Run("run", "--bundle", victim.Dir, "victim")
		switch {
		case r.Code == 0 && r.Stdout == "host\n":
			ran++
		case r.Code == 0:
			t.Fatalf("run %d: a mount escaped onto the host: /seen shows %q", i, r.Stdout)
		case strings.Contains(r.Stderr, "panic") || !strings.Contains(r.Stderr, "mount"):
			t.Fatalf("run %d failed without a clear error: %v", i, r)
		default:
			refused++
		}
		if _, err := os.Stat(filepath.Join(volume, "written")); err == nil {
			t.Fatalf("run %d: the container wrote to a volume bound read-only", i)
		}
	}
	t.Logf("%d containers ran, %d were refused a swapped mount point", ran, refused)
	if ran == 0 {
		t.Error("no container ran: the race proved nothing")
	}
	if st := b.State("racer"); st.Status != specs.StateRunning {
		t.Errorf("the racer stopped (%s): the race proved nothing", st.Status)
	}
	check()
}

// CVE-2019-19921: nothing but a procfs may be mounted on /proc, and only
// lxcfs's files may be covered inside it (a bind mount each): a tmpfs or a
// volume there would hide what maskedPaths and readonlyPaths protect, or
// catch berth's later writes to /proc. The mount point is checked on the
// handle the mount uses, so a symlink to /proc does not get around it.
func TestMountOnProcRefused(t *testing.T) {
	b := newBerth(t)
	vol := t.TempDir()
	for _, tc := range []struct {
		name string
		m    specs.Mount
	}{
		{"tmpfs", specs.Mount{Destination: "/proc/sys", Type: "tmpfs", Source: "tmpfs"}},
		{"bind", specs.Mount{Destination: "/proc/sys/kernel", Type: "bind", Source: vol, Options: []string{"rbind"}}},
		{"symlink", specs.Mount{Destination: "/p/sys", Type: "tmpfs", Source: "tmpfs"}},
		{"sysfs", specs.Mount{Destination: "/proc/bus", Type: "sysfs", Source: "sysfs"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bun := newBundle(t, "true")
			if err := os.Symlink("/proc", filepath.Join(bun.Rootfs(), "p")); err != nil {
				t.Fatal(err)
			}
			addMount(bun, tc.m)
			bun.Save(t)
			b.MustFail([]string{tc.m.Destination, "is inside /proc"}, "run", "--bundle", bun.Dir, "onproc")
		})
	}

	// lxcfs's use: a file of the container's own over /proc/meminfo.
	meminfo := filepath.Join(t.TempDir(), "meminfo")
	writeFile(t, meminfo, "MemTotal: 42 kB\n")
	bun := newBundle(t, "cat", "/proc/meminfo")
	addMount(bun, specs.Mount{Destination: "/proc/meminfo", Type: "bind", Source: meminfo, Options: []string{"bind"}})
	if out := runInside(t, b, bun, "lxcfs"); out != "MemTotal: 42 kB\n" {
		t.Errorf("/proc/meminfo bound from a file: %q", out)
	}
}

// utsDomainname returns the NIS domain name of the uts namespace of pid.
func utsDomainname(t *testing.T, pid int) string {
	t.Helper()
	name := make(chan string)
	errc := make(chan error)
	go func() {
		// Never unlocked: the thread, now in another uts namespace, ends
		// with the goroutine.
		runtime.LockOSThread()
		ns, err := unix.Open(fmt.Sprintf("/proc/%d/ns/uts", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(ns)
		if err := unix.Setns(ns, unix.CLONE_NEWUTS); err != nil {
			errc <- err
			return
		}
		var u unix.Utsname
		if err := unix.Uname(&u); err != nil {
			errc <- err
			return
		}
		name <- unix.ByteSliceToString(u.Domainname[:])
	}()
	select {
	case n := <-name:
		return n
	case err := <-errc:
		t.Fatal(err)
		return ""
	}
}

// CVE-2019-19921, CVE-2023-27561, CVE-2025-52881: what berth writes to
// /proc (sysctls, oom_score_adj) goes to the real procfs files whatever
// the container's /proc is; here a volume bound on /proc holds files where
// the writes would land. What berth masks or makes read-only under /proc
// must be procfs too, or berth refuses: protecting a look-alike leaves the
// real file open.
func TestProcWritesGoToProcfs(t *testing.T) {
	b := newBerth(t)
	fake := t.TempDir()
	mustMkdir(t, filepath.Join(fake, "sys", "kernel"))
	mustMkdir(t, filepath.Join(fake, "self"))
	writeFile(t, filepath.Join(fake, "sys", "kernel", "domainname"), "planted\n")
	writeFile(t, filepath.Join(fake, "self", "oom_score_adj"), "planted\n")
	writeFile(t, filepath.Join(fake, "kcore"), "planted\n")
	check := unchanged(t, fake)
	fakeProc := func(args ...string) *bundle {
		bun := newBundle(t, args...)
		replaceMount(t, bun, specs.Mount{Destination: "/proc", Type: "bind", Source: fake, Options: []string{"rbind"}})
		bun.Spec.Linux.MaskedPaths, bun.Spec.Linux.ReadonlyPaths = nil, nil
		return bun
	}

	bun := fakeProc("sleep", "1000")
	bun.Spec.Linux.Sysctl = map[string]string{"kernel.domainname": "berth-sysctl"}
	bun.Spec.Process.OOMScoreAdj = ptr(123)
	startDetached(t, b, bun, "fakeproc")
	pid := b.State("fakeproc").Pid
	if got := utsDomainname(t, pid); got != "berth-sysctl" {
		t.Errorf("the container's domainname is %q, want berth-sysctl from linux.sysctl", got)
	}
	if got, _ := os.ReadFile(fmt.Sprintf("/proc/%d/oom_score_adj", pid)); string(got) != "123\n" {
		t.Errorf("the container's oom_score_adj is %q, want 123", got)
	}
	check()

	for _, p := range []struct{ masked, readonly []string }{{masked: []string{"/proc/kcore"}}, {readonly: []string{"/proc/sys"}}} {
		bun := fakeProc("true")
		bun.Spec.Linux.MaskedPaths, bun.Spec.Linux.ReadonlyPaths = p.masked, p.readonly
		bun.Save(t)
		b.MustFail([]string{"is not on procfs"}, "run", "--bundle", bun.Dir, "fakemask")
	}
	check()
}

// CVE-2025-31133: files are masked by binding /dev/null over them, so
// /dev/null must really be the null device. Here the engine's /dev (a
// volume a racing container could also write) holds a "null" that links
// to a host-wide procfs file; bound over /proc/kcore it would be readable
// and writable there. And a masked path that the image made a symlink
// masks what the link leads to in the container.
func TestMaskedPathsHold(t *testing.T) {
	b := newBerth(t)
	dev := t.TempDir()
	if err := os.Symlink("/proc/sys/kernel/core_pattern", filepath.Join(dev, "null")); err != nil {
		t.Fatal(err)
	}
	bun := newBundle(t, "cat", "/etc/secret")
	writeFile(t, filepath.Join(bun.Rootfs(), "etc", "secret"), "secret\n")
	withoutMounts(bun, "/dev")
	addMount(bun, specs.Mount{Destination: "/dev", Type: "bind", Source: dev, Options: []string{"rbind"}})
	bun.Spec.Linux.MaskedPaths = []string{"/etc/secret"}
	bun.Save(t)
	r := b.MustFail([]string{"/dev/null is not the null device"}, "run", "--bundle", bun.Dir, "devnull")
	if r.Stdout != "" {
		t.Errorf("the masked /etc/secret showed %q", r.Stdout)
	}

	bun = newBundle(t, "sh", "-c", "cat /etc/link /etc/abslink /etc/secret; ls /etc/dirlink/ /etc/secret.d/")
	writeFile(t, filepath.Join(bun.Rootfs(), "etc", "secret"), "secret\n")
	mustMkdir(t, filepath.Join(bun.Rootfs(), "etc", "secret.d"))
	writeFile(t, filepath.Join(bun.Rootfs(), "etc", "secret.d", "secret-file"), "secret\n")
	for link, target := range map[string]string{"link": "secret", "abslink": "/etc/secret", "dirlink": "../etc/secret.d"} {
		if err := os.Symlink(target, filepath.Join(bun.Rootfs(), "etc", link)); err != nil {
			t.Fatal(err)
		}
	}
	bun.Spec.Linux.MaskedPaths = []string{"/etc/link", "/etc/abslink", "/etc/dirlink"}
	if out := runInside(t, b, bun, "masklinks"); strings.Contains(out, "secret\n") || strings.Contains(out, "secret-file") {
		t.Errorf("masked paths that are symlinks: the container sees what they lead to:\n%s", out)
	}

	// Masks are made after the root switch, when /proc is the container's:
	// here a volume whose self/fd/N entries all lead to a decoy. Mounting
	// by /proc/self/fd/N path would mask the decoy instead of the secret.
	fake := t.TempDir()
	mustMkdir(t, filepath.Join(fake, "self", "fd"))
	for i := 0; i < 64; i++ {
		if err := os.Symlink("/etc/decoy", filepath.Join(fake, "self", "fd", itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	bun = newBundle(t, "cat", "/etc/secret", "/etc/decoy")
	writeFile(t, filepath.Join(bun.Rootfs(), "etc", "secret"), "secret\n")
	writeFile(t, filepath.Join(bun.Rootfs(), "etc", "decoy"), "decoy\n")
	replaceMount(t, bun, specs.Mount{Destination: "/proc", Type: "bind", Source: fake, Options: []string{"rbind"}})
	bun.Spec.Linux.MaskedPaths, bun.Spec.Linux.ReadonlyPaths = []string{"/etc/secret"}, nil
	if out := runInside(t, b, bun, "maskfakeproc"); out != "decoy\n" {
		t.Errorf("masked /etc/secret and unmasked /etc/decoy with a volume on /proc: %q, want only the decoy", out)
	}
}

// CVE-2025-52565: the container's terminal is the peer of the master
// berth opened, taken with TIOCGPTPEER and bound to /dev/console through
// its fd, never looked up as /dev/pts/N. Here /dev/pts is a volume whose
// ptmx leads to the container's real devpts, and whose "N" entries link to
// a host-wide procfs file: a runtime that opened or bound /dev/pts/N by
// name would hand the container that file as its console (create) or
// stdio (exec -t).
func TestConsoleFromContainerDevpts(t *testing.T) {
	b := newBerth(t)
	pts := t.TempDir()
	if err := os.Symlink("/dev/pts-real/ptmx", filepath.Join(pts, "ptmx")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 256; i++ {
		if err := os.Symlink("/proc/sys/kernel/core_pattern", filepath.Join(pts, itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	hostile := func(args ...string) *bundle {
		bun := terminalBundle(t, args...)
		i := slices.IndexFunc(bun.Spec.Mounts, func(m specs.Mount) bool { return m.Destination == "/dev/pts" })
		real := bun.Spec.Mounts[i]
		real.Destination = "/dev/pts-real"
		replaceMount(t, bun, specs.Mount{Destination: "/dev/pts", Type: "bind", Source: pts, Options: []string{"rbind"}})
		addMount(bun, real)
		bun.Save(t)
		return bun
	}
	// A pty slave is a character device of major 136 (0x88).
	const want = "character special file 88\n"

	socket, output := consoleReceiver(t)
	bun := hostile("stat", "-L", "-c", "%F %t", "/dev/console", "/proc/self/fd/0")
	b.MustRun("create", "--console-socket", socket, "--bundle", bun.Dir, "console")
	t.Cleanup(func() { b.Run("delete", "--force", "console") })
	b.MustRun("start", "console")
	if out := strings.ReplaceAll(output(), "\r", ""); out != want+want {
		t.Errorf("/dev/console and stdin of the container: %q, want two pty slaves", out)
	}

	bun = hostile("sleep", "1000")
	bun.Spec.Process.Terminal = false
	startDetached(t, b, bun, "consoleexec")
	socket, output = consoleReceiver(t)
	b.MustRun("exec", "-t", "-d", "--console-socket", socket, "consoleexec", "stat", "-L", "-c", "%F %t", "/proc/self/fd/0")
	if out := strings.ReplaceAll(output(), "\r", ""); out != want {
		t.Errorf("stdin of exec -t: %q, want a pty slave", out)
	}
}

// An image whose /dev is a symlink out of the root (absolute or relative)
// must not steer berth's /dev set-up, which creates, removes and links
// files, to the host: nodes and links land inside the root, where the
// container's /dev leads.
func TestDevSymlink(t *testing.T) {
	b := newBerth(t)
	host := hostTarget(t)
	writeFile(t, filepath.Join(host, "ptmx"), "host\n")
	writeFile(t, filepath.Join(host, "null"), "host\n")
	check := unchanged(t, host)
	for name, link := range map[string]string{
		"abs": host,
		"rel": strings.Repeat("../", 20) + strings.TrimPrefix(host, "/"),
	} {
		for _, withTmpfs := range []bool{false, true} {
			bun := newBundle(t, "sh", "-c", "stat -L -c '%F %t:%T' /dev/null /dev/zero; readlink /dev/ptmx")
			if err := os.RemoveAll(filepath.Join(bun.Rootfs(), "dev")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(link, filepath.Join(bun.Rootfs(), "dev")); err != nil {
				t.Fatal(err)
			}
			mustMkdir(t, filepath.Join(bun.Rootfs(), host))
			if !withTmpfs {
				// berth populates the image's own /dev.
				withoutMounts(bun, "/dev")
			}
			want := "character special file 1:3\ncharacter special file 1:5\npts/ptmx\n"
			if out := runInside(t, b, bun, "devlink-"+name); out != want {
				t.Errorf("%s /dev link, tmpfs %v: the container sees %q, want %q", name, withTmpfs, out, want)
			}
		}
	}
	check()
}

// CVE-2022-29162: capabilities that exec --cap adds must not be
// inheritable, or a program the process runs could keep them through its
// file capabilities.
func TestExecCapNotInheritable(t *testing.T) {
	b := newBerth(t)
	runningContainer(t, b, "caps")
	status := b.MustRun("exec", "--cap", "CAP_SYS_ADMIN", "--cap", "CAP_NET_ADMIN", "caps", "cat", "/proc/self/status").Stdout
	eff, err := strconv.ParseUint(statusField(t, status, "CapEff"), 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	if eff&(1<<unix.CAP_SYS_ADMIN) == 0 || eff&(1<<unix.CAP_NET_ADMIN) == 0 {
		t.Errorf("CapEff %x lacks the capabilities --cap added", eff)
	}
	for _, set := range []string{"CapInh", "CapAmb"} {
		if got := statusField(t, status, set); got != capMask() {
			t.Errorf("%s = %s after exec --cap, want none", set, got)
		}
	}
}

// The container sees cgroupfs read-only, rooted at its own cgroup: it
// cannot make cgroups, move itself, or change a limit, and no hierarchy
// shows the host's root. With a cgroup namespace berth mounts the
// hierarchies afresh, without one it binds the container's own cgroup
// directories; both are checked.
func TestCgroupfsReadonlyAndNamespaced(t *testing.T) {
	const try = `for d in /sys/fs/cgroup /sys/fs/cgroup/*; do
	mkdir $d/escape 2>/dev/null && echo "made $d/escape"
	[ -e $d/cgroup.procs ] && echo $$ 2>/dev/null >$d/cgroup.procs && echo "moved through $d"
done
for f in /sys/fs/cgroup/*/pids.max /sys/fs/cgroup/pids.max; do
	[ -e $f ] && echo 1 2>/dev/null >$f && echo "wrote $f"
done
echo tried`
	for _, cgroupNS := range []bool{true, false} {
		t.Run(fmt.Sprintf("cgroupns=%v", cgroupNS), func(t *testing.T) {
			b := newBerth(t)
			bun := newBundle(t, "sleep", "1000")
			if !cgroupNS {
				bun.withoutNamespace(t, specs.CgroupNamespace)
			}
			id := "cgro"
			startDetached(t, b, bun, id)
			if out := b.MustRun("exec", id, "sh", "-c", try).Stdout; out != "tried\n" {
				t.Errorf("cgroupfs is writable from the container:\n%s", out)
			}
			info, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", b.State(id).Pid))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, m := range parseMountinfo(t, string(info)) {
				if m.FSType != "cgroup" && m.FSType != "cgroup2" {
					continue
				}
				n++
				// The root field, as the host sees it, is the cgroup the
				// mount shows as its top.
				if !strings.HasSuffix(m.Root, "/"+id) {
					t.Errorf("%s shows host cgroup %s as its root, want the container's own", m.Point, m.Root)
				}
				if !m.has("ro") {
					t.Errorf("%s is mounted read-write: %s", m.Point, m.Line)
				}
			}
			if n == 0 {
				t.Errorf("no cgroup mount in the container:\n%s", info)
			}
		})
	}
}
