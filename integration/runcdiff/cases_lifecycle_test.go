package runcdiff

import specs "github.com/opencontainers/runtime-spec/specs-go"

// Steps most cases are made of.
var (
	create      = cmd("create", "--bundle", "$BUNDLE", "$ID")
	start       = cmd("start", "$ID")
	runDetached = cmd("run", "--detach", "--bundle", "$BUNDLE", "$ID")
	state       = cmd("state", "$ID").out(stateJSON)
	deleteForce = cmd("delete", "--force", "$ID")
	gone        = cmd("state", "$ID").fails("does not exist")
	// ready waits for the container's process to touch /dev/shm/ready.
	ready = cmd("exec", "$ID", "sh", "-c", "while [ ! -e /dev/shm/ready ]; do sleep 0.02; done")
)

// withoutNamespace returns nss without the namespace of type typ.
func withoutNamespace(nss []specs.LinuxNamespace, typ specs.LinuxNamespaceType) []specs.LinuxNamespace {
	var out []specs.LinuxNamespace
	for _, ns := range nss {
		if ns.Type != typ {
			out = append(out, ns)
		}
	}
	return out
}

// args sets the container's process.
func args(a ...string) func(s *specs.Spec) {
	return func(s *specs.Spec) { s.Process.Args = a }
}

// orphan is a container without a pid namespace whose process says who
// adopted a process it orphaned, and whether it was reaped once it ended.
func orphan(s *specs.Spec) {
	s.Linux.Namespaces = withoutNamespace(s.Linux.Namespaces, specs.PIDNamespace)
	s.Process.Args = []string{"sh", "-c", `sh -c 'sleep 0.5 & echo $!' > /dev/shm/orphan
o=$(cat /dev/shm/orphan)
sleep 0.2
adopter=$(sed -n 's/^PPid:[[:space:]]*//p' /proc/$o/status)
if [ "$adopter" = "$PPID" ]; then echo adopted by the runtime; else echo adopted elsewhere; fi
sleep 0.8
if [ -e /proc/$o ]; then echo "left: $(sed -n 's/^State:[[:space:]]*//p' /proc/$o/status)"; else echo reaped; fi`}
}

