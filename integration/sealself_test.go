package integration

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// CVE-2019-5736 in full, as a container attacks it on Linux 6.x. The
// image's program starts with `#!/proc/self/exe`, so the process berth
// execs in the container runs berth's binary again, dumpable; the line's
// `--log=HOLD` keeps it there, blocked opening a FIFO. A process of the
// same pid namespace holds its /proc/PID/exe (and any fd of it to the same
// file), tries to make the file's mount and filesystem writable
// (mount_setattr, a bind remount, fspick and reconfigure), as it is and
// from a user and mount namespace of its own, lets berth exit and writes.
//
// berth runs from a copy of its binary, which must come out unchanged, in
// the foreground (so that it holds its sealed binary while the attack
// lasts), as `exec` into the attacker's container, and as `run` of a
// container that shares the attacker's pid namespace (as a pod's containers
// do), whose init starts from a plan or through the Go init. The attacker
// has the default capabilities, or CAP_SYS_ADMIN as well, which lets it
// change the attributes of any mount.
func TestRuntimeBinaryOverwriteAttack(t *testing.T) {
	for _, tc := range []struct {
		name         string
		goInit, exec bool
	}{
		{"exec", false, true},
		{"run from a plan", false, false},
		{"run through the Go init", true, false},
	} {
		for _, sysAdmin := range []bool{false, true} {
			name := tc.name
			if sysAdmin {
				name += " with CAP_SYS_ADMIN"
			}
			t.Run(name, func(t *testing.T) { overwriteAttack(t, tc.goInit, tc.exec, sysAdmin) })
		}
	}
}

func overwriteAttack(t *testing.T, goInit, viaExec, sysAdmin bool) {
	b := newBerth(t)
	orig, err := os.ReadFile(berthBinary)
	if err != nil {
		t.Fatal(err)
	}
	b.Binary = filepath.Join(t.TempDir(), "berth")
	if err := os.WriteFile(b.Binary, orig, 0o755); err != nil {
		t.Fatal(err)
	}

	const hold = "/hold"
	attacker := evilBundle(t, hold, "sh", "-c", "hostile unseal "+hold+" >/out 2>&1; exec sleep 1000")
	withHostile(t, attacker)
	if sysAdmin {
		c := attacker.Spec.Process.Capabilities
		c.Bounding = append(c.Bounding, "CAP_SYS_ADMIN")
		c.Effective = append(c.Effective, "CAP_SYS_ADMIN")
		c.Permitted = append(c.Permitted, "CAP_SYS_ADMIN")
	}
	startDetached(t, b, attacker, "unseal-pod")

	var victim *background
	if viaExec {
		victim = b.Start("exec", "unseal-pod", "/bin/evil")
	} else {
		bun := evilBundle(t, hold, "/bin/evil")
		for i, ns := range bun.Spec.Linux.Namespaces {
			if ns.Type == specs.PIDNamespace {
				bun.Spec.Linux.Namespaces[i].Path = "/proc/" + strconv.Itoa(b.State("unseal-pod").Pid) + "/ns/pid"
			}
		}
		if goInit {
			// Needs the Go init, changes nothing.
			bun.Spec.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux}
		}
		bun.Save(t)
		victim = b.Start("--debug", "run", "--bundle", bun.Dir, "unseal-run")
		t.Cleanup(func() { b.Run("delete", "--force", "unseal-run") })
	}

	// Should the attack succeed, clean up with a berth that works.
	t.Cleanup(func() { b.Binary = berthBinary })

	out := filepath.Join(attacker.Rootfs(), "out")
	deadline := time.Now().Add(40 * time.Second)
	for {
		report, _ := os.ReadFile(out)
		if strings.Contains(string(report), "done\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the attacker did not finish; it says:\n%s", report)
		}
		time.Sleep(20 * time.Millisecond)
	}
	report, _ := os.ReadFile(out)
	t.Logf("the attacker:\n%s", report)
	log := victim.Wait(t)
	if fromPlan := strings.Contains(log, "init starts from a plan"); !viaExec && fromPlan == goInit {
		t.Errorf("the init did not start the way this case needs (from a plan: %v); log:\n%s", fromPlan, log)
	}
	// The attack must have been made for the test to tell anything.
	for _, want := range []string{"found berth", "unshare user and mount namespaces: ok", "write exe: "} {
		if !strings.Contains(string(report), want) {
			t.Fatalf("the attack did not get as far as %q: the test tells nothing", want)
		}
	}
	if strings.Contains(string(report), "write exe: ok") || strings.Contains(string(report), "write fd") {
		t.Errorf("the attacker wrote berth's binary")
	}
	if now, err := os.ReadFile(b.Binary); err != nil || !bytes.Equal(now, orig) {
		t.Errorf("berth's binary changed (read: %v): the container can replace the runtime", err)
	}
}

// evilBundle is a bundle whose /bin/evil has berth run itself with its
// log going to the FIFO hold, where it blocks.
func evilBundle(t *testing.T, hold string, args ...string) *bundle {
	t.Helper()
	bun := newBundle(t, args...)
	bun.Spec.Root.Readonly = false
	evil := filepath.Join(bun.Rootfs(), "bin", "evil")
	writeFile(t, evil, "#!/proc/self/exe --log="+hold+"\n")
	if err := os.Chmod(evil, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(bun.Rootfs(), hold), 0o600); err != nil {
		t.Fatal(err)
	}
	return bun
}
