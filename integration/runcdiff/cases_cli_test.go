package runcdiff

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// updateFlags are update's resource flags, each with a value this host
// takes, and the flags it needs with it.
var updateFlags = []struct {
	name  string
	flags []string
}{
	{"memory", []string{"--memory", "200M"}},
	{"memory-reservation", []string{"--memory-reservation", "100M"}},
	{"memory-swap", []string{"--memory", "200M", "--memory-swap", "300M"}},
	{"memory-swap-unlimited", []string{"--memory", "200M", "--memory-swap", "-1"}},
	{"memory-bytes", []string{"--memory", "104857600"}},
	{"cpu-share", []string{"--cpu-share", "512"}},
	{"cpu-period", []string{"--cpu-period", "50000"}},
	{"cpu-quota", []string{"--cpu-quota", "20000"}},
	{"cpu-quota-period", []string{"--cpu-period", "50000", "--cpu-quota", "20000"}},
	{"cpu-rt-period", []string{"--cpu-rt-period", "900000"}},
	{"cpu-rt-runtime", []string{"--cpu-rt-runtime", "1000"}},
	{"cpuset-cpus", []string{"--cpuset-cpus", "0"}},
	{"cpuset-mems", []string{"--cpuset-mems", "0"}},
	{"pids-limit", []string{"--pids-limit", "50"}},
}

// updateCases changes a running container's limits with each of update's
// flags, before and after the id, and with --resources.
func updateCases() []scenario {
	var cases []scenario
	for _, f := range updateFlags {
		cases = append(cases,
			scenario{Name: "update-" + f.name, Steps: []step{
				runDetached, cgroupFiles(resourceFiles...),
				cmd(append(append([]string{"update"}, f.flags...), "$ID")...), cgroupFiles(resourceFiles...),
			}},
			scenario{Name: "update-" + f.name + "-after-id", Steps: []step{
				runDetached,
				cmd(append([]string{"update", "$ID"}, f.flags...)...), cgroupFiles(resourceFiles...),
			}})
	}
	resources := `{"memory": {"limit": 209715200, "reservation": 104857600}, "cpu": {"shares": 256, "quota": 30000, "period": 60000, "cpus": "0", "mems": "0"}, "pids": {"limit": 42}}`
	return append(cases,
		scenario{Name: "update-resources-file", Steps: []step{
			runDetached, hostFile("$DIR/resources.json", resources),
			cmd("update", "--resources", "$DIR/resources.json", "$ID"), cgroupFiles(resourceFiles...),
		}},
		scenario{Name: "update-resources-equals", Steps: []step{
			runDetached, hostFile("$DIR/resources.json", resources),
			cmd("update", "--resources=$DIR/resources.json", "$ID"), cgroupFiles(resourceFiles...),
		}},
		scenario{Name: "update-resources-stdin", Steps: []step{
			runDetached, cmd("update", "-r", "-", "$ID").stdin(resources), cgroupFiles(resourceFiles...),
		}},
		// With --resources, the other flags are ignored.
		scenario{Name: "update-resources-and-flags", Steps: []step{
			runDetached, cmd("update", "-r", "-", "--memory", "300M", "$ID").stdin(resources), cgroupFiles(resourceFiles...),
		}},
		scenario{Name: "update-resources-bad", Steps: []step{
			runDetached,
			cmd("update", "-r", "-", "$ID").stdin(`{"memory": `).fails(),
			cmd("update", "-r", "$DIR/none.json", "$ID").fails("no such file"),
			cgroupFiles(resourceFiles...),
		}},
		scenario{Name: "update-no-flags", Steps: []step{
			runDetached, cmd("update", "$ID"), cgroupFiles(resourceFiles...),
		}},
		scenario{Name: "update-bad-values", Steps: []step{
			runDetached,
			cmd("update", "--memory", "lots", "$ID").fails(),
			cmd("update", "--cpu-period", "-5", "$ID").fails(),
			cmd("update", "--pids-limit", "x", "$ID").fails(),
			cgroupFiles(resourceFiles...),
		}},
		scenario{Name: "update-impossible", Steps: []step{
			runDetached,
			cmd("update", "--cpuset-cpus", "64", "$ID").fails(),
			cmd("update", "--memory", "100M", "--memory-swap", "50M", "$ID").fails(),
			cgroupFiles(resourceFiles...).deliberate(compatUpdateAtomic),
		}},
		scenario{Name: "update-blkio-weight", Steps: []step{
			runDetached, cmd("update", "--blkio-weight", "500", "$ID"), cgroupFiles(resourceFiles...),
		}},
		scenario{Name: "update-rdt", Steps: []step{
			runDetached,
			cmd("update", "--l3-cache-schema", "L3:0=f", "$ID").fails(),
			cmd("update", "--mem-bw-schema", "MB:0=50", "$ID").fails(),
		}},
		scenario{Name: "update-missing", Steps: []step{
			cmd("update", "--memory", "100M", "$ID").fails("does not exist"),
		}},
		scenario{Name: "update-created", Steps: []step{
			create, cmd("update", "--pids-limit", "7", "$ID"), cgroupFiles(resourceFiles...),
		}},
		scenario{Name: "update-stopped", Config: args("true"), Steps: []step{
			runDetached, waitStatus("stopped"), cmd("update", "--pids-limit", "7", "$ID").fails(),
		}},
	)
}

