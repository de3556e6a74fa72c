package integration

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Regressions for what the fuzz tests found (go test -fuzz, `make fuzz`),
// run against the real binary.

// TestMountAtimeOptionsSettled gives mounts more than one atime option.
// mount(2) settles them (strictatime over noatime over relatime), and so
// runc did here; berth passed both MOUNT_ATTR_NOATIME and
// MOUNT_ATTR_STRICTATIME to fsmount(2), which refused ("fsmount tmpfs:
// invalid argument"). Found by FuzzParseMountOptions.
func TestMountAtimeOptionsSettled(t *testing.T) {
	for _, path := range startPaths {
		t.Run(path.name, func(t *testing.T) {
			b := newBerth(t)
			bun := newBundle(t, "sh", "-c", "grep ' /at' /proc/self/mountinfo")
			path.set(bun)
			bun.Spec.Mounts = append(bun.Spec.Mounts,
				specs.Mount{Destination: "/at-strict", Type: "tmpfs", Source: "tmpfs", Options: []string{"noatime", "strictatime"}},
				specs.Mount{Destination: "/at-strict2", Type: "tmpfs", Source: "tmpfs", Options: []string{"strictatime", "relatime", "noatime"}},
				specs.Mount{Destination: "/at-noatime", Type: "tmpfs", Source: "tmpfs", Options: []string{"relatime", "noatime"}},
				specs.Mount{Destination: "/at-bind", Type: "bind", Source: bun.Rootfs() + "/etc", Options: []string{"bind", "noatime", "strictatime"}},
			)
			bun.Save(t)
			out := b.MustRun("run", "--bundle", bun.Dir, "fz-atime-"+path.name).Stdout
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if len(lines) != 4 {
				t.Fatalf("want the 4 mounts in mountinfo, got:\n%s", out)
			}
			for _, line := range lines {
				// Field 6 holds the per-mount options; strictatime
				// shows as neither noatime nor relatime.
				f := strings.Fields(line)
				opts := strings.Split(f[5], ",")
				noatime, relatime := slices.Contains(opts, "noatime"), slices.Contains(opts, "relatime")
				if strings.HasPrefix(f[4], "/at-noatime") {
					if !noatime {
						t.Errorf("%s: want noatime: %s", f[4], line)
					}
				} else if noatime || relatime {
					t.Errorf("%s: want strictatime: %s", f[4], line)
				}
			}
		})
	}
}

// TestProcessStringsWithNul gives the process an argument, an environment
// entry and a cwd holding a NUL byte, which execve(2) and chdir(2) cannot
// take. The plan (exec.c) reads strings as C does, up to the NUL, and so
// ran what the config did not say: `sh -c 'echo $X'` with X=a\0b printed
// "a", and an exec ran "echo" for "echo\0rm"; the Go init failed at
// execve with "invalid argument", after the container was made. Found by
// FuzzProcessPlan. Both start paths and exec now refuse it up front.
func TestProcessStringsWithNul(t *testing.T) {
	for _, path := range startPaths {
		t.Run(path.name, func(t *testing.T) {
			b := newBerth(t)
			for i, edit := range []func(p *specs.Process){
				func(p *specs.Process) { p.Env = append(p.Env, "X=a\x00b") },
				func(p *specs.Process) { p.Args = []string{"sh", "-c", "echo $0", "a\x00b"} },
				func(p *specs.Process) { p.Cwd = "/tmp\x00/etc" },
			} {
				bun := newBundle(t, "sh", "-c", "echo X=$X")
				path.set(bun)
				edit(bun.Spec.Process)
				bun.Save(t)
				b.MustFail([]string{"NUL byte"}, "run", "--bundle", bun.Dir, "fz-nul-"+path.name+itoa(i))
			}
		})
	}
	t.Run("exec", func(t *testing.T) {
		b := newBerth(t)
		bun := runningContainer(t, b, "fz-nul-exec")
		p := *bun.Spec.Process
		p.Args = []string{"echo\x00rm", "-rf", "/"}
		path := filepath.Join(t.TempDir(), "process.json")
		writeJSONFile(t, path, &p)
		b.MustFail([]string{"process.args[0]", "NUL byte"}, "exec", "--process", path, "fz-nul-exec")
	})
}

// TestLongIDShortError names a container with an id of 100000 bytes, as a
// command line may: the error quoted all of it, for an id too long and for
// one with a byte no id may hold. Found by FuzzValidateID.
func TestLongIDShortError(t *testing.T) {
	b := newBerth(t)
	for _, id := range []string{strings.Repeat("a", 100000), strings.Repeat("a", 1000) + "/"} {
		r := b.MustFail([]string{"invalid container id"}, "state", id)
		if len(r.Stderr) > 500 {
			t.Errorf("error of %d bytes for an id of %d: %.200s…", len(r.Stderr), len(id), r.Stderr)
		}
	}
}
