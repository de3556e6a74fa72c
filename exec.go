package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli/v2"

	"github.com/berthrt/berth/libcontainer"
	"github.com/berthrt/berth/libcontainer/sigforward"
	"github.com/berthrt/berth/spec"
)

var execCommand = &cli.Command{
	Name:      "exec",
	Usage:     "run a process in a running container",
	ArgsUsage: "<container-id> [command [arg...]]",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "process", Aliases: []string{"p"}, Usage: "read the process from `FILE` (process.json), ignoring the flags that set it"},
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "return once the process runs"},
		&cli.StringFlag{Name: "pid-file", Usage: "write the process's pid to `FILE`"},
		&cli.StringFlag{Name: "pidfd-socket", Usage: "send a pidfd of the process to the unix socket at `PATH`"},
		&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a terminal"},
		&cli.StringFlag{Name: "console-socket", Usage: "send the pty master to the unix socket at `PATH` (with --tty and --detach)"},
		&cli.StringFlag{Name: "cwd", Usage: "working directory in the container"},
		&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "add `VAR=value` to the environment"},
		&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "run as `UID[:GID]`"},
		&cli.Int64SliceFlag{Name: "additional-gids", Aliases: []string{"g"}, Usage: "additional group ids"},
		&cli.StringSliceFlag{Name: "cap", Aliases: []string{"c"}, Usage: "add a capability (e.g. CAP_NET_ADMIN)"},
		&cli.BoolFlag{Name: "no-new-privs", Usage: "set no_new_privs for the process"},
		&cli.StringFlag{Name: "apparmor", Usage: "run the process under AppArmor profile `NAME`"},
		&cli.StringFlag{Name: "process-label", Usage: "run the process with SELinux label `LABEL`"},
		&cli.IntFlag{Name: "preserve-fds", Usage: "pass `N` extra fds (from 3 up) to the process"},
		&cli.BoolFlag{Name: "ignore-paused", Usage: "allow exec in a paused container"},
		&cli.StringSliceFlag{Name: "cgroup", Usage: "run in an existing sub-cgroup of the container: `[CONTROLLER:]PATH` (repeatable)"},
	},
	// As runc: 255 when exec fails, so that a caller can tell a failure
	// from the status of the process it ran.
	Action: failWith(255, func(c *cli.Context) error {
		ctr, err := loadContainer(c)
		if err != nil {
			return err
		}
		p, userSpec, err := execProcess(c, ctr)
		if err != nil {
			return err
		}
		if n := c.Int("preserve-fds"); n < 0 {
			return fmt.Errorf("--preserve-fds must not be negative, got %d", n)
		}
		detach := c.Bool("detach")
		consoleSend, consoleRecv, err := consoleFor(c, p.Terminal, detach)
		if err != nil {
			return err
		}
		if consoleSend != nil {
			defer consoleSend.Close()
		}
		if !detach {
			// The process is berth's child, waited for as such; like
			// runc's exec, berth adopts nothing it orphans.
			if err := sigforward.Start(); err != nil {
				return err
			}
		}
		pid, err := ctr.Exec(libcontainer.ExecOptions{
			Process:       p,
			PreserveFDs:   c.Int("preserve-fds"),
			Stdin:         os.Stdin,
			Stdout:        os.Stdout,
			Stderr:        os.Stderr,
			ConsoleSocket: consoleSend,
			IgnorePaused:  c.Bool("ignore-paused"),
			User:          userSpec,
			SubCgroups:    subCgroups(c.StringSlice("cgroup")),
		})
		if err != nil {
			if consoleRecv != nil {
				consoleRecv.Close()
			}
			return err
		}
		var tty *terminalProxy
		if consoleRecv != nil {
			if tty, err = startTerminalProxy(consoleRecv); err != nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				return err
			}
		}
		if err := reportPid(c, pid); err != nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			return err
		}
		if detach {
			return nil
		}
		forwardSignals(pid, tty)
		ws, err := libcontainer.WaitPid(pid)
		if tty != nil {
			tty.close()
		}
		if err != nil {
			return err
		}
		return exitCode(exitStatus(syscall.WaitStatus(ws)))
	}),
}

