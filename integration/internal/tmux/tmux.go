// Package tmux runs a command on a real pty, in a detached tmux session, as
// a person at a terminal would: tests type into it and read its screen.
package tmux

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Session is one tmux server with one window of 120x40 cells.
type Session struct {
	t    *testing.T
	sock string
}

// window is the target every command names.
const window = "test"

// New starts command in a new session that the test's cleanup ends. When
// the command ends the window shows "exit-status=N".
func New(t *testing.T, command string) *Session {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is missing: run hack/install-deps.sh")
	}
	s := &Session{t: t, sock: filepath.Join(t.TempDir(), "tmux.sock")}
	s.tmux("new-session", "-d", "-x", "120", "-y", "40", "-s", window, command+"; echo exit-status=$?; sleep 600")
	t.Cleanup(func() { _ = exec.Command("tmux", "-S", s.sock, "kill-server").Run() })
	return s
}

func (s *Session) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", s.sock}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// Send types keys, in tmux send-keys' words ("Enter", "C-c").
func (s *Session) Send(keys ...string) {
	s.t.Helper()
	s.tmux(append([]string{"send-keys", "-t", window}, keys...)...)
}

// Resize changes the window's size, as a person resizing a terminal does.
func (s *Session) Resize(columns, rows int) {
	s.t.Helper()
	s.tmux("resize-window", "-t", window, "-x", strconv.Itoa(columns), "-y", strconv.Itoa(rows))
}

// Screen is what the window shows.
func (s *Session) Screen() string {
	s.t.Helper()
	return s.tmux("capture-pane", "-p", "-t", window)
}

// WaitScreen waits until a line of the screen contains want, and fails the
// test if none does within a minute.
func (s *Session) WaitScreen(want string) {
	s.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		screen := s.Screen()
		for _, line := range strings.Split(screen, "\n") {
			if strings.Contains(line, want) {
				return
			}
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the terminal never showed %q:\n%s", want, screen)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