// cliCases cover pause, resume, ps, events, features, spec and the global
// flags.
var cliCases = []scenario{
	{Name: "pause-resume", Steps: []step{
		runDetached, cmd("pause", "$ID"), state, cgroupFiles("freezer.state"),
		cmd("pause", "$ID").fails("paused|not running"),
		cmd("resume", "$ID"), state, cgroupFiles("freezer.state"),
		cmd("resume", "$ID").fails("not paused"),
	}},
	{Name: "pause-created", Steps: []step{
		create, cmd("pause", "$ID"), state, cmd("resume", "$ID"), state,
	}},
	{Name: "pause-stopped", Config: args("true"), Steps: []step{
		runDetached, waitStatus("stopped"), cmd("pause", "$ID").fails("not running|stopped"),
	}},
	{Name: "pause-missing", Steps: []step{
		cmd("pause", "$ID").fails("does not exist"),
		cmd("resume", "$ID").fails("does not exist"),
	}},
	{Name: "delete-force-paused", Steps: []step{
		runDetached, cmd("pause", "$ID"), deleteForce, gone,
	}},
	{Name: "kill-paused", Steps: []step{
		runDetached, cmd("pause", "$ID"), cmd("kill", "$ID", "KILL"), waitStatus("stopped"), state,
	}},
	{Name: "ps", Config: args("sh", "-c", "sleep 1000 & sleep 1000"), Steps: []step{
		runDetached, ready0,
		cmd("ps", "-f", "json", "$ID").out(pidList),
		cmd("ps", "--format", "json", "$ID").out(pidList),
		cmd("ps", "$ID").out(psTable("UID", "CMD")),
		cmd("ps", "-f", "table", "$ID").out(psTable("UID", "CMD")),
		cmd("ps", "$ID", "-o", "pid,user,args").out(psTable("USER", "COMMAND")),
		cmd("ps", "$ID", "-o", "user,args").fails("pid"),
	}},
	{Name: "ps-dash-dash", Steps: []step{
		runDetached, cmd("ps", "$ID", "--", "-o", "pid,comm").out(psTable("COMMAND")).deliberate(compatPsDashDash),
	}},
	{Name: "ps-format-after-id", Steps: []step{
		// runc does not move ps's flags: they are ps's options.
		runDetached, cmd("ps", "$ID", "-f", "json").fails(),
	}},
	{Name: "ps-created", Steps: []step{
		create, cmd("ps", "-f", "json", "$ID").out(pidList),
	}},
	{Name: "ps-missing", Steps: []step{
		cmd("ps", "$ID").fails("does not exist"),
	}},
	// Not pids.current: runc's init, a Go process with threads, may not
	// have exec'd yet when run --detach returns.
	{Name: "events-stats", Steps: []step{
		runDetached, cmd("events", "--stats", "$ID").out(events(".type", ".id")),
	}},
	{Name: "events-stats-after-id", Steps: []step{
		runDetached, cmd("events", "$ID", "--stats").out(events(".type", ".id")),
	}},
	{Name: "events-stats-created", Steps: []step{
		create, cmd("events", "--stats", "$ID").out(events(".type", ".id")),
	}},
	{Name: "events-stopped", Config: args("true"), Steps: []step{
		runDetached, waitStatus("stopped"), cmd("events", "--stats", "$ID").fails(),
	}},
	{Name: "events-missing", Steps: []step{
		cmd("events", "--stats", "$ID").fails("does not exist"),
	}},
	{Name: "events-stream", Steps: []step{
		runDetached, cmd("events", "--interval", "200ms", "$ID").stopAfter(700 * time.Millisecond).out(events(".type", ".id")),
	}},
	{Name: "events-bad-interval", Steps: []step{
		runDetached, cmd("events", "--interval", "0s", "$ID").fails(),
	}},
	{Name: "features", Steps: []step{
		cmd("features").out(features),
	}},
	{Name: "spec", Steps: []step{
		cmd("spec", "--bundle", "$DIR"), cmd("spec", "--bundle", "$DIR").fails("exists"),
		specFile("$DIR/config.json").deliberate(compatSpecDefaults),
	}},
	{Name: "spec-short", Steps: []step{
		cmd("spec", "-b", "$DIR"), specFile("$DIR/config.json").deliberate(compatSpecDefaults),
	}},
	{Name: "spec-in-cwd", Steps: []step{
		cmd("spec"), specFile("$DIR/config.json").deliberate(compatSpecDefaults),
	}},
	{Name: "spec-rootless", Steps: []step{
		cmd("spec", "--rootless", "--bundle", "$DIR"), specFile("$DIR/config.json").deliberate(compatSpecDefaults),
	}},
	{Name: "spec-missing-dir", Steps: []step{
		cmd("spec", "--bundle", "$DIR/none").fails("no such file"),
	}},
	{Name: "log-json", Steps: []step{
		cmd("--log", "$DIR/log", "--log-format", "json", "state", "$ID").fails("does not exist"),
		logLines("$DIR/log"),
	}},
	{Name: "log-text", Steps: []step{
		cmd("--log", "$DIR/log", "state", "$ID").fails("does not exist"),
		logLines("$DIR/log"),
	}},
	{Name: "log-format-json-stderr", Steps: []step{
		cmd("--log-format", "json", "state", "$ID").fails("does not exist"),
	}},
	{Name: "log-format-bad", Steps: []step{
		cmd("--log-format", "yaml", "list").fails(),
	}},
	{Name: "debug", Steps: []step{
		cmd("--debug", "run", "--detach", "--bundle", "$BUNDLE", "$ID"), debugLines(),
		cmd("--debug", "exec", "$ID", "true"), debugLines(),
		cmd("--debug", "delete", "--force", "$ID"), debugLines().deliberate(compatDebug),
	}},
	{Name: "global-rootless-criu", Config: args("true"), Steps: []step{
		cmd("--rootless", "false", "list", "-q"),
		cmd("--rootless=auto", "run", "--bundle", "$BUNDLE", "$ID"),
		cmd("--rootless", "0", "run", "--bundle", "$BUNDLE", "$ID"),
		cmd("--rootless", "bogus", "run", "--bundle", "$BUNDLE", "$ID").fails("bogus"), gone,
		cmd("--criu", "/usr/sbin/criu", "list", "-q"),
		cmd("--criu", "/no/such/criu", "run", "--bundle", "$BUNDLE", "$ID"),
	}},
	{Name: "global-rootless-true", Config: args("true"), Steps: []step{
		cmd("--rootless", "true", "list", "-q"),
		cmd("--rootless", "true", "run", "--bundle", "$BUNDLE", "$ID").deliberate(compatRootlessTrue),
	}},
	{Name: "unknown-command", Steps: []step{
		cmd("nosuch").fails("nosuch"),
	}},
	{Name: "unknown-flag", Steps: []step{
		cmd("create", "--nope", "--bundle", "$BUNDLE", "$ID").fails("nope"),
		gone,
	}},
}

