// Package runcdiff runs each scenario against berth and against Debian's
// runc (/usr/sbin/runc, 1.1.5) and compares what a caller of each
// observes: the oracle for berth's command line is runc itself.
//
// # How a case runs
//
// A scenario (type scenario, in the cases_*_test.go tables) is a config, a
// list of steps and, where the two runtimes differ, a marker. Each runtime
// gets a side of its own: a directory with its own bundle (a busybox root
// filesystem and the config), its own --root, its own container ids
// (rcd-b-NAME and rcd-r-NAME, NAME-2 for a second container) and cgroups of
// the same names nested under the test's own cgroup, so the two never
// meet. The steps run in order, each on both sides at once, and each step
// compares:
//
//   - a command step (cmd): the exit status, always; when both succeed,
//     stdout, through the step's comparison (as text, after the side's
//     paths and ids are replaced by $DIR, $BUNDLE, $ROOT, $ID, $ID2; or
//     as state JSON, a list, the probe's report…); when both fail, the
//     words of Cause in both stderrs. A step that should fail says so
//     (fails), and then runc failing too is checked: "both must fail" and
//     "both must succeed and match" are told apart.
//   - an observe step: what a function sees on the host for each side
//     (cgroup files, a pid file, a file a hook wrote), compared as text.
//
// After the steps, each container that runc still has must exist in berth
// and the other way round; then both are deleted, and berth may leave
// nothing that runc does not: no state, process, mount or cgroup (what is
// left is logged, then removed).
//
// # Markers
//
// A difference berth means to have is marked on the step where it shows
// with Deliberate, naming a row of docs/compat.md: the difference is
// logged and the case ends there, passing. A difference that is a bug is
// marked with Known, naming the defect (markers_test.go): on the scenario,
// which is then skipped with that reason, or on the step where it shows,
// where the case is skipped if the step differs. RUNCDIFF_KNOWN=1 runs
// the marked cases as unmarked, to see which bugs are fixed.
// docs/runcdiff.md says how to add a case.
package runcdiff

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/berthrt/berth/integration/internal/testhost"
)

// runcPath is the oracle: Debian's runc, installed by hack/install-deps.sh.
const runcPath = "/usr/sbin/runc"

// runtimes are the two runtimes compared, set up by TestMain.
var berth, runc *runtime

func TestMain(m *testing.M) {
	os.Exit(setUp(m))
}

func setUp(m *testing.M) int {
	if os.Geteuid() != 0 {
		fmt.Println("runcdiff: SKIP: the cases need root (they create namespaces, mounts and cgroups)")
		return 0
	}
	if _, err := os.Stat(runcPath); err != nil {
		fmt.Printf("runcdiff: SKIP: %s is missing: run hack/install-deps.sh runc\n", runcPath)
		return 0
	}
	if _, err := os.Stat(testhost.BusyboxPath); err != nil {
		fmt.Printf("runcdiff: %s is missing: run hack/install-deps.sh\n", testhost.BusyboxPath)
		return 1
	}
	tmp, err := os.MkdirTemp("", "runcdiff")
	if err != nil {
		fmt.Println("runcdiff:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	berthPath := os.Getenv("BERTH_BINARY")
	if berthPath == "" {
		berthPath = filepath.Join(tmp, "berth")
		if out, err := exec.Command("go", "build", "-o", berthPath, "../..").CombinedOutput(); err != nil {
			fmt.Printf("runcdiff: build berth: %v\n%s", err, out)
			return 1
		}
	}
	if berth, err = newRuntime("berth", "b", berthPath); err != nil {
		fmt.Println("runcdiff:", err)
		return 1
	}
	if runc, err = newRuntime("runc", "r", runcPath); err != nil {
		fmt.Println("runcdiff:", err)
		return 1
	}
	return m.Run()
}

// runtime is one of the two runtimes compared.
type runtime struct {
	Name   string
	Binary string
	// Letter tells the sides' ids, cgroups and directories apart: it is
	// one letter, so that paths and tables have the same widths.
	Letter string
	// SpecVersion is the runtime spec version it implements, which its
	// state reports as ociVersion.
	SpecVersion string
}

var specVersionLine = regexp.MustCompile(`(?m)^spec: (\S+)$`)

func newRuntime(name, letter, binary string) (*runtime, error) {
	out, err := exec.Command(binary, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --version: %w", binary, err)
	}
	m := specVersionLine.FindSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("%s --version names no spec version:\n%s", binary, out)
	}
	return &runtime{Name: name, Binary: binary, Letter: letter, SpecVersion: string(m[1])}, nil
}
