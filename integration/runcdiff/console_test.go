package runcdiff

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// console is the receiving end of --console-socket: it takes the pty
// master a runtime sends and keeps what the container writes to it.
type console struct {
	ln     *net.UnixListener
	master *os.File
	mu     sync.Mutex
	buf    bytes.Buffer
	// done is closed once the container's side of the pty is closed.
	done chan struct{}
}

func listenConsole(path string) (*console, error) {
	os.Remove(path)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("console socket: %w", err)
	}
	return &console{ln: ln, done: make(chan struct{})}, nil
}

// accept receives the pty master, which the runtime has sent by the time
// its command returns, and starts reading it.
func (c *console) accept() error {
	if err := c.ln.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return err
	}
	conn, err := c.ln.AcceptUnix()
	if err != nil {
		return fmt.Errorf("console socket: no connection: %w", err)
	}
	defer conn.Close()
	oob := make([]byte, unix.CmsgSpace(4))
	_, oobn, _, _, err := conn.ReadMsgUnix(make([]byte, 4096), oob)
	if err != nil {
		return fmt.Errorf("console socket: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return fmt.Errorf("console socket: no fd in the message (%v)", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return fmt.Errorf("console socket: no fd in the message (%v)", err)
	}
	c.master = os.NewFile(uintptr(fds[0]), "pty master")
	go c.read()
	return nil
}

func (c *console) read() {
	defer close(c.done)
	b := make([]byte, 4096)
	for {
		n, err := c.master.Read(b)
		c.mu.Lock()
		c.buf.Write(b[:n])
		c.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// output waits for the container to close its terminal, up to ten
// seconds, and returns what it wrote, with the terminal's CRLFs as LFs.
func (c *console) output() (string, error) {
	if c == nil || c.master == nil {
		return "", errors.New("no console was received")
	}
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		return "", errors.New("the terminal stayed open for 10 s")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.ReplaceAll(c.buf.String(), "\r\n", "\n"), nil
}

func (c *console) close() {
	if c == nil {
		return
	}
	c.ln.Close()
	if c.master != nil {
		c.master.Close()
	}
}

// consoleOutput compares what the containers wrote to their terminals.
func consoleOutput() step {
	return observe("what the terminal showed", func(s *side) (string, error) {
		return s.console.output()
	})
}

// consoleInput types text into the containers' terminals once they have
// shown prompt (up to ten seconds), so that the terminal's echo of it
// comes after what the container wrote before.
func consoleInput(prompt, text string) step {
	return observe("type "+strings.TrimSpace(text), func(s *side) (string, error) {
		if s.console == nil || s.console.master == nil {
			return "", errors.New("no console was received")
		}
		for deadline := time.Now().Add(10 * time.Second); !s.console.shows(prompt); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				return "", fmt.Errorf("the terminal did not show %q", prompt)
			}
		}
		_, err := s.console.master.WriteString(text)
		return "", err
	})
}

func (c *console) shows(text string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Contains(c.buf.String(), text)
}
