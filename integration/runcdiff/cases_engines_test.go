package runcdiff

import specs "github.com/opencontainers/runtime-spec/specs-go"

// engineConfigs are the fixtures of configs podman, docker, containerd's
// ctr and its CRI plugin sent (testdata/engines/README.md), each run as
// the engine runs it, with the probe exec'd as the engine execs.
var engineConfigs = []struct {
	name string
	// exec is the process.json fixture of the same engine.
	exec string
}{
	{"podman-default", "podman-exec"}, {"podman-volumes", "podman-exec"}, {"podman-user", "podman-exec"},
	{"podman-readonly", "podman-exec"}, {"podman-capdrop", "podman-exec"}, {"podman-memory", "podman-exec"},
	{"docker-default", "docker-exec"}, {"docker-volumes", "docker-exec"}, {"docker-user", "docker-exec"},
	{"docker-readonly", "docker-exec"}, {"docker-capdrop", "docker-exec"}, {"docker-memory", "docker-exec"},
	{"ctr-default", "ctr-exec"}, {"ctr-volumes", "ctr-exec"}, {"ctr-seccomp", "ctr-exec"},
	{"ctr-readonly", "ctr-exec"}, {"ctr-capdrop", "ctr-exec"},
	{"cri-sandbox", "cri-exec"}, {"cri-container", "cri-exec"},
}

// engineCases run each engine's configs: create and start with the flags
// the engine passes, state, cgroups, the probe as the container's process
// and as an exec, a terminal, and delete.
func engineCases() []scenario {
	var cases []scenario
	for _, e := range engineConfigs {
		cases = append(cases,
			scenario{Name: e.name, Base: "engines/" + e.name, Steps: []step{
				cmd("--log", "$DIR/log", "--log-format", "json", "create", "--bundle", "$BUNDLE", "--pid-file", "$DIR/pid", "$ID"),
				pidFile("$DIR/pid"), state, cgroupFiles(resourceFiles...),
				cmd("--log", "$DIR/log", "--log-format", "json", "start", "$ID"), state,
				engineProcess(e.exec, "$DIR/process.json", probeArgs()...),
				cmd("--log", "$DIR/log", "--log-format", "json", "exec", "--process", "$DIR/process.json", "$ID").out(probed),
				mounts(),
				engineProcess(e.exec, "$DIR/sleep.json", "/bin/sleep", "1000"),
				cmd("--log", "$DIR/log", "--log-format", "json", "exec", "--process", "$DIR/sleep.json", "--detach", "--pid-file", "$DIR/epid", "$ID"),
				pidFile("$DIR/epid"),
				cmd("--log", "$DIR/log", "--log-format", "json", "kill", "$ID", "9"), waitStatus("stopped"),
				cmd("--log", "$DIR/log", "--log-format", "json", "delete", "$ID"), gone, logLines("$DIR/log"),
			}},
			scenario{Name: e.name + "-run", Base: "engines/" + e.name, Config: probeProcess, Steps: runProbe},
		)
	}
	for _, e := range []string{"podman", "docker", "ctr"} {
		cases = append(cases, scenario{Name: e + "-terminal", Base: "engines/" + e + "-terminal", Config: func(s *specs.Spec) {
			s.Process.Terminal = true
			s.Process.Args = []string{"sh", "-c", "tty; stty size; echo ready; read line; echo got-$line"}
		}, Steps: []step{
			cmd("create", "--bundle", "$BUNDLE", "--console-socket", "$CONSOLE", "$ID").withConsole(), start,
			consoleInput("ready", "hello\n"), consoleOutput(),
		}})
	}
	for _, e := range []string{"podman", "docker"} {
		cases = append(cases, scenario{Name: e + "-exec-terminal", Base: "engines/" + e + "-default", Steps: []step{
			runDetached, engineProcess(e+"-exec-terminal", "$DIR/process.json", "sh", "-c", "tty; echo in-exec"),
			cmd("exec", "--process", "$DIR/process.json", "--console-socket", "$CONSOLE", "--detach", "--pid-file", "$DIR/epid", "$ID").withConsole(),
			consoleOutput(),
		}})
	}
	return append(cases, scenario{Name: "cri-bad-sysctl", Base: "engines/cri-bad-sysctl", Steps: []step{
		cmd("--log", "$DIR/log", "--log-format", "json", "create", "--bundle", "$BUNDLE", "--pid-file", "$DIR/pid", "$ID").fails("no_such_knob"),
		logLines("$DIR/log"), gone,
	}})
}
