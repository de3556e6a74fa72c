// berth is an OCI container runtime: it turns an OCI bundle into an isolated
// process tree, with runc's command line.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"

	"github.com/berthrt/berth/libcontainer"
	"github.com/berthrt/berth/libcontainer/seccomp"
	"github.com/berthrt/berth/libcontainer/state"
)

// Set by the Makefile.
var (
	version   = "0.1.0-dev"
	gitCommit = "unknown"
)

func init() {
	// `berth init` sets per-thread state (capabilities, namespaces) that
	// must hold on the thread that finally calls execve.
	if len(os.Args) > 1 && os.Args[1] == "init" {
		runtime.LockOSThread()
	}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		libcontainer.Init()
	}
	app := newApp()
	cli.VersionPrinter = func(c *cli.Context) { fmt.Println("berth version " + c.App.Version) }
	if err := app.Run(flagsFirst(app, os.Args)); err != nil {
		var exit exitCode
		if errors.As(err, &exit) {
			os.Exit(int(exit))
		}
		fatal(err)
	}
}

// newApp returns berth's command line: global flags and commands.
func newApp() *cli.App {
	app := &cli.App{
		Name:                   "berth",
		Usage:                  "run OCI containers",
		Version:                versionString(),
		UseShortOptionHandling: true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "root", Value: "/run/berth", Usage: "directory for container state"},
			&cli.StringFlag{Name: "log", Usage: "write logs to `FILE` instead of stderr"},
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text or json"},
			&cli.BoolFlag{Name: "debug", Usage: "log debug messages"},
			// As runc's: cgroupsPath is "slice:prefix:name". berth puts
			// the container where systemd's driver would, through
			// cgroupfs, without a systemd unit (cgroups.SystemdPath).
			&cli.BoolFlag{Name: "systemd-cgroup", Usage: "read linux.cgroupsPath as systemd's slice:prefix:name"},
			// As runc's, which engines may pass (containerd's go-runc
			// writes --rootless=true|false when configured); what each
			// value means for berth is checkRootless's.
			&cli.StringFlag{Name: "rootless", Value: "auto", Usage: "ignore cgroup permission errors: true, false or auto; berth runs as root and never ignores them, so true is refused"},
			// As runc's, which containerd passes when its runc options
			// name a criu path. berth has no checkpoint or restore yet,
			// so no command uses it; `berth checkpoint` is an unknown
			// command, not a silent no-op.
			&cli.StringFlag{Name: "criu", Value: "criu", Usage: "path to the criu binary, for checkpoint and restore (which berth does not do yet)"},
		},
		Before: setupLogging,
		Commands: []*cli.Command{
			createCommand,
			deleteCommand,
			eventsCommand,
			execCommand,
			featuresCommand,
			killCommand,
			listCommand,
			pauseCommand,
			psCommand,
			resumeCommand,
			runCommand,
			specCommand,
			startCommand,
			stateCommand,
			updateCommand,
		},
		// Errors are reported once, by main, in the configured format.
		ExitErrHandler: func(*cli.Context, error) {},
	}
	setupCommands(app.Commands)
	return app
}

func versionString() string {
	return strings.Join([]string{
		version,
		"commit: " + gitCommit,
		"spec: " + specs.Version,
		"go: " + runtime.Version(),
		"libseccomp: " + seccomp.Version(),
	}, "\n")
}

// logToFile is set when logs go somewhere other than stderr, so errors must
// be printed to stderr as well.
var logToFile bool

func setupLogging(c *cli.Context) error {
	if c.Bool("debug") {
		logrus.SetLevel(logrus.DebugLevel)
	}
	switch c.String("log-format") {
	case "text":
		logrus.SetFormatter(&logrus.TextFormatter{DisableColors: true})
	case "json":
		logrus.SetFormatter(&logrus.JSONFormatter{})
	default:
		return fmt.Errorf("unknown --log-format %q: use text or json", c.String("log-format"))
	}
	if path := c.String("log"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC, 0o644)
		if err != nil {
			return fmt.Errorf("open log file: %w", err)
		}
		logrus.SetOutput(f)
		logToFile = true
	}
	return nil
}

// fatal reports err and exits 1, or the code of a failure, as runc does:
// to the log (file or json stream), and as a plain line on stderr for a
// person to read.
func fatal(err error) {
	switch {
	case logToFile:
		logrus.Error(err)
		fmt.Fprintln(os.Stderr, "berth: "+err.Error())
	case isJSON():
		// JSON lines on stderr are for a program; keep the stream clean.
		logrus.Error(err)
	default:
		fmt.Fprintln(os.Stderr, "berth: "+err.Error())
	}
	code := 1
	var f failure
	var coder cli.ExitCoder
	switch {
	case errors.As(err, &f):
		code = f.code
	case errors.As(err, &coder):
		// urfave/cli's own: 3 for an unknown command, as runc exits.
		code = coder.ExitCode()
	}
	os.Exit(code)
}

func isJSON() bool {
	_, ok := logrus.StandardLogger().Formatter.(*logrus.JSONFormatter)
	return ok
}

// exitCode makes main exit with a status and no message, as `run` does
// with the container's status.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// failure is an error that makes berth exit with code instead of 1.
type failure struct {
	code int
	err  error
}

func (f failure) Error() string { return f.err.Error() }
func (f failure) Unwrap() error { return f.err }

// failWith makes the errors of action exit with code; the exit statuses
// it returns on purpose stay as they are.
func failWith(code int, action cli.ActionFunc) cli.ActionFunc {
	return func(c *cli.Context) error {
		err := action(c)
		var exit exitCode
		if err == nil || errors.As(err, &exit) {
			return err
		}
		return failure{code: code, err: err}
	}
}

func openStore(c *cli.Context) (*state.Store, error) {
	return state.Open(c.String("root"))
}

// requireID returns the container id, a command's first argument, which
// checkOperands made sure is there.
func requireID(c *cli.Context) (string, error) {
	id := c.Args().First()
	if err := state.ValidateID(id); err != nil {
		return "", err
	}
	return id, nil
}

func loadContainer(c *cli.Context) (*libcontainer.Container, error) {
	id, err := requireID(c)
	if err != nil {
		return nil, err
	}
	store, err := openStore(c)
	if err != nil {
		return nil, err
	}
	return libcontainer.Load(store, id)
}