// ready0 waits until the container's init has a child: its first command
// runs.
var ready0 = cmd("exec", "$ID", "sh", "-c", "while [ -z \"$(cat /proc/1/task/1/children)\" ]; do sleep 0.02; done")

// statsAdditions are what berth's stats events carry and runc 1.1.5's do
// not (docs/compat.md): the memory events, OOM kills among them.
var statsAdditions = []string{".data.memory.event_count"}

// events compares events' JSON lines by their shape, with the values of
// the paths in keep: berth's must have every path runc's have, and may
// have statsAdditions besides.
func events(keep ...string) compareFunc {
	return func(b, r observed) error {
		bs, rs, err := shapes(b, r, keep)
		if err != nil {
			return err
		}
		bs = slices.DeleteFunc(bs, func(line string) bool {
			return slices.ContainsFunc(statsAdditions, func(a string) bool { return strings.HasPrefix(line, a) })
		})
		return sameJSON(bs, rs)
	}
}

// featureValues are the fields of `features` whose values are compared.
var featureValues = []string{".ociVersionMin", ".hooks[]", ".mountOptions[]", ".linux.namespaces[]", ".linux.capabilities[]",
	".linux.cgroup.v1", ".linux.cgroup.v2", ".linux.seccomp.enabled", ".linux.seccomp.actions[]", ".linux.seccomp.operators[]",
	".linux.seccomp.archs[]", ".linux.apparmor.enabled", ".linux.selinux.enabled"}

