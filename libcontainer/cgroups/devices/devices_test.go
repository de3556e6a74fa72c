package devices

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/libcontainer/cgroups/internal/cgtest"
)

func num(n int64) *int64 { return &n }

func TestValidate(t *testing.T) {
	good := []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: num(1), Minor: num(3), Access: "rw"},
		{Allow: true, Type: "b", Major: num(-1), Access: ""},
	}
	if err := Validate(good); err != nil {
		t.Errorf("Validate: %v", err)
	}
	for rule, want := range map[*specs.LinuxDeviceCgroup]string{
		{Type: "p"}:                 `devices[0]: type "p"`,
		{Access: "rwx"}:             `access "rwx": only r, w and m`,
		{Access: "rr"}:              `access "rr": r is repeated`,
		{Major: num(-2)}:            "device number -2",
		{Minor: num(1 << 40)}:       "device number",
		{Type: "c", Access: "mwrm"}: "m is repeated",
	} {
		err := Validate([]specs.LinuxDeviceCgroup{*rule})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate(%+v) = %v, want %q", *rule, err, want)
		}
	}
}

func TestV1Lines(t *testing.T) {
	rules := []specs.LinuxDeviceCgroup{
		{Allow: false, Access: "rwm"},
		{Allow: true, Type: "c", Major: num(1), Minor: num(3), Access: "rwm"},
		{Allow: true, Type: "a", Major: num(4), Access: "r"},
		{Allow: false, Type: "b", Minor: num(-1), Access: ""},
		{Allow: true, Type: "a"},
	}
	want := []V1Line{
		{"devices.deny", "a"},
		{"devices.deny", "a"},
		{"devices.allow", "c 1:3 rwm"},
		{"devices.allow", "b 4:* r"},
		{"devices.allow", "c 4:* r"},
		{"devices.deny", "b *:* rwm"},
		{"devices.allow", "a"},
	}
	if got := V1Lines(rules); !reflect.DeepEqual(got, want) {
		t.Errorf("V1Lines =\n%v\nwant\n%v", got, want)
	}
}

// TestProgram attaches device programs to a real cgroup v2 directory and
// checks what a process in it may open. A hybrid host's cgroup2 mount
// enforces device programs as a unified one does.
func TestProgram(t *testing.T) {
	cgtest.RequireRoot(t)
	dir := testCgroup(t)
	allAccess := specs.LinuxDeviceCgroup{Allow: true, Access: "rwm"}
	tests := []struct {
		name  string
		rules []specs.LinuxDeviceCgroup
		// open results by "path mode" ("/dev/null r"): true if allowed
		want map[string]bool
	}{
		{"no rules deny all", nil, map[string]bool{"/dev/null r": false, "/dev/zero r": false}},
		{"deny all, allow null", []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"},
			{Allow: true, Type: "c", Major: num(1), Minor: num(3), Access: "rwm"},
		}, map[string]bool{"/dev/null r": true, "/dev/null w": true, "/dev/zero r": false}},
		{"allow all, deny writing zero", []specs.LinuxDeviceCgroup{
			allAccess,
			{Allow: false, Type: "c", Major: num(1), Minor: num(5), Access: "w"},
		}, map[string]bool{"/dev/zero r": true, "/dev/zero w": false, "/dev/zero rw": false, "/dev/null w": true}},
		{"read any char device", []specs.LinuxDeviceCgroup{
			{Allow: true, Type: "c", Access: "r"},
		}, map[string]bool{"/dev/null r": true, "/dev/null w": false, "/dev/null rw": false}},
		{"block rules leave char devices", []specs.LinuxDeviceCgroup{
			{Allow: true, Type: "b", Access: "rwm"},
		}, map[string]bool{"/dev/null r": false}},
		{"last rule wins", []specs.LinuxDeviceCgroup{
			{Allow: true, Type: "c", Major: num(1), Minor: num(3), Access: "rwm"},
			{Allow: false, Type: "c", Major: num(1), Access: "rwm"},
		}, map[string]bool{"/dev/null r": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Attach(dir, tt.rules); err != nil {
				t.Fatal(err)
			}
			for check, want := range tt.want {
				path, mode, _ := strings.Cut(check, " ")
				if got := canOpen(t, dir, path, mode); got != want {
					t.Errorf("open %s for %s: allowed %v, want %v", path, mode, got, want)
				}
			}
		})
	}
	// Each Attach replaced the program before it: one is left.
	if n := attached(t, dir); n != 1 {
		t.Errorf("%d device programs attached, want 1", n)
	}
}

// TestProgramRefused checks that the verifier's reason comes with its
// refusal: an exit with no verdict in r0.
func TestProgramRefused(t *testing.T) {
	cgtest.RequireRoot(t)
	fd, err := loadProgram([]insn{exit()})
	if err == nil {
		unix.Close(fd)
		t.Fatal("the verifier accepted a program that returns nothing")
	}
	if !errors.Is(err, unix.EACCES) || !strings.Contains(err.Error(), "R0 !read_ok") {
		t.Errorf("error %q: want EACCES with the verifier's log", err)
	}
}

// testCgroup makes a cgroup v2 directory below the test's own, removed
// when the test ends.
func testCgroup(t *testing.T) string {
	mounts, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("cgroup2"))
	if err != nil || len(mounts) == 0 {
		t.Skip("no cgroup2 mount: the device program needs cgroup v2 (runs in the v2 VM)")
	}
	own := cgtest.Cgroups(t, "self")[""]
	dir := filepath.Join(mounts[0].Mountpoint, strings.TrimPrefix(own, mounts[0].Root), fmt.Sprintf("berth-devices-test-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.Remove(dir); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return dir
}

// canOpen starts a shell in the cgroup at dir that opens path for mode
// ("r", "w" or "rw") and reports whether it could.
func canOpen(t *testing.T, dir, path, mode string) bool {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	redirect := map[string]string{"r": "<", "w": ">", "rw": "<>"}[mode]
	cmd := exec.Command("sh", "-c", "exec 3"+redirect+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true
	case errors.As(err, &exit) && strings.Contains(string(out), "ermission denied") || strings.Contains(string(out), "not permitted"):
		return false
	default:
		t.Fatalf("open %s: %v: %s", path, err, out)
		return false
	}
}

func attached(t *testing.T, dir string) int {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	ids, err := attachedPrograms(fd)
	if err != nil {
		t.Fatal(err)
	}
	return len(ids)
}
