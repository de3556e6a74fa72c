package engines

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// engine is one engine's command line, driving containers by name. Where
// an engine cannot express what a check asks for, its method skips the
// check and says why.
type engine interface {
	Name() string
	// Run runs cmd in a new container in the foreground and returns what
	// it printed and its exit status. The container is removed after,
	// unless o.Name keeps it for inspection until the test ends.
	Run(t *testing.T, o opts, cmd ...string) result
	// Start runs cmd in a new container in the background; the test's
	// cleanup removes it.
	Start(t *testing.T, name string, o opts, cmd ...string)
	Exec(t *testing.T, name string, o execOpts, cmd ...string) result
	Logs(t *testing.T, name string) string
	// Top lists the container's processes.
	Top(t *testing.T, name string) string
	Pause(t *testing.T, name string)
	Unpause(t *testing.T, name string)
	// Update changes the memory limit (swap included) and the cpus.
	Update(t *testing.T, name string, memory int64, cpus string)
	Restart(t *testing.T, name string)
	// Stop stops the container with SIGTERM.
	Stop(t *testing.T, name string)
	Kill(t *testing.T, name, signal string)
	// Wait waits for the container to stop and returns its exit status.
	Wait(t *testing.T, name string) int
	Remove(t *testing.T, name string)
	// Status is "running", "paused" or "exited".
	Status(t *testing.T, name string) string
	// OOMKilled is whether the engine says the kernel's OOM killer ended
	// the container, and whether it says so at all.
	OOMKilled(t *testing.T, name string) (killed, reported bool)
	// RuntimeID is the id the runtime knows the container by, and
	// RuntimeRoot the runtime's --root ("" for its default).
	RuntimeID(t *testing.T, name string) string
	RuntimeRoot() string
	// Interactive is a shell command that runs cmd in a new container
	// with a terminal, and InteractiveExec one that execs cmd with a
	// terminal in a running container.
	Interactive(t *testing.T, name string, cmd ...string) string
	InteractiveExec(t *testing.T, name string, cmd ...string) string
}

// opts are what a check asks of a new container; the zero value is the
// engine's defaults with no network.
type opts struct {
	Name       string
	Stdin      string
	Memory     int64 // bytes, swap included
	PidsLimit  int
	CPUs       string
	User       string
	ReadOnly   bool
	CapDropAll bool
	Seccomp    string // "" as the engine does by default, seccompDefault, seccompUnconfined, or a profile's path
	Volumes    []string
	Env        []string
	Workdir    string
	Hostname   string
	Tmpfs      string
	Network    string // "" for none, "host", or podman's "slirp4netns:…"
	Sysctl     string
}

const (
	seccompDefault    = "default"
	seccompUnconfined = "unconfined"
)

type execOpts struct {
	User string
}

// dockerCLI is Debian's docker client, which matches its dockerd; another
// may be earlier in $PATH.
const dockerCLI = "/usr/bin/docker"

// cliEngine drives podman and docker, whose command lines are alike.
type cliEngine struct {
	name string
	// argv is the engine's command with the flags that keep it private.
	argv []string
	env  []string
	// runFlags go on every run command.
	runFlags    []string
	runtimeRoot string
	// slirp4netns is whether the engine has podman's user-mode network.
	slirp4netns bool
	// oomUnreported is set where the engine does not say that the OOM
	// killer ended a container, whatever the runtime.
	oomUnreported bool
}

func (e *cliEngine) Name() string        { return e.name }
func (e *cliEngine) RuntimeRoot() string { return e.runtimeRoot }

func (e *cliEngine) cmd(args ...string) []string {
	return append(append([]string{}, e.argv...), args...)
}

func (e *cliEngine) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return run(t, e.env, stdin, e.cmd(args...)...)
}

func (e *cliEngine) must(t *testing.T, args ...string) string {
	t.Helper()
	return mustRun(t, e.env, e.cmd(args...)...).Stdout
}

func (e *cliEngine) flags(t *testing.T, o opts) []string {
	t.Helper()
	f := append([]string{}, e.runFlags...)
	switch {
	case o.Network == "":
		f = append(f, "--network", "none")
	case strings.HasPrefix(o.Network, "slirp4netns") && !e.slirp4netns:
		t.Skipf("%s has no slirp4netns network", e.name)
	default:
		f = append(f, "--network", o.Network)
	}
	if o.Stdin != "" {
		f = append(f, "-i")
	}
	if o.Memory != 0 {
		m := strconv.FormatInt(o.Memory, 10)
		f = append(f, "--memory", m, "--memory-swap", m)
	}
	if o.PidsLimit != 0 {
		f = append(f, "--pids-limit", strconv.Itoa(o.PidsLimit))
	}
	if o.CPUs != "" {
		f = append(f, "--cpus", o.CPUs)
	}
	if o.User != "" {
		f = append(f, "--user", o.User)
	}
	if o.ReadOnly {
		f = append(f, "--read-only")
	}
	if o.CapDropAll {
		f = append(f, "--cap-drop", "ALL")
	}
	switch o.Seccomp {
	case "", seccompDefault:
	default:
		f = append(f, "--security-opt", "seccomp="+o.Seccomp)
	}
	for _, v := range o.Volumes {
		f = append(f, "--volume", v)
	}
	for _, v := range o.Env {
		f = append(f, "--env", v)
	}
	if o.Workdir != "" {
		f = append(f, "--workdir", o.Workdir)
	}
	if o.Hostname != "" {
		f = append(f, "--hostname", o.Hostname)
	}
	if o.Tmpfs != "" {
		f = append(f, "--tmpfs", o.Tmpfs)
	}
	if o.Sysctl != "" {
		f = append(f, "--sysctl", o.Sysctl)
	}
	return f
}

