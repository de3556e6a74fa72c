package integration

// Attacks on how berth builds a container's root filesystem: a read-only
// recursive bind whose submounts stay writable (the rootless default's
// /sys), proc and sysfs mount points that the image made symlinks, and
// what --no-pivot leaves in the container's mount namespace.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrt/berth/spec"
)

// planned is what `berth --debug` logs when a container's init starts
// from a plan rather than as the Go init.
const planned = "init starts from a plan"

// useGoInit makes the container's init the Go init: personality LINUX
// changes nothing else, but a plan cannot apply it.
func useGoInit(bun *bundle) {
	bun.Spec.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux}
}

// nestedCgroup puts container id in a cgroup below a parent made for the
// test under this process's own cgroups, and returns the parent's
// directory in each hierarchy: the only cgroups an attack of the test may
// aim at. They are removed when the test ends, with whatever an attack
// made in them.
func nestedCgroup(t *testing.T, bun *bundle, id string) []string {
	t.Helper()
	parent := id + "-parent"
	bun.Spec.Linux.CgroupsPath = parent + "/" + id
	var dirs []string
	for _, own := range ownCgroupDirs(t) {
		dirs = append(dirs, filepath.Join(own, parent))
	}
	t.Cleanup(func() {
		for _, d := range dirs {
			_ = os.Remove(filepath.Join(d, "escape"))
			if err := os.Remove(d); err != nil && !errors.Is(err, os.ErrNotExist) {
				t.Errorf("remove the test's cgroup %s: %v", d, err)
			}
		}
	})
	return dirs
}

// cgroupAttack is a script that tries, in each of dirs (a parent of the
// container's cgroup, at its host path), to make a cgroup beside the
// container's and to lower pids.max. It prints a line for each that
// worked, and for each dir it cannot see (then the attack proves nothing).
func cgroupAttack(dirs []string) string {
	var s strings.Builder
	for _, d := range dirs {
		fmt.Fprintf(&s, `d=%s
if [ -d $d ]; then
	mkdir $d/escape 2>/dev/null && echo "made $d/escape"
	[ -e $d/pids.max ] && { echo 7 >$d/pids.max; } 2>/dev/null && echo "wrote $d/pids.max"
else
	echo "cannot see $d"
fi
`, d)
	}
	return s.String()
}

// checkCgroupsUntouched fails the test if an attack left a cgroup or a
// limit in dirs.
func checkCgroupsUntouched(t *testing.T, dirs []string) {
	t.Helper()
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "escape")); err == nil {
			t.Errorf("the container made cgroup %s/escape", d)
		}
		if max, err := os.ReadFile(filepath.Join(d, "pids.max")); err == nil && string(max) != "max\n" {
			t.Errorf("the container set %s/pids.max to %q", d, max)
		}
	}
}

// CVE-2023-25809: "ro" on a recursive bind makes every mount it carries
// read-only, not only the top one. `berth spec --rootless` binds the
// host's /sys so; when only the top was read-only, a container whose root
// owns the host's cgroup files (a user namespace mapped to the host's
// root, as here) changed its parent cgroup's pids.max and made cgroups
// beside its own through /sys/fs/cgroup. The attack runs against that
// config, and against a root config with the same /sys bind on both start
// paths; each also binds a host directory with a submount "rbind,ro".
func TestReadonlyRbindIsRecursive(t *testing.T) {
	for _, tc := range []struct {
		name             string
		rootless, goInit bool
	}{
		{"rootless", true, true},
		{"root-plan", false, false},
		{"root-goinit", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBerth(t)
			id := "rfs-rbind-" + tc.name
			src := hostTreeWithSubmount(t)
			bun := newBundle(t)
			if tc.rootless {
				spec.Rootless(bun.Spec, 0, 0)
			} else {
				replaceMount(t, bun, specs.Mount{Destination: "/sys", Type: "bind", Source: "/sys", Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}})
				withoutMounts(bun, "/sys/fs/cgroup")
			}
			if tc.goInit {
				useGoInit(bun)
			}
			addMount(bun, specs.Mount{Destination: "/ro", Type: "bind", Source: src, Options: []string{"rbind", "ro"}})
			parents := nestedCgroup(t, bun, id)
			script(bun, cgroupAttack(parents)+`for f in /ro/top /ro/sub/x; do touch $f 2>/dev/null && echo "wrote $f"; done
echo "== mounts"; cat /proc/self/mountinfo`)
			bun.Save(t)
			r := b.MustRun("--debug", "run", "--bundle", bun.Dir, id)
			if strings.Contains(r.Stderr, planned) == tc.goInit {
				t.Fatalf("want the Go init %v; log:\n%s", tc.goInit, r.Stderr)
			}
			if got := before(r.Stdout, "== mounts"); got != "" {
				t.Errorf("the attack through the read-only recursive binds:\n%s", got)
			}
			for _, m := range parseMountinfo(t, section(t, r.Stdout, "mounts")) {
				if (isBelow(m.Point, "/sys") || isBelow(m.Point, "/ro")) && !m.has("ro") {
					t.Errorf("%s is read-write in the container: %s", m.Point, m.Line)
				}
			}
			checkCgroupsUntouched(t, parents)
		})
	}
}