// lifecycleCases drive a container through create, start, run, state,
// kill and delete, with each of their flags before and after the id.
var lifecycleCases = []scenario{
	{Name: "create-start-delete", Steps: []step{
		create, state, cgroupFiles(resourceFiles...),
		start, state,
		cmd("kill", "$ID", "KILL"), waitStatus("stopped"), state,
		cmd("delete", "$ID"), gone,
	}},
	{Name: "create-in-bundle", Steps: []step{
		cmd("create", "$ID").in("$BUNDLE"), state,
	}},
	{Name: "create-no-bundle", Steps: []step{
		cmd("create", "$ID").fails("config.json"),
	}},
	{Name: "create-bundle-short", Steps: []step{
		cmd("create", "-b", "$BUNDLE", "$ID"), state,
	}},
	{Name: "create-bundle-after-id", Steps: []step{
		cmd("create", "$ID", "--bundle", "$BUNDLE"), state,
	}},
	{Name: "create-pid-file", Steps: []step{
		cmd("create", "--bundle", "$BUNDLE", "--pid-file", "$DIR/pid", "$ID"), pidFile("$DIR/pid"),
	}},
	{Name: "create-pid-file-relative", Steps: []step{
		cmd("create", "--bundle", "$BUNDLE", "--pid-file", "pid", "$ID"), pidFile("$DIR/pid"),
	}},
	{Name: "create-pid-file-after-id", Steps: []step{
		cmd("create", "--bundle", "$BUNDLE", "$ID", "--pid-file", "$DIR/pid"), pidFile("$DIR/pid"),
	}},
	{Name: "create-duplicate-id", Steps: []step{
		create, create.fails("already exists"), state,
	}},
	// The session keyring is the container's own, _ses.ID, unless
	// --no-new-keyring keeps the caller's; berth's exec joins one of its
	// own of that name, runc's init's.
	{Name: "create-new-keyring", Config: func(s *specs.Spec) { s.Linux.MaskedPaths = nil }, Steps: []step{
		create, start, cmd("exec", "$ID", "sh", "-c", "grep -c ' _ses.$ID: ' /proc/keys || true").deliberate(compatExecKeyring),
	}},
	{Name: "create-no-new-keyring", Config: func(s *specs.Spec) { s.Linux.MaskedPaths = nil }, Steps: []step{
		cmd("create", "--bundle", "$BUNDLE", "--no-new-keyring", "$ID"), start,
		cmd("exec", "$ID", "sh", "-c", "grep -c ' _ses.$ID: ' /proc/keys || true"),
	}},
	{Name: "create-preserve-fds", Config: args("sh", "-c", "cat <&3; cat <&4"), Steps: []step{
		cmd("run", "--bundle", "$BUNDLE", "--preserve-fds", "2", "$ID").fds("three\n", "four\n"),
	}},
	{Name: "start-twice", Steps: []step{
		create, start, start.fails("running"),
	}},
	{Name: "start-missing", Steps: []step{
		start.fails("does not exist"),
	}},
	{Name: "start-stopped", Config: args("true"), Steps: []step{
		create, start, waitStatus("stopped"), start.fails("stopped"),
	}},
	{Name: "start-no-id", Steps: []step{
		cmd("start").fails(),
	}},
	{Name: "run-foreground", Config: probeProcess, Steps: []step{
		cmd("run", "--bundle", "$BUNDLE", "$ID").out(probed), mounts(), gone,
	}},
	{Name: "run-exit-status", Config: args("sh", "-c", "echo out; exit 3"), Steps: []step{
		cmd("run", "--bundle", "$BUNDLE", "$ID").fails(), gone,
	}},
	// Not the init of a pid namespace, which a signal without a handler
	// does not reach from inside.
	{Name: "run-killed-status", Config: func(s *specs.Spec) {
		s.Process.Args = []string{"sh", "-c", "kill -9 $$"}
		s.Linux.Namespaces = withoutNamespace(s.Linux.Namespaces, specs.PIDNamespace)
	}, Steps: []step{
		cmd("run", "--bundle", "$BUNDLE", "$ID").fails(),
	}},
	{Name: "run-stdin", Config: args("sh", "-c", "read line; echo got-$line"), Steps: []step{
		cmd("run", "--bundle", "$BUNDLE", "$ID").stdin("hello\n"),
	}},
	{Name: "run-detach", Steps: []step{
		runDetached, state, deleteForce, gone,
	}},
	{Name: "run-detach-short", Steps: []step{
		cmd("run", "-d", "-b", "$BUNDLE", "$ID"), state,
	}},
	{Name: "run-detach-after-id", Config: args("sleep", "2"), Steps: []step{
		cmd("run", "--bundle", "$BUNDLE", "$ID", "--detach"), state,
	}},
	{Name: "run-no-subreaper", Config: args("sh", "-c", "echo ran; exit 3"), Steps: []step{
		cmd("run", "--no-subreaper", "--bundle", "$BUNDLE", "$ID").fails(),
		cmd("run", "--bundle", "$BUNDLE", "$ID", "--no-subreaper").fails(), gone,
	}},
	// Without a pid namespace a process the container orphans goes to the
	// runtime, its child subreaper, which reaps it; with --no-subreaper,
	// to whoever reaps for the runtime's caller.
	{Name: "run-orphan", Config: orphan, Steps: []step{
		cmd("run", "--bundle", "$BUNDLE", "$ID"),
	}},
	{Name: "run-orphan-no-subreaper", Config: orphan, Steps: []step{
		cmd("run", "--no-subreaper", "--bundle", "$BUNDLE", "$ID"),
	}},
	{Name: "run-pid-file", Steps: []step{
		cmd("run", "--detach", "--bundle", "$BUNDLE", "--pid-file", "$DIR/pid", "$ID"), pidFile("$DIR/pid"),
	}},
	{Name: "run-keep", Config: args("true"), Steps: []step{
		cmd("run", "--keep", "--bundle", "$BUNDLE", "$ID"), state, cmd("delete", "$ID"), gone,
	}},
	{Name: "run-keep-after-id", Config: args("true"), Steps: []step{
		cmd("run", "--bundle", "$BUNDLE", "$ID", "--keep"), state,
	}},
	{Name: "run-missing-program", Config: args("/no/such/program"), Steps: []step{
		cmd("run", "--bundle", "$BUNDLE", "$ID").fails("no such file"), gone,
	}},
	{Name: "create-missing-program", Config: args("/no/such/program"), Steps: []step{
		create.fails("no such file"), gone,
	}},
	{Name: "create-not-executable", Config: args("/etc/passwd"), Steps: []step{
		create.fails("permission denied"), gone,
	}},
	{Name: "create-directory-program", Config: args("/tmp"), Steps: []step{
		create.fails("permission denied"), gone,
	}},
	{Name: "state-created-running-stopped", Config: args("sh", "-c", "sleep 0.3"), Steps: []step{
		create, state, start, state, waitStatus("stopped"), state,
	}},
	{Name: "state-missing", Steps: []step{
		cmd("state", "$ID").fails("does not exist"),
	}},
	{Name: "state-no-id", Steps: []step{
		cmd("state").fails(),
	}},
	{Name: "state-annotations", Config: func(s *specs.Spec) {
		s.Annotations = map[string]string{"org.example.color": "blue", "runcdiff": "yes"}
	}, Steps: []step{
		create, state,
	}},
	{Name: "list", Bundle2: true, Steps: []step{
		create, cmd("run", "--detach", "--bundle", "$BUNDLE2", "$ID2"),
		cmd("list").out(listTable),
		cmd("list", "--format", "table").out(listTable),
		cmd("list", "-f", "json").out(listJSON),
		cmd("list", "--format", "json").out(listJSON),
		cmd("list", "-q"),
		cmd("list", "--quiet"),
	}},
	{Name: "list-empty", Steps: []step{
		cmd("list").out(listTable),
		cmd("list", "-f", "json"),
		cmd("list", "-q"),
	}},
	{Name: "list-bad-format", Steps: []step{
		cmd("list", "-f", "yaml").fails(),
	}},
	{Name: "kill-default-signal", Config: args("sh", "-c", "trap 'exit 0' TERM; touch /dev/shm/ready; while :; do sleep 0.05; done"), Steps: []step{
		runDetached, ready, cmd("kill", "$ID"), waitStatus("stopped"),
	}},
	// A distinct signal each: a signal sent while the same one is
	// pending is lost.
	{Name: "kill-signal-names", Config: args("sh", "-c", "for s in USR1 USR2 HUP INT QUIT; do trap \"echo $s >> /dev/shm/got\" $s; done; touch /dev/shm/ready; while :; do sleep 0.05; done"), Steps: []step{
		runDetached, ready,
		cmd("kill", "$ID", "USR1"), cmd("kill", "$ID", "SIGUSR2"), cmd("kill", "$ID", "1"),
		cmd("kill", "$ID", "int"), cmd("kill", "$ID", "sigquit"),
		cmd("exec", "$ID", "sh", "-c", "while [ $(cat /dev/shm/got 2>/dev/null | wc -l) -lt 5 ]; do sleep 0.02; done; sort /dev/shm/got"),
	}},
	{Name: "kill-bad-signal", Steps: []step{
		runDetached,
		cmd("kill", "$ID", "NOPE").fails(),
		cmd("kill", "$ID", "SIGNOPE").fails(),
		cmd("kill", "$ID", "99").fails(),
		cmd("kill", "$ID", "-1").fails(),
		state,
	}},
	{Name: "kill-zero", Steps: []step{
		runDetached, cmd("kill", "$ID", "0"), state,
	}},
	{Name: "kill-all", Config: args("sh", "-c", "sleep 1000 & sleep 1000 & wait"), Steps: []step{
		runDetached, cmd("exec", "$ID", "sh", "-c", "sleep 0.2"),
		cmd("kill", "--all", "$ID", "KILL"), waitStatus("stopped"),
	}},
	{Name: "kill-all-short", Steps: []step{
		runDetached, cmd("kill", "-a", "$ID", "9"), waitStatus("stopped"),
	}},
	// runc moves "-a" and the word after it before the id: KILL
	// becomes the id.
	{Name: "kill-all-after-id", Steps: []step{
		runDetached, cmd("kill", "$ID", "-a", "KILL").deliberate(compatBoolFlagAfterID),
	}},
	// Without a pid namespace the other processes outlive init: only
	// --all reaches them.
	{Name: "kill-all-last", Config: func(s *specs.Spec) {
		s.Process.Args = []string{"sh", "-c", "sleep 1000 & sleep 1000"}
		s.Linux.Namespaces = withoutNamespace(s.Linux.Namespaces, specs.PIDNamespace)
	}, Steps: []step{
		runDetached, cmd("kill", "$ID", "KILL", "--all"), waitStatus("stopped"),
		cmd("ps", "--format", "json", "$ID").out(pidList),
	}},
	{Name: "kill-created", Steps: []step{
		create, cmd("kill", "$ID", "KILL"), waitStatus("stopped"),
	}},
	{Name: "kill-stopped", Config: args("true"), Steps: []step{
		runDetached, waitStatus("stopped"), cmd("kill", "$ID", "KILL").fails("not running|stopped"),
	}},
	{Name: "kill-missing", Steps: []step{
		cmd("kill", "$ID", "KILL").fails("does not exist"),
	}},
	{Name: "delete-running", Steps: []step{
		runDetached, cmd("delete", "$ID").fails("running"), state,
	}},
	{Name: "delete-created", Steps: []step{
		create, cmd("delete", "$ID"), gone,
	}},
	{Name: "delete-force-short", Steps: []step{
		runDetached, cmd("delete", "-f", "$ID"), gone,
	}},
	{Name: "delete-force-after-id", Steps: []step{
		runDetached, cmd("delete", "$ID", "--force"), gone,
	}},
	{Name: "delete-missing", Steps: []step{
		cmd("delete", "$ID").fails("does not exist"),
		cmd("delete", "--force", "$ID"),
	}},
}
