package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/libcontainer"
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
		}
		// Catch signals before the container exists, so none is lost in
		// between; they are forwarded once it runs.
		sigs := make(chan os.Signal, 64)
		if !detach {
			signal.Notify(sigs)
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
		go forwardSignals(sigs, ctr.Pid(), tty)
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

// forwardSignals passes every signal berth receives on to the process pid,
// except those that concern berth itself; a window size change resizes the
// container's terminal. It forwards through a pidfd, which cannot reach
// another process that reuses pid once the process has been waited for, so
// the signals need not be stopped then: each signal.Stop costs the Go
// runtime a round trip between two threads, a millisecond for all of them.
func forwardSignals(sigs <-chan os.Signal, pid int, tty *terminalProxy) {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return // it has gone already; nothing to forward to
	}
	defer unix.Close(pidfd)
	for s := range sigs {
		sig := s.(syscall.Signal)
		switch sig {
		case unix.SIGWINCH:
			if tty != nil {
				tty.resize()
			}
		case unix.SIGCHLD, unix.SIGURG, unix.SIGPIPE:
			// SIGURG is the Go runtime's preemption signal.
		default:
			_ = unix.PidfdSendSignal(pidfd, sig, nil, 0)
		}
	}
}

// exitStatus follows the shell's convention: 128+N for death by signal N.
func exitStatus(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
