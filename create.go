package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/berthrt/berth/libcontainer"
	"github.com/berthrt/berth/libcontainer/trace"
	"github.com/berthrt/berth/spec"
)

// createFlags are shared by create and run.
var createFlags = []cli.Flag{
	&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Usage: "path to the OCI bundle (default: the current directory)"},
	&cli.StringFlag{Name: "pid-file", Usage: "write the container's init pid to `FILE`"},
	&cli.BoolFlag{Name: "no-pivot", Usage: "use MS_MOVE and chroot instead of pivot_root (for a rootfs on a ramdisk)"},
	&cli.BoolFlag{Name: "no-new-keyring", Usage: "keep the caller's session keyring"},
	&cli.IntFlag{Name: "preserve-fds", Usage: "pass `N` extra fds (from 3 up) to the container"},
	&cli.StringFlag{Name: "console-socket", Usage: "send the pty master to the unix socket at `PATH` (process.terminal)"},
	&cli.StringFlag{Name: "pidfd-socket", Usage: "send a pidfd of the container's init to the unix socket at `PATH`"},
}

var createCommand = &cli.Command{
	Name:      "create",
	Usage:     "create a container; its process waits for `berth start`",
	ArgsUsage: "<container-id>",
	Flags:     createFlags,
	Action: func(c *cli.Context) error {
		_, _, err := createContainer(c, true)
		return err
	},
}

// createContainer creates the container named on the command line from its
// bundle and writes the pid file. When berth stays in the foreground with a
// terminal, consoleRecv is where the pty master arrives.
func createContainer(c *cli.Context, detach bool) (ctr *libcontainer.Container, consoleRecv *os.File, err error) {
	id, err := requireID(c)
	if err != nil {
		return nil, nil, err
	}
	if n := c.Int("preserve-fds"); n < 0 {
		return nil, nil, fmt.Errorf("--preserve-fds must not be negative, got %d", n)
	}
	if err := checkRootless(c.String("rootless")); err != nil {
		return nil, nil, err
	}
	bundle, err := filepath.Abs(c.String("bundle"))
	if err != nil {
		return nil, nil, fmt.Errorf("bundle path: %w", err)
	}
	tr := trace.Start("create", id)
	s, config, err := spec.Load(bundle)
	if err != nil {
		return nil, nil, err
	}
	tr.Stepf("config loaded from %s", bundle)
	store, err := openStore(c)
	if err != nil {
		return nil, nil, err
	}
	consoleSend, consoleRecv, err := consoleFor(c, s.Process.Terminal, detach)
	if err != nil {
		return nil, nil, err
	}
	if consoleSend != nil {
		defer consoleSend.Close()
	}
	ctr, err = libcontainer.Create(store, libcontainer.CreateOptions{
		ID:            id,
		Bundle:        bundle,
		Spec:          s,
		Config:        config,
		Rootfs:        spec.RootfsPath(s, bundle),
		NoPivot:       c.Bool("no-pivot"),
		NoNewKeyring:  c.Bool("no-new-keyring"),
		PreserveFDs:   c.Int("preserve-fds"),
		Stdin:         os.Stdin,
		Stdout:        os.Stdout,
		Stderr:        os.Stderr,
		ConsoleSocket: consoleSend,
		SystemdCgroup: c.Bool("systemd-cgroup"),
	})
	if err != nil {
		if consoleRecv != nil {
			consoleRecv.Close()
		}
		return nil, nil, fmt.Errorf("create container %q: %w", id, err)
	}
	if err := reportPid(c, ctr.Pid()); err != nil {
		_ = libcontainer.Delete(store, id, true)
		if consoleRecv != nil {
			consoleRecv.Close()
		}
		return nil, nil, err
	}
	return ctr, consoleRecv, nil
}

// reportPid writes --pid-file and sends a pidfd to --pidfd-socket.
func reportPid(c *cli.Context, pid int) error {
	if path := c.String("pid-file"); path != "" {
		if err := writePidFile(path, pid); err != nil {
			return err
		}
	}
	if path := c.String("pidfd-socket"); path != "" {
		return libcontainer.SendPidfd(path, pid)
	}
	return nil
}

// writePidFile writes atomically, so an engine polling for the file never
// reads a partial pid. The temporary file has a fresh name and is made with
// O_EXCL: in a directory others can write, a name known in advance could be
// a symlink they planted, through which berth would overwrite a host file.
func writePidFile(path string, pid int) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	_, err = tmp.WriteString(strconv.Itoa(pid))
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write pid file: %w", err)
	}
	return nil
}

// checkRootless reads the global --rootless as runc reads it at create and
// run: "auto" (or empty), or a boolean as strconv.ParseBool spells it.
// runc's "true" makes cgroup permission errors warnings, for a runtime run
// without root; "auto" means false for root in the host's user namespace.
// berth runs containers only as root (a caller without CAP_SYS_ADMIN is
// refused at create) and never ignores a cgroup error, which is what false
// and auto mean here. true is refused: the container would run without the
// limits its config asks for, and nobody would be told.
func checkRootless(value string) error {
	if value == "" || strings.EqualFold(value, "auto") {
		return nil
	}
	rootless, err := strconv.ParseBool(value)
	if err != nil {
		return fmt.Errorf("--rootless %q: want true, false or auto", value)
	}
	if rootless {
		return errors.New("--rootless true asks to ignore cgroup permission errors, which berth never does: " +
			"the container would run without the limits its config asks for. berth runs containers as root: use --rootless false or auto")
	}
	return nil
}