// execProcess builds the process to exec: from --process, or from the
// container's own process with the command line's changes, as runc does.
func execProcess(c *cli.Context, ctr *libcontainer.Container) (p *specs.Process, userSpec string, err error) {
	if path := c.String("process"); path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, "", fmt.Errorf("read --process: %w", err)
		}
		var proc specs.Process
		if err := spec.Unmarshal(data, &proc); err != nil {
			return nil, "", fmt.Errorf("parse --process %s: %w", path, err)
		}
		if len(proc.Args) == 0 {
			return nil, "", fmt.Errorf("--process %s: args must not be empty", path)
		}
		return &proc, "", nil
	}
	if c.NArg() < 2 {
		return nil, "", errors.New("exec: give a command to run, or --process FILE")
	}
	if p, err = ctr.Process(); err != nil {
		return nil, "", err
	}
	p.Args = c.Args().Slice()[1:]
	p.Terminal = c.Bool("tty")
	p.Env = append(p.Env, c.StringSlice("env")...)
	if cwd := c.String("cwd"); cwd != "" {
		p.Cwd = cwd
	}
	if u := c.String("user"); u != "" {
		if uid, gid, ok := numericUser(u); ok {
			p.User.UID, p.User.GID = uid, gid
		} else {
			// Names are looked up in the container's /etc/passwd and
			// /etc/group, by the process once it is in the container.
			userSpec = u
		}
	}
	for _, g := range c.Int64Slice("additional-gids") {
		if g < 0 || g > 1<<32-1 {
			return nil, "", fmt.Errorf("--additional-gids: %d is not a valid gid", g)
		}
		p.User.AdditionalGids = append(p.User.AdditionalGids, uint32(g))
	}
	if c.IsSet("no-new-privs") {
		p.NoNewPrivileges = c.Bool("no-new-privs")
	}
	if c.IsSet("apparmor") {
		p.ApparmorProfile = c.String("apparmor")
	}
	if c.IsSet("process-label") {
		p.SelinuxLabel = c.String("process-label")
	}
	if caps := c.StringSlice("cap"); len(caps) > 0 {
		if p.Capabilities == nil {
			p.Capabilities = &specs.LinuxCapabilities{}
		}
		// Not inheritable: an exec'd program must not hand the added
		// capabilities to programs it runs (CVE-2022-29162).
		p.Capabilities.Bounding = append(p.Capabilities.Bounding, caps...)
		p.Capabilities.Effective = append(p.Capabilities.Effective, caps...)
		p.Capabilities.Permitted = append(p.Capabilities.Permitted, caps...)
	}
	return p, userSpec, nil
}

// subCgroups reads --cgroup values: "PATH" for every controller, or
// "CONTROLLER:PATH" (with "a,b:PATH" naming several), as runc takes them.
func subCgroups(values []string) map[string]string {
	if len(values) == 0 {
		return nil
	}
	subs := make(map[string]string)
	for _, v := range values {
		ctrls, path, found := strings.Cut(v, ":")
		if !found {
			subs[""] = v
			continue
		}
		for _, c := range strings.Split(ctrls, ",") {
			subs[c] = path
		}
	}
	return subs
}

// numericUser reads "UID" or "UID:GID".
func numericUser(s string) (uid, gid uint32, ok bool) {
	u, g, hasGID := strings.Cut(s, ":")
	id, err := strconv.ParseUint(u, 10, 32)
	if err != nil {
		return 0, 0, false
	}
	uid = uint32(id)
	if hasGID {
		id, err := strconv.ParseUint(g, 10, 32)
		if err != nil {
			return 0, 0, false
		}
		gid = uint32(id)
	}
	return uid, gid, true
}
