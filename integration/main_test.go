// Package integration drives the real berth binary against real bundles, as
// root, and checks from inside each container what a user would see. After
// every test it checks that nothing of the test is left: no state dir,
// process, mount or cgroup.
package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// berthBinary is the binary under test: $BERTH_BINARY, or one built from
// this checkout by TestMain.
var berthBinary string

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("integration: SKIP: these tests need root (they create namespaces, mounts and cgroups)")
		os.Exit(0)
	}
	if _, err := os.Stat(busyboxPath); err != nil {
		fmt.Printf("integration: %s is missing: run hack/install-deps.sh\n", busyboxPath)
		os.Exit(1)
	}
	berthBinary = os.Getenv("BERTH_BINARY")
	if berthBinary == "" {
		dir, err := os.MkdirTemp("", "berth-bin")
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		berthBinary = filepath.Join(dir, "berth")
		build := exec.Command("go", "build", "-o", berthBinary, "..")
		build.Stdout, build.Stderr = os.Stdout, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Println("integration: build berth:", err)
			os.Exit(1)
		}
		code := m.Run()
		os.RemoveAll(dir)
		os.Exit(code)
	}
	os.Exit(m.Run())
}
