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
		// Catch signals before the container exists, so none is lost in
		// between; they are forwarded once it runs.
		sigs := make(chan os.Signal, 64)
		if !c.Bool("detach") {
			signal.Notify(sigs)
		}
		ctr, err := createContainer(c)
		if err != nil {
			return err
		}
		store, err := openStore(c)
		if err != nil {
			return err
		}
		if err := ctr.Start(); err != nil {
			_ = libcontainer.Delete(store, ctr.ID(), true)
			return err
		}
		if c.Bool("detach") {
			return nil
		}
		go forwardSignals(sigs, ctr.Pid())
		ps, err := ctr.Wait()
		signal.Stop(sigs)
		if err != nil {
			return err
		}
		if !c.Bool("keep") {
			if err := libcontainer.Delete(store, ctr.ID(), true); err != nil {
				return err
			}
		}
		return exitCode(exitStatus(ps))
	},
}

// forwardSignals passes every signal berth receives on to the container's
// init, except those that concern berth itself.
func forwardSignals(sigs <-chan os.Signal, pid int) {
	for s := range sigs {
		sig := s.(syscall.Signal)
		switch sig {
		case unix.SIGCHLD, unix.SIGURG, unix.SIGWINCH, unix.SIGPIPE:
			// SIGURG is the Go runtime's preemption signal.
			continue
		}
		_ = unix.Kill(pid, sig)
	}
}

// exitStatus follows the shell's convention: 128+N for death by signal N.
func exitStatus(ps *os.ProcessState) int {
	ws := ps.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
