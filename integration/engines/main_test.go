// Package engines drives berth the way its users mostly meet it: through
// podman, containerd (ctr) and docker, each calling it by absolute path in
// place of runc. Every engine runs privately, offline, with its state under
// one temporary directory; the daemons are started and stopped by the tests.
//
// BERTH_ENGINES_RUNTIME=/usr/sbin/runc runs the same checks against runc,
// so a failure can be told apart: a berth bug fails under berth only, an
// environment problem under both.
package engines

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// runtimePath is the absolute path of the runtime the engines call.
var runtimePath string

// workDir holds everything the engines make: their state, the image
// archives, logs. It is short because unix socket paths live in it.
var workDir string

// host is what the host had before the tests, to check and restore after.
var host *hostSnapshot

// image is the busybox image every engine runs, under the same name.
const image = "localhost/busybox:latest"

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	if os.Geteuid() != 0 {
		fmt.Println("engines: SKIP: these tests need root (the engines create namespaces, mounts and cgroups)")
		return 0
	}
	for _, tool := range []string{"podman", "conmon", "slirp4netns", "containerd", "containerd-shim-runc-v2", "ctr", "dockerd", dockerCLI, "tmux", busyboxPath} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Printf("engines: %s is missing: run hack/install-deps.sh engines\n", tool)
			return 1
		}
	}
	var err error
	if workDir, err = os.MkdirTemp("", "be"); err != nil {
		fmt.Println("engines:", err)
		return 1
	}
	host = snapshotHost()
	code := 1
	if runtimePath, err = chooseRuntime(); err != nil {
		fmt.Println("engines:", err)
	} else {
		fmt.Println("engines: runtime under test:", runtimePath)
		code = m.Run()
	}
	unmountUnder(workDir)
	if err := os.RemoveAll(workDir); err != nil {
		fmt.Println("engines: remove the work dir:", err)
		code = 1
	}
	if err := host.restore(); err != nil {
		fmt.Println("engines: leak:", err)
		code = 1
	}
	return code
}

// chooseRuntime returns $BERTH_ENGINES_RUNTIME, or a copy of $BERTH_BINARY
// or of a berth built from this checkout. The copy is the tests' own: a
// rebuild of the checkout's ./berth while a daemon runs must not change
// the runtime under it.
func chooseRuntime() (string, error) {
	if path := os.Getenv("BERTH_ENGINES_RUNTIME"); path != "" {
		abs, err := filepath.Abs(path)
		if err != nil {
			return "", fmt.Errorf("$BERTH_ENGINES_RUNTIME: %w", err)
		}
		if _, err := os.Stat(abs); err != nil {
			return "", fmt.Errorf("$BERTH_ENGINES_RUNTIME: %w", err)
		}
		return abs, nil
	}
	path := filepath.Join(workDir, "berth")
	if bin := os.Getenv("BERTH_BINARY"); bin != "" {
		data, err := os.ReadFile(bin)
		if err != nil {
			return "", fmt.Errorf("$BERTH_BINARY: %w", err)
		}
		return path, os.WriteFile(path, data, 0o755)
	}
	if out, err := exec.Command("go", "build", "-o", path, "../..").CombinedOutput(); err != nil {
		return "", fmt.Errorf("build berth: %v\n%s", err, out)
	}
	return path, nil
}

// runtimeName is the name the engines' configurations give the runtime.
// Docker reserves "runc" for its own.
func runtimeName() string {
	if name := filepath.Base(runtimePath); name != "runc" {
		return name
	}
	return "runc-control"
}
