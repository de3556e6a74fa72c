package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrt/berth/integration/internal/tmux"
)

// consoleReceiver runs recvtty on a socket in the test's directory and
// returns the socket path and a function that waits for the terminal's
// output to end and returns it.
func consoleReceiver(t *testing.T) (socket string, output func() string) {
	t.Helper()
	socket = filepath.Join(t.TempDir(), "console.sock")
	cmd := exec.Command(tool(t, "../hack/recvtty"), "-mode", "print", "-once", socket)
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	waitFor(t, "recvtty to listen", func() bool { _, err := os.Stat(socket); return err == nil })
	return socket, func() string {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the terminal's output did not end")
		}
		return out.String()
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func terminalBundle(t *testing.T, args ...string) *bundle {
	bun := newBundle(t, args...)
	bun.Spec.Process.Terminal = true
	bun.Spec.Process.ConsoleSize = &specs.Box{Height: 31, Width: 97}
	bun.Save(t)
	return bun
}

func TestConsoleSocketCreate(t *testing.T) {
	b := newBerth(t)
	socket, output := consoleReceiver(t)
	bun := terminalBundle(t, "sh", "-c", "tty; stty size; stat -c '%F %t:%T' /dev/console; ls -l /proc/self/fd/0 | grep -o 'pts/.*'")
	b.MustRun("create", "--console-socket", socket, "--bundle", bun.Dir, "cs")
	b.MustRun("start", "cs")
	out := strings.ReplaceAll(output(), "\r", "")
	for _, want := range []string{"/dev/pts/0\n", "31 97\n", "character special file 88:0\n", "pts/0\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("terminal output %q lacks %q", out, want)
		}
	}
	waitFor(t, "the container to stop", func() bool { return b.State("cs").Status == "stopped" })
	b.MustRun("delete", "cs")
}

func TestConsoleSocketExec(t *testing.T) {
	b := newBerth(t)
	runningContainer(t, b, "cse")
	socket, output := consoleReceiver(t)
	b.MustRun("exec", "-t", "-d", "--console-socket", socket, "cse", "sh", "-c", "tty; echo exec-tty")
	out := strings.ReplaceAll(output(), "\r", "")
	if !strings.Contains(out, "/dev/pts/") || !strings.Contains(out, "exec-tty\n") {
		t.Errorf("exec terminal output: %q", out)
	}
}

func TestConsoleBadInput(t *testing.T) {
	b := newBerth(t)
	tty := terminalBundle(t, "true")
	b.MustFail([]string{"--console-socket"}, "create", "--bundle", tty.Dir, "bad1")
	b.MustFail([]string{"--console-socket"}, "run", "-d", "--bundle", tty.Dir, "bad2")
	missing := filepath.Join(t.TempDir(), "nobody-listens.sock")
	b.MustFail([]string{"console socket", missing}, "create", "--console-socket", missing, "--bundle", tty.Dir, "bad3")
	plain := newBundle(t, "true")
	b.MustFail([]string{"--console-socket", "terminal"}, "create", "--console-socket", missing, "--bundle", plain.Dir, "bad4")

	runningContainer(t, b, "bad5")
	b.MustFail([]string{"--console-socket"}, "exec", "-t", "-d", "bad5", "true")
	b.MustFail([]string{"console socket", missing}, "exec", "-t", "-d", "--console-socket", missing, "bad5", "true")
}

func TestInteractiveRunTerminal(t *testing.T) {
	b := newBerth(t)
	bun := terminalBundle(t, "sh")
	bun.Spec.Process.ConsoleSize = nil
	bun.Save(t)
	s := tmux.New(t, fmt.Sprintf("%s --root %s run --bundle %s it", berthBinary, b.Root, bun.Dir))
	b.ids["it"] = true
	s.WaitScreen("#")
	s.Send("tty; stty size", "Enter")
	s.WaitScreen("/dev/pts/0")
	s.WaitScreen("40 120")
	// Job control: Ctrl-C interrupts the foreground job, not the shell.
	s.Send("sleep 100", "Enter")
	time.Sleep(200 * time.Millisecond)
	s.Send("C-c")
	s.Send("echo survived-$((20+22))", "Enter")
	s.WaitScreen("survived-42")
	// A window size change reaches the container's terminal.
	s.Resize(100, 30)
	time.Sleep(200 * time.Millisecond)
	s.Send("stty size", "Enter")
	s.WaitScreen("30 100")
	s.Send("exit 3", "Enter")
	s.WaitScreen("exit-status=3")
}

func TestInteractiveExecTerminal(t *testing.T) {
	b := newBerth(t)
	runningContainer(t, b, "ie")
	s := tmux.New(t, fmt.Sprintf("%s --root %s exec -t ie sh", berthBinary, b.Root))
	s.WaitScreen("#")
	s.Send("tty; ps -o pid,tty,args | grep -c pts", "Enter")
	s.WaitScreen("/dev/pts/")
	s.Send("exit 5", "Enter")
	s.WaitScreen("exit-status=5")
}
