package runcdiff

import (
	"time"

	"github.com/berthrt/berth/integration/internal/testhost"
)

// hostFile writes a file on the host ($DIR/…) for a later step.
func hostFile(path, content string) step {
	return observe("write "+path, func(s *side) (string, error) {
		writeFile(s.t, s.expand.Replace(path), s.expand.Replace(content))
		return "", nil
	})
}

// processJSON is a process.json that runs args as root in /.
const processJSON = `{"args": ["sh", "-c", "id; pwd; echo $FROM"], "env": ["PATH=/bin", "FROM=process.json"], "cwd": "/tmp", "user": {"uid": 0, "gid": 0}}`

// execCases run processes in a running container, with each of exec's
// flags; runc 1.1.5 does not move exec's flags after the id, so there both
// take them as the command.
var execCases = []scenario{
	{Name: "exec-probe", Steps: []step{
		runDetached, cmd(append([]string{"exec", "$ID"}, probeArgs()...)...).out(probed), mounts(),
	}},
	{Name: "exec-exit-status", Steps: []step{
		runDetached, cmd("exec", "$ID", "sh", "-c", "echo out; echo err >&2; exit 7").fails(),
	}},
	{Name: "exec-missing-program", Steps: []step{
		runDetached, cmd("exec", "$ID", "/no/such/program").fails("no such file"),
	}},
	{Name: "exec-no-command", Steps: []step{
		runDetached, cmd("exec", "$ID").fails(),
	}},
	{Name: "exec-missing-container", Steps: []step{
		cmd("exec", "$ID", "true").fails("does not exist"),
	}},
	{Name: "exec-stopped", Config: args("true"), Steps: []step{
		runDetached, waitStatus("stopped"), cmd("exec", "$ID", "true").fails("stopped"),
	}},
	{Name: "exec-created", Steps: []step{
		create, cmd("exec", "$ID", "sh", "-c", "echo in created"),
	}},
	{Name: "exec-stdin", Steps: []step{
		runDetached, cmd("exec", "$ID", "sh", "-c", "read l; echo got-$l").stdin("hi\n"),
	}},
	{Name: "exec-cwd", Steps: []step{
		runDetached, cmd("exec", "--cwd", "/tmp", "$ID", "pwd"),
		cmd("exec", "--cwd", "/new/dir", "$ID", "pwd").fails("no such file"),
	}},
	{Name: "exec-cwd-after-id", Steps: []step{
		runDetached, cmd("exec", "$ID", "--cwd", "/tmp", "pwd").fails("--cwd"),
	}},
	{Name: "exec-env", Steps: []step{
		runDetached, cmd("exec", "--env", "FOO=bar", "--env", "PATH=/bin", "--env", "EMPTY=", "$ID", "sh", "-c", "env | sort"),
		cmd("exec", "-e", "FOO=short", "$ID", "sh", "-c", "env | sort"),
	}},
	{Name: "exec-user", Steps: []step{
		runDetached,
		cmd("exec", "--user", "65534:65534", "$ID", "id"),
		cmd("exec", "-u", "1000", "$ID", "id"),
		cmd("exec", "-u", "1000:1000", "-g", "10", "-g", "20", "$ID", "id"),
		cmd("exec", "-u", "1000:1000", "--additional-gids", "10", "$ID", "id"),
		cmd(append([]string{"exec", "-u", "1000", "$ID"}, probeArgs()...)...).out(probed),
	}},
	{Name: "exec-user-name", Steps: []step{
		runDetached, cmd("exec", "--user", "nobody", "$ID", "id").deliberate(compatExecUserName),
	}},
	{Name: "exec-user-bad", Steps: []step{
		runDetached, cmd("exec", "--user", "-5", "$ID", "id").fails(),
	}},
	{Name: "exec-cap", Steps: []step{
		runDetached,
		cmd(append([]string{"exec", "--cap", "CAP_SYS_ADMIN", "--cap", "CAP_NET_ADMIN", "$ID"}, probeArgs()...)...).out(probed),
		cmd(append([]string{"exec", "-u", "1000", "--cap", "CAP_SYS_ADMIN", "$ID"}, probeArgs()...)...).out(probed),
	}},
	{Name: "exec-cap-unknown", Steps: []step{
		runDetached, cmd("exec", "--cap", "CAP_NOPE", "$ID", "true").deliberate(compatUnknownCap),
	}},
	{Name: "exec-no-new-privs", Steps: []step{
		runDetached, cmd("exec", "--no-new-privs", "$ID", "grep", "NoNewPrivs", "/proc/self/status"),
	}},
	{Name: "exec-process", Steps: []step{
		runDetached, hostFile("$DIR/process.json", processJSON),
		cmd("exec", "--process", "$DIR/process.json", "$ID"),
		cmd("exec", "-p", "$DIR/process.json", "$ID"),
		// The command line's process flags do not count.
		cmd("exec", "--process", "$DIR/process.json", "--cwd", "/", "-e", "FROM=flag", "$ID"),
	}},
	{Name: "exec-process-bad", Steps: []step{
		runDetached, hostFile("$DIR/process.json", `{"args": ["true"`),
		cmd("exec", "--process", "$DIR/process.json", "$ID").fails(),
		cmd("exec", "--process", "$DIR/none.json", "$ID").fails("no such file"),
	}},
	{Name: "exec-detach-pid-file", Steps: []step{
		runDetached,
		cmd("exec", "--detach", "--pid-file", "$DIR/epid", "$ID", "sleep", "1000"), pidFile("$DIR/epid"),
		cmd("exec", "-d", "$ID", "sleep", "1000"),
		cmd("ps", "--format", "json", "$ID").out(pidList),
	}},
	{Name: "exec-tty", Steps: []step{
		runDetached,
		cmd("exec", "--tty", "--detach", "--console-socket", "$CONSOLE", "$ID", "sh", "-c", "tty; stty size; echo hi").withConsole(),
		consoleOutput(),
	}},
	{Name: "exec-tty-no-socket", Steps: []step{
		runDetached, cmd("exec", "-t", "-d", "$ID", "true").fails("console-socket|console socket"),
	}},
	{Name: "exec-preserve-fds", Steps: []step{
		runDetached, cmd("exec", "--preserve-fds", "1", "$ID", "sh", "-c", "cat <&3; ls /proc/self/fd").fds("three\n"),
	}},
	{Name: "exec-paused", Steps: []step{
		runDetached, cmd("pause", "$ID"),
		cmd("exec", "$ID", "true").fails("paused"),
		cmd("resume", "$ID"), cmd("exec", "$ID", "true"),
	}},
	{Name: "exec-ignore-paused", Steps: []step{
		runDetached, cmd("pause", "$ID"),
		cmd("exec", "--ignore-paused", "-d", "$ID", "sh", "-c", "echo thawed > /dev/shm/thawed").timeout(time.Second).deliberate(compatIgnorePaused),
		cmd("resume", "$ID"),
		cmd("exec", "$ID", "sh", "-c", "while [ ! -e /dev/shm/thawed ]; do sleep 0.02; done; cat /dev/shm/thawed"),
	}},
	{Name: "exec-apparmor", Steps: []step{
		runDetached, cmd("exec", "--apparmor", "unconfined", "$ID", "true").fails("apparmor"),
	}},
	{Name: "exec-process-label", Steps: []step{
		runDetached, cmd("exec", "--process-label", "system_u:system_r:container_t:s0", "$ID", "true").fails("selinux"),
	}},
	{Name: "exec-cgroup", Steps: []step{
		runDetached, subCgroup("sub"),
		cmd("exec", "--cgroup", "sub", "$ID", "sh", "-c", "grep -E ':(pids|memory):' /proc/self/cgroup"),
		cmd("exec", "--cgroup", "pids:sub", "$ID", "sh", "-c", "grep -E ':(pids|memory):' /proc/self/cgroup"),
		cmd("exec", "--cgroup", "nosuch", "$ID", "true").fails(),
	}},
}

// subCgroup makes a cgroup below the container's in each hierarchy, for
// exec --cgroup.
func subCgroup(name string) step {
	return observe("make sub-cgroup "+name, func(s *side) (string, error) {
		for _, dir := range testhost.OwnCgroupDirs(s.t) {
			if err := mkdirCgroup(dir, s.id, name); err != nil {
				return "", err
			}
		}
		return "", nil
	})
}
