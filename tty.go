package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/containerd/console"
	"github.com/urfave/cli/v2"

	"github.com/berthrt/berth/libcontainer"
)

// consoleFor decides where a process's pty master goes, following runc's
// rules: a detached process with a terminal needs --console-socket; a
// socket is refused when there is no terminal or berth stays in the
// foreground. In the foreground berth receives the master itself: recv is
// then the end to read it from.
func consoleFor(c *cli.Context, terminal, detach bool) (send, recv *os.File, err error) {
	path := c.String("console-socket")
	switch {
	case terminal && detach && path == "":
		return nil, nil, errors.New("process.terminal is true and berth will detach: give --console-socket PATH to receive the terminal")
	case path != "" && !(terminal && detach):
		return nil, nil, errors.New("--console-socket needs a terminal (process.terminal or --tty) and a detached process (create, run -d, exec -d)")
	case path != "":
		send, err := libcontainer.DialConsoleSocket(path)
		return send, nil, err
	case terminal:
		return libcontainer.ConsolePair()
	}
	return nil, nil, nil
}

// terminalProxy connects berth's own stdio to a container's pty master
// while berth waits in the foreground.
type terminalProxy struct {
	master  *os.File
	current console.Console // berth's own terminal, nil when stdin is not one
	output  chan struct{}   // closed when the container's output ends
}

// startTerminalProxy receives the master from recv and starts copying. If
// berth's stdin is a terminal, it goes raw, so that keys such as Ctrl-C
// reach the container's terminal instead of berth.
func startTerminalProxy(recv *os.File) (*terminalProxy, error) {
	defer recv.Close()
	master, err := libcontainer.RecvPty(recv)
	if err != nil {
		return nil, err
	}
	t := &terminalProxy{master: master, output: make(chan struct{})}
	if cur, err := console.ConsoleFromFile(os.Stdin); err == nil {
		if err := cur.SetRaw(); err != nil {
			master.Close()
			return nil, fmt.Errorf("set the terminal raw: %w", err)
		}
		t.current = cur
		t.resize()
	}
	go func() { _, _ = io.Copy(master, os.Stdin) }()
	go func() {
		// Ends with EIO once every process holding the slave is gone.
		_, _ = io.Copy(os.Stdout, master)
		close(t.output)
	}()
	return t, nil
}

// resize gives the container's terminal the size of berth's own. A
// terminal that reports no size (0x0) leaves the container's alone, so
// process.consoleSize holds.
func (t *terminalProxy) resize() {
	if t.current == nil {
		return
	}
	size, err := t.current.Size()
	if err != nil || size.Height == 0 || size.Width == 0 {
		return
	}
	if m, err := console.ConsoleFromFile(t.master); err == nil {
		_ = m.Resize(size)
	}
}

// close waits briefly for the last output, then restores berth's terminal.
func (t *terminalProxy) close() {
	select {
	case <-t.output:
	case <-time.After(time.Second):
	}
	if t.current != nil {
		_ = t.current.Reset()
	}
	t.master.Close()
}