// features compares `features`: berth's must say all that runc's says,
// but for the annotations, which name each runtime, and the seccomp
// architectures, of which berth lists those this host's libseccomp can put
// in a filter and runc all it knows (case seccomp-other-byte-order). It
// may say more: it implements a newer spec than runc 1.1.5.
func features(b, r observed) error {
	bs, rs, err := shapes(b, r, featureValues)
	if err != nil {
		return err
	}
	var missing []string
	for _, line := range rs {
		if !strings.HasPrefix(line, ".annotations.") && !strings.HasPrefix(line, ".linux.seccomp.archs[] = ") && !slices.Contains(bs, line) {
			missing = append(missing, line)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("berth's features lack what runc's say: %s", strings.Join(missing, ", "))
	}
	return nil
}

// specFile compares the config `spec` wrote: its shape, and the values
// that make it runnable (a process, a root, the namespaces and mounts),
// but not those berth chose otherwise (docs/compat.md).
func specFile(path string) step {
	return observe("the config spec wrote", func(s *side) (string, error) {
		data, err := os.ReadFile(s.expand.Replace(path))
		if err != nil {
			return "", err
		}
		lines, err := shapeOf(string(data), []string{".process.args[]", ".process.terminal", ".process.cwd", ".root.path",
			".root.readonly", ".linux.namespaces[].type", ".mounts[].destination", ".process.user.uid"})
		return strings.Join(lines, "\n"), err
	})
}

// logLines compares the log a runtime wrote: each line's level and fields.
func logLines(path string) step {
	return observe("log "+path, func(s *side) (string, error) {
		data, err := os.ReadFile(s.expand.Replace(path))
		if err != nil {
			return "", err
		}
		var out []string
		for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
			if strings.HasPrefix(line, "{") {
				shape, err := shapeOf(line, []string{".level"})
				if err != nil {
					return "", err
				}
				out = append(out, strings.Join(shape, "; "))
				continue
			}
			level := "no level"
			for _, f := range strings.Fields(line) {
				if strings.HasPrefix(f, "level=") {
					level = f
				}
			}
			out = append(out, "text, "+level)
		}
		return strings.Join(out, "\n"), nil
	})
}

// debugLines compares whether the last command logged at debug level.
func debugLines() step {
	return observe("debug logging", func(s *side) (string, error) {
		n := strings.Count(s.last.Stderr, "level=debug")
		if n == 0 {
			return "no debug lines", nil
		}
		return "debug lines", nil
	})
}
