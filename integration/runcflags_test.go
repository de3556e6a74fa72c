package integration

import (
	"testing"
)

// TestGlobalRootlessAndCriu passes runc's global --rootless and --criu as
// engines write them (containerd's go-runc: --rootless=true|false,
// --criu PATH). berth runs containers as root and never ignores a cgroup
// error, which is what false and auto mean; true would run the container
// without the limits its config asks for, so it is refused at create and
// run, before anything is made, with the reason. A value runc refuses
// (strconv.ParseBool's) is refused too. --criu names the binary for
// checkpoint and restore, which berth does not do: taken, used by nothing.
func TestGlobalRootlessAndCriu(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "true")
	for _, global := range [][]string{
		{"--rootless", "false"}, {"--rootless=auto"}, {"--rootless", "0"}, {"--rootless=FALSE"},
		{"--criu", "/usr/sbin/criu"}, {"--criu=/no/such/criu"},
	} {
		b.MustRun(append(global, "run", "--bundle", bun.Dir, "kb-flags")...)
		b.MustRun(append(global, "list", "-q")...)
	}
	// runc reads --rootless only to create; other commands take any value.
	b.MustRun("--rootless", "true", "list", "-q")
	for _, create := range []string{"create", "run"} {
		b.MustFail([]string{"--rootless true", "ignore cgroup permission errors", "without the limits"},
			"--rootless", "true", create, "--bundle", bun.Dir, "kb-flags")
		b.MustFail([]string{`--rootless "maybe"`, "true, false or auto"},
			"--rootless", "maybe", create, "--bundle", bun.Dir, "kb-flags")
	}
}
