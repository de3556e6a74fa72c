package runcdiff

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// badInputCases give both runtimes what they must refuse, and compare the
// exit status, the cause, the step that fails and what is left.
var badInputCases = []scenario{
	{Name: "config-malformed", Raw: `{"ociVersion": "1.0.2", "process": {`, Steps: []step{
		create.fails("json|eof"), gone,
	}},
	{Name: "config-not-object", Raw: `[]`, Steps: []step{create.fails("json|eof"), gone}},
	{Name: "config-empty", Raw: ` `, Steps: []step{create.fails("json|eof"), gone}},
	{Name: "config-no-process", Raw: `{"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "linux": {"cgroupsPath": "$CGROUP"}}`, Steps: []step{
		create.fails("process"), gone,
	}},
	{Name: "config-no-args", Config: func(s *specs.Spec) { s.Process.Args = nil }, Steps: []step{
		create.fails("args"), gone,
	}},
	{Name: "config-no-root", Config: func(s *specs.Spec) { s.Root = nil }, Steps: []step{
		create.fails("root"), gone,
	}},
	{Name: "config-unknown-fields", Raw: `{"ociVersion": "1.0.2", "process": {"args": ["/bin/echo", "ran"], "cwd": "/", "user": {"uid": 0, "gid": 0}, "futureField": 1},
		"root": {"path": "rootfs"}, "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
		"linux": {"cgroupsPath": "$CGROUP", "namespaces": [{"type": "mount"}, {"type": "pid"}]}, "futureTop": {"x": 1}}`, Steps: []step{
		cmd("run", "--bundle", "$BUNDLE", "$ID"),
	}},
	{Name: "config-bad-version", Config: func(s *specs.Spec) { s.Version = "0.1.0" }, Steps: []step{
		create.deliberate(compatOCIVersion),
	}},
	{Name: "config-no-version", Config: func(s *specs.Spec) { s.Version = "" }, Steps: []step{
		create.deliberate(compatOCIVersion),
	}},
	{Name: "config-missing", Steps: []step{
		cmd("create", "--bundle", "$DIR", "$ID").fails("config.json"), gone,
	}},
	{Name: "bundle-missing", Steps: []step{
		cmd("create", "--bundle", "$DIR/none", "$ID").fails("no such file"), gone,
	}},
	{Name: "rootfs-missing", Config: func(s *specs.Spec) { s.Root.Path = "nosuch" }, Steps: []step{
		create.fails("no such file|nosuch"), gone,
	}},
	{Name: "rootfs-file", Config: func(s *specs.Spec) { s.Root.Path = "rootfs/etc/passwd" }, Steps: []step{
		create.fails("not a directory"), gone,
	}},
	{Name: "rootfs-absolute", Config: withProbe(func(s *specs.Spec) { s.Root.Path = "$BUNDLE/rootfs" }), Steps: runProbe},
	{Name: "rootfs-symlink", Rootfs: func(t *testing.T, rootfs string) {
		if err := os.Symlink("rootfs", filepath.Join(filepath.Dir(rootfs), "link")); err != nil {
			t.Fatal(err)
		}
	}, Config: withProbe(func(s *specs.Spec) { s.Root.Path = "link" }), Steps: []step{
		cmd("run", "--bundle", "$BUNDLE", "$ID").fails("symlink"),
	}},
	{Name: "id-dotdot", Steps: []step{
		cmd("create", "--bundle", "$BUNDLE", "../x").fails("invalid|id"),
		cmd("state", "../x").fails("invalid|id"),
		cmd("delete", "--force", "../x").fails("invalid|id"),
	}},
	{Name: "id-slash", Steps: []step{cmd("create", "--bundle", "$BUNDLE", "a/b").fails("invalid|id")}},
	{Name: "id-empty", Steps: []step{cmd("create", "--bundle", "$BUNDLE", "").fails()}},
	{Name: "id-space", Steps: []step{cmd("create", "--bundle", "$BUNDLE", "a b").fails("invalid|id")}},
	{Name: "id-dot", Steps: []step{cmd("create", "--bundle", "$BUNDLE", ".").fails("invalid|id")}},
	{Name: "id-long", Steps: []step{cmd("create", "--bundle", "$BUNDLE", strings.Repeat("x", 1025)).fails()}},
	{Name: "id-leading-dot", Steps: []step{
		cmd("create", "--bundle", "$BUNDLE", ".$ID"), cmd("state", ".$ID").out(stateJSON), cmd("delete", "--force", ".$ID"),
	}},
	{Name: "id-extra-args", Steps: []step{
		cmd("create", "--bundle", "$BUNDLE", "$ID", "extra").fails(), gone,
		cmd("state", "$ID", "extra").fails(),
	}},
	{Name: "root-is-file", Steps: []step{
		hostFile("$DIR/rootfile", ""),
		cmd("--root", "$DIR/rootfile", "list").fails(),
	}},
	{Name: "root-missing", Steps: []step{
		cmd("--root", "$DIR/newroot", "list").out(listTable),
		cmd("--root", "$DIR/newroot", "state", "$ID").fails("does not exist"),
	}},
}
