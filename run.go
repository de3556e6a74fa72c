package main

import (
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
	}, createFlags...),
	Action: func(c *cli.Context) error {
		detach := c.Bool("detach")
		if !detach {
			// init is our grandchild when it has a pid namespace.
			if err := libcontainer.SetSubreaper(); err != nil {
				return err
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
		ws, err := ctr.Wait()
		if tty != nil {
			tty.close()
		}
		if err != nil {
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
