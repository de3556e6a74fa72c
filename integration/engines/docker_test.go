package engines

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// startDocker starts a private dockerd with everything under dir, no
// network set-up on the host, containers under cgroupParent, and berth
// named in daemon.json's runtimes as docs/integration.md shows. It stops
// dockerd by pid when the test ends and returns the engine.
func startDocker(t *testing.T, dir, cgroupParent string) *cliEngine {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	daemonJSON := filepath.Join(dir, "daemon.json")
	// deprecated-key-path: else dockerd writes its identity key to
	// /etc/docker.
	conf := fmt.Sprintf(`{"runtimes": {%q: {"path": %q}}, "deprecated-key-path": %q}`,
		runtimeName(), runtimePath, filepath.Join(dir, "key.json"))
	if err := os.WriteFile(daemonJSON, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "docker.sock")
	execRoot := filepath.Join(dir, "exec")
	d := start(t, nil, "", "dockerd",
		"--config-file", daemonJSON,
		"--data-root", filepath.Join(dir, "root"),
		"--exec-root", execRoot,
		"--pidfile", filepath.Join(dir, "docker.pid"),
		"--host", "unix://"+socket,
		"--iptables=false", "--ip6tables=false", "--bridge=none", "--ip-forward=false", "--ip-masq=false",
		"--userland-proxy=false",
		"--exec-opt", "native.cgroupdriver=cgroupfs",
		"--cgroup-parent", cgroupParent,
	)
	e := &cliEngine{
		name: "docker",
		argv: []string{dockerCLI, "--host", "unix://" + socket},
		// The client's own configuration stays here too.
		env:      []string{"DOCKER_CONFIG=" + filepath.Join(dir, "client")},
		runFlags: []string{"--runtime", runtimeName()},
		// dockerd gives the runc shim one root for every runtime.
		runtimeRoot: filepath.Join(execRoot, "runtime-runc", "moby"),
	}
	t.Cleanup(func() {
		stopDaemon(t, d)
		if t.Failed() {
			t.Logf("dockerd's errors:\n%s", errorLines(d.wait(t).Stderr))
		}
		// dockerd leaves a mount of its data root behind.
		if m := unmountUnder(dir); len(m) > 0 {
			t.Logf("unmounted what dockerd left: %v", m)
		}
	})
	waitFor(t, "dockerd to serve", time.Minute, func() bool {
		select {
		case <-d.done:
			t.Fatalf("dockerd exited: %v", d.wait(t))
		default:
		}
		return run(t, e.env, "", e.cmd("version")...).Code == 0
	})
	return e
}

func TestDocker(t *testing.T) {
	imgs, err := buildImages()
	if err != nil {
		t.Fatal(err)
	}
	cg := newCgroupParent(t)
	dir := filepath.Join(workDir, "docker")
	t.Cleanup(func() { checkEngineGone(t, dir) })
	e := startDocker(t, dir, cg.Path)
	e.must(t, "load", "--input", imgs.Docker)
	runChecks(t, e)
}
