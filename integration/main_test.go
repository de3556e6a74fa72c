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
	"sync"
	"testing"
)

// berthBinary is the binary under test: $BERTH_BINARY, or one built from
// this checkout by TestMain.
var berthBinary string

// toolDir holds the binaries the tests build (berth, test helpers); it is
// removed when the tests end.
var toolDir string

func TestMain(m *testing.M) {
	if os.Geteuid() != 0 {
		fmt.Println("integration: SKIP: these tests need root (they create namespaces, mounts and cgroups)")
		os.Exit(0)
	}
	if _, err := os.Stat(busyboxPath); err != nil {
		fmt.Printf("integration: %s is missing: run hack/install-deps.sh\n", busyboxPath)
		os.Exit(1)
	}
	var err error
	if toolDir, err = os.MkdirTemp("", "berth-tests"); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	berthBinary = os.Getenv("BERTH_BINARY")
	if berthBinary == "" {
		if berthBinary, err = buildTool(".."); err != nil {
			fmt.Println("integration:", err)
			os.RemoveAll(toolDir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(toolDir)
	os.Exit(code)
}

var (
	toolsMu sync.Mutex
	tools   = map[string]string{}
)

// buildTool builds the main package at pkg (relative to this directory)
// once per test run and returns the binary's path. Where there is no Go
// (the cgroup v2 VM), $BERTH_TOOLS holds the tools built beforehand.
func buildTool(pkg string) (string, error) {
	toolsMu.Lock()
	defer toolsMu.Unlock()
	if path, ok := tools[pkg]; ok {
		return path, nil
	}
	name := filepath.Base(pkg)
	if pkg == ".." {
		name = "berth"
	}
	if dir := os.Getenv("BERTH_TOOLS"); dir != "" {
		return filepath.Join(dir, name), nil
	}
	path := filepath.Join(toolDir, name)
	if out, err := exec.Command("go", "build", "-o", path, pkg).CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %v\n%s", pkg, err, out)
	}
	tools[pkg] = path
	return path, nil
}

// tool is buildTool for a test: a failure to build fails the test.
func tool(t *testing.T, pkg string) string {
	t.Helper()
	path, err := buildTool(pkg)
	if err != nil {
		t.Fatal(err)
	}
	return path
}