func (e *cliEngine) Run(t *testing.T, o opts, cmd ...string) result {
	t.Helper()
	args := []string{"run"}
	if o.Name == "" {
		args = append(args, "--rm")
	} else {
		args = append(args, "--name", o.Name)
		e.removeAtEnd(t, o.Name)
	}
	args = append(append(append(args, e.flags(t, o)...), image), cmd...)
	return e.run(t, o.Stdin, args...)
}

func (e *cliEngine) removeAtEnd(t *testing.T, name string) {
	t.Cleanup(func() { e.run(t, "", "rm", "--force", name) })
}

func (e *cliEngine) Start(t *testing.T, name string, o opts, cmd ...string) {
	t.Helper()
	e.removeAtEnd(t, name)
	e.must(t, append(append(append([]string{"run", "--detach", "--name", name}, e.flags(t, o)...), image), cmd...)...)
}

func (e *cliEngine) Exec(t *testing.T, name string, o execOpts, cmd ...string) result {
	t.Helper()
	args := []string{"exec"}
	if o.User != "" {
		args = append(args, "--user", o.User)
	}
	return e.run(t, "", append(append(args, name), cmd...)...)
}

func (e *cliEngine) Logs(t *testing.T, name string) string {
	t.Helper()
	r := mustRun(t, e.env, e.cmd("logs", name)...)
	return r.Output()
}

func (e *cliEngine) Top(t *testing.T, name string) string {
	t.Helper()
	return e.must(t, "top", name)
}

func (e *cliEngine) Pause(t *testing.T, name string)   { t.Helper(); e.must(t, "pause", name) }
func (e *cliEngine) Unpause(t *testing.T, name string) { t.Helper(); e.must(t, "unpause", name) }

func (e *cliEngine) Update(t *testing.T, name string, memory int64, cpus string) {
	t.Helper()
	m := strconv.FormatInt(memory, 10)
	e.must(t, "update", "--memory", m, "--memory-swap", m, "--cpus", cpus, name)
}

func (e *cliEngine) Restart(t *testing.T, name string) { t.Helper(); e.must(t, "restart", name) }

func (e *cliEngine) Stop(t *testing.T, name string) {
	t.Helper()
	// Long enough that only a lost SIGTERM ends in SIGKILL.
	e.must(t, "stop", "--time", "60", name)
}

func (e *cliEngine) Kill(t *testing.T, name, signal string) {
	t.Helper()
	e.must(t, "kill", "--signal", signal, name)
}

func (e *cliEngine) Wait(t *testing.T, name string) int {
	t.Helper()
	out := strings.TrimSpace(e.must(t, "wait", name))
	code, err := strconv.Atoi(out)
	if err != nil {
		t.Fatalf("%s wait %s: %q is not an exit status", e.name, name, out)
	}
	return code
}

func (e *cliEngine) Remove(t *testing.T, name string) { t.Helper(); e.must(t, "rm", "--force", name) }

func (e *cliEngine) inspect(t *testing.T, name, format string) string {
	t.Helper()
	return strings.TrimSpace(e.must(t, "inspect", "--format", format, name))
}

func (e *cliEngine) Status(t *testing.T, name string) string {
	t.Helper()
	return e.inspect(t, name, "{{.State.Status}}")
}

func (e *cliEngine) OOMKilled(t *testing.T, name string) (killed, reported bool) {
	t.Helper()
	return e.inspect(t, name, "{{.State.OOMKilled}}") == "true", !e.oomUnreported
}

func (e *cliEngine) RuntimeID(t *testing.T, name string) string {
	t.Helper()
	return e.inspect(t, name, "{{.Id}}")
}

func (e *cliEngine) Interactive(t *testing.T, name string, cmd ...string) string {
	t.Helper()
	e.removeAtEnd(t, name)
	args := append(append(e.cmd("run", "-it", "--rm", "--name", name), e.flags(t, opts{})...), image)
	return shellCommand(e.env, append(args, cmd...))
}

func (e *cliEngine) InteractiveExec(t *testing.T, name string, cmd ...string) string {
	return shellCommand(e.env, append(e.cmd("exec", "-it", name), cmd...))
}

// shellCommand quotes env and argv as one sh command line.
func shellCommand(env, argv []string) string {
	words := []string{"env"}
	for _, w := range append(append([]string{}, env...), argv...) {
		words = append(words, "'"+strings.ReplaceAll(w, "'", `'\''`)+"'")
	}
	return strings.Join(words, " ")
}

// runtimeState is the runtime's own `state` of a container.
func runtimeState(t *testing.T, e engine, name string) (status string, pid int) {
	t.Helper()
	return runtimeStateAt(t, e.RuntimeRoot(), e.RuntimeID(t, name))
}

// runtimeStateAt is `state` of container id in the runtime's root ("" for
// its default).
func runtimeStateAt(t *testing.T, root, id string) (status string, pid int) {
	t.Helper()
	r := mustRun(t, nil, runtimeArgv(root, "state", id)...)
	var st struct {
		Status string `json:"status"`
		Pid    int    `json:"pid"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &st); err != nil {
		t.Fatalf("%s state: %v\n%s", runtimeName(), err, r.Stdout)
	}
	return st.Status, st.Pid
}

// runtimeArgv is the runtime's command line with root as --root, if set.
func runtimeArgv(root string, args ...string) []string {
	argv := []string{runtimePath}
	if root != "" {
		argv = append(argv, "--root", root)
	}
	return append(argv, args...)
}