// isBelow reports whether the clean absolute path p is dir or lies below it.
func isBelow(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// CVE-2019-19921, CVE-2023-28642: a procfs or sysfs is mounted on the
// directory its destination names in the image, never through a symlink
// there, even one that leads inside the root: the real procfs would end
// up elsewhere (in a volume another container can swap or cover), and
// /proc would stay whatever the image made it. berth refuses, as runc
// does, before it makes anything in the root, on both start paths.
func TestProcSysfsOnSymlinkRefused(t *testing.T) {
	for _, goInit := range []bool{false, true} {
		for _, tc := range []struct{ name, dest, link string }{
			{"proc-to-dir-inside", "/proc", "fakeproc"},
			{"proc-dangling", "/proc", "/newproc"},
			{"sys-to-dir-inside", "/sys", "/fakesys"},
			{"proc-file", "/proc", ""},
		} {
			t.Run(fmt.Sprintf("%s/goinit=%v", tc.name, goInit), func(t *testing.T) {
				b := newBerth(t)
				bun := newBundle(t, "true")
				if goInit {
					useGoInit(bun)
				}
				bun.Save(t)
				rootfs := bun.Rootfs()
				mustMkdir(t, filepath.Join(rootfs, "fakeproc"))
				mustMkdir(t, filepath.Join(rootfs, "fakesys"))
				dest := filepath.Join(rootfs, tc.dest)
				if err := os.Remove(dest); err != nil {
					t.Fatal(err)
				}
				if tc.link == "" {
					writeFile(t, dest, "")
				} else if err := os.Symlink(tc.link, dest); err != nil {
					t.Fatal(err)
				}
				check := unchanged(t, rootfs)
				mustFailClean(b, []string{tc.dest, "must be mounted on an ordinary directory"}, "run", "--bundle", bun.Dir, "rfs-procsym")
				check()
			})
		}
		// Missing, they are made.
		t.Run(fmt.Sprintf("missing/goinit=%v", goInit), func(t *testing.T) {
			b := newBerth(t)
			bun := newBundle(t, "stat", "-f", "-c", "%T", "/proc", "/sys")
			if goInit {
				useGoInit(bun)
			}
			for _, d := range []string{"proc", "sys"} {
				if err := os.Remove(filepath.Join(bun.Rootfs(), d)); err != nil {
					t.Fatal(err)
				}
			}
			if out := runInside(t, b, bun, "rfs-procmissing"); out != "proc\nsysfs\n" {
				t.Errorf("/proc and /sys made by berth are %q, want proc and sysfs", out)
			}
		})
	}
}

// unprivilegedUserns reports why a process without privileges cannot make
// a user namespace on this host, or "" if it can.
func unprivilegedUserns() string {
	cmd := exec.Command(busyboxPath, "unshare", "-Ur", "true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Sprintf("this host does not let an unprivileged user make a user namespace (busybox unshare -Ur as nobody: %v: %s)", err, out)
	}
	return ""
}

// runcRun runs bun with Debian's runc, for a test to compare with, and
// returns its stdout; ok is false when runc is not installed.
func runcRun(t *testing.T, bun *bundle, id string, flags ...string) (out string, ok bool) {
	t.Helper()
	const runc = "/usr/sbin/runc"
	if _, err := os.Stat(runc); err != nil {
		return "", false
	}
	root := filepath.Join(t.TempDir(), "runc")
	args := append(append([]string{"--root", root, "run"}, flags...), "--bundle", bun.Dir, id)
	stdout, err := exec.Command(runc, args...).Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("runc %s: %v: %s", strings.Join(args, " "), err, exit.Stderr)
		}
		t.Fatalf("runc %s: %v", strings.Join(args, " "), err)
	}
	return string(stdout), true
}

// With --no-pivot berth moves the rootfs over "/" and chroots into it.
// The host's mounts, hidden below, must not stay in the container's mount
// namespace: a fully visible procfs among them lets a process in the
// container that makes a user namespace mount a fresh procfs, with
// nothing of /proc masked (the kernel allows that only where a procfs is
// already fully visible). runc detaches or covers them too. With a user
// namespace the host's mounts are locked in the container's namespace:
// the test runs with and without one.
func TestNoPivotNoFreshProcfs(t *testing.T) {
	if why := unprivilegedUserns(); why != "" {
		t.Skip(why)
	}
	const attack = `unshare -Ur true && echo "made a user namespace"
unshare -mrpf sh -c 'mount -t proc none /proc 2>/dev/null && echo "mounted a fresh procfs"'
true`
	for _, userns := range []bool{false, true} {
		t.Run(fmt.Sprintf("userns=%v", userns), func(t *testing.T) {
			b := newBerth(t)
			bun := newBundle(t, "sh", "-c", attack)
			// An unprivileged user: root without CAP_SETFCAP may not map
			// itself in a new user namespace.
			bun.Spec.Process.User = specs.User{UID: 1000, GID: 1000}
			if userns {
				userNamespace(bun, 100000)
				openUp(t, bun, 100000)
			}
			out := runInside(t, b, bun, "rfs-nopivot", "--no-pivot")
			if !strings.Contains(out, "made a user namespace") {
				t.Fatalf("the container could not make a user namespace, so the attack proves nothing:\n%s", out)
			}
			if strings.Contains(out, "mounted") {
				t.Errorf("a process in a --no-pivot container mounted a fresh procfs:\n%s", out)
			}
			if out, ok := runcRun(t, bun, "rfs-nopivot-runc", "--no-pivot"); ok && strings.Contains(out, "mounted") {
				t.Errorf("runc let the attack through too (the oracle changed?):\n%s", out)
			}
		})
	}
}
