package runcdiff

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// issue14Cases are the set-up defects issue 14 found by hand, each fixed
// since: runc's behaviour is what berth must show.
var issue14Cases = []scenario{
	{Name: "terminal-hook-fails", Config: func(s *specs.Spec) {
		s.Process.Terminal = true
		s.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{Path: "/bin/false"}}}
	}, Steps: []step{
		cmd("create", "--bundle", "$BUNDLE", "--console-socket", "$CONSOLE", "$ID").fails(), gone,
	}},
	{Name: "cwd-only-root-enters", Rootfs: func(t *testing.T, rootfs string) {
		if err := os.Chmod(filepath.Join(rootfs, "root"), 0o700); err != nil {
			t.Fatal(err)
		}
	}, Config: func(s *specs.Spec) {
		s.Process.User = specs.User{UID: 1000, GID: 1000}
		s.Process.Cwd = "/root"
		s.Process.Args = []string{"sh", "-c", "pwd; ls . || echo cannot read"}
	}, Steps: []step{cmd("run", "--bundle", "$BUNDLE", "$ID")}},
	{Name: "exec-cwd-only-root-enters", Rootfs: func(t *testing.T, rootfs string) {
		if err := os.Chmod(filepath.Join(rootfs, "root"), 0o700); err != nil {
			t.Fatal(err)
		}
	}, Steps: []step{
		runDetached, cmd("exec", "--user", "1000", "--cwd", "/root", "$ID", "sh", "-c", "pwd; ls . || echo cannot read"),
	}},
	{Name: "dev-readonly-tmpfs", Config: withProbe(func(s *specs.Spec) {
		for i, m := range s.Mounts {
			if m.Destination == "/dev" {
				s.Mounts[i].Options = append(s.Mounts[i].Options, "ro")
			}
		}
	}), Steps: runProbe},
	{Name: "rlimit-too-high", Config: func(s *specs.Spec) {
		s.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1 << 40, Hard: 1 << 40}}
	}, Steps: []step{create.fails("rlimit|operation not permitted"), gone}},
	{Name: "userns-bind-source", Rootfs: func(t *testing.T, rootfs string) {
		private := filepath.Join(filepath.Dir(rootfs), "private", "vol")
		if err := os.MkdirAll(private, 0o755); err != nil {
			t.Fatal(err)
		}
		// The container's root may not make the mount point.
		if err := os.MkdirAll(filepath.Join(rootfs, "mnt", "vol"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Dir(private), 0o700); err != nil {
			t.Fatal(err)
		}
	}, Config: withProbe(func(s *specs.Spec) {
		userNamespace(s)
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/mnt/vol", Type: "bind", Source: "$BUNDLE/private/vol", Options: []string{"bind"}})
	}), Steps: []step{
		cmd("run", "--bundle", "$BUNDLE", "$ID").out(probed), mounts(),
	}},
}
