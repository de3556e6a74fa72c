package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/libcontainer"
	"github.com/berthrt/berth/libcontainer/sigforward"
)

var runCommand = &cli.Command{
	Name:      "run",
	Usage:     "create and start a container; in the foreground, wait for it and exit with its status",
	ArgsUsage: "<container-id>",
	Flags: append([]cli.Flag{
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "return once the container runs"},
		&cli.BoolFlag{Name: "keep", Usage: "keep the stopped container instead of deleting it"},
		&cli.BoolFlag{Name: "no-subreaper", Usage: "do not adopt the processes the container orphans (berth still waits for its init, its child)"},
	}, createFlags...),
	Action: func(c *cli.Context) error {
		detach := c.Bool("detach")
		if !detach {
			// As runc: berth adopts (and reaps) what the container
			// orphans, unless told not to. Either way init is berth's
			// child, which it waits for.
			if !c.Bool("no-subreaper") {
				if err := libcontainer.SetSubreaper(); err != nil {
					return err
				}
			}
			// Catch signals before the container exists, so none is
			// lost in between; they are forwarded once it runs.
			if err := sigforward.Start(); err != nil {
				return err
			}
		}
		ctr, consoleRecv, err := createContainer(c, detach)
		if err != nil {
			return err
		}
		store, err := openStore(c)
		if err != nil {
			return err
		}
		var tty *terminalProxy
		if consoleRecv != nil {
			if tty, err = startTerminalProxy(consoleRecv); err != nil {
				_ = libcontainer.Delete(store, ctr.ID(), true)
				return err
			}
		}
		if err := ctr.Start(); err != nil {
			_ = libcontainer.Delete(store, ctr.ID(), true)
			return err
		}
		if detach {
			return nil
		}
		forwardSignals(ctr.Pid(), tty)
		ws, err := waitReaping(ctr.Pid())
		if tty != nil {
			tty.close()
		}
		if err != nil {
			_ = libcontainer.Delete(store, ctr.ID(), true)
			return err
		}
		if !c.Bool("keep") {
			if err := libcontainer.Delete(store, ctr.ID(), true); err != nil {
				return err
			}
		}
		return exitCode(exitStatus(syscall.WaitStatus(ws)))
	},
}

// forwardSignals passes the signals sigforward.Start caught, and later
// ones, on to the process pid; a window size change resizes the
// container's terminal.
func forwardSignals(pid int, tty *terminalProxy) {
	// A pidfd reaches no other process that reuses pid once this one has
	// been waited for. It stays open as long as berth runs.
	if pidfd, err := unix.PidfdOpen(pid, 0); err == nil {
		sigforward.To(pidfd)
	}
	if tty == nil {
		return
	}
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, unix.SIGWINCH)
	// Again, for a change before Notify.
	tty.resize()
	go func() {
		for range winch {
			tty.resize()
		}
	}()
}

// exitStatus follows the shell's convention: 128+N for death by signal N.
func exitStatus(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// waitReaping waits for init, berth's child, and reaps every other child
// that ends meanwhile: the processes a container without a pid namespace
// orphans, which berth adopts as a child subreaper. As runc's run reaps
// them, they do not stay zombies as long as the container runs. berth has
// no other child by then: its hooks have run, and its terminal proxy is
// goroutines.
func waitReaping(init int) (unix.WaitStatus, error) {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, 0, nil)
		switch {
		case errors.Is(err, unix.EINTR):
		case err != nil:
			return 0, fmt.Errorf("wait for the container's init (pid %d): %w", init, err)
		case pid == init:
			return ws, nil
		}
	}
}
