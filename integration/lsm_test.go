package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berthrt/berth/libcontainer/lsm"
)

// On a host without AppArmor or SELinux, a config or exec that asks for
// one is refused before anything is made, as runc refuses it (runc 1.1:
// selinuxLabel up front, apparmorProfile and mountLabel when the kernel
// rejects them): running the process unconfined instead would be less
// than the config asks for.
func TestLSMNotOnHost(t *testing.T) {
	if lsm.AppArmorEnabled() || lsm.SELinuxEnabled() {
		t.Skip("this host has AppArmor or SELinux; TestAppArmor covers what berth does there")
	}
	b := newBerth(t)
	for _, tc := range []struct {
		field string
		edit  func(*bundle)
		want  string
	}{
		{"process.apparmorProfile", func(bun *bundle) { bun.Spec.Process.ApparmorProfile = "berth-test" }, "AppArmor is not enabled on this host"},
		{"process.selinuxLabel", func(bun *bundle) { bun.Spec.Process.SelinuxLabel = "system_u:system_r:container_t:s0" }, "SELinux is not enabled on this host"},
		{"linux.mountLabel", func(bun *bundle) { bun.Spec.Linux.MountLabel = "system_u:object_r:container_file_t:s0" }, "SELinux is not enabled on this host"},
	} {
		bun := newBundle(t, "true")
		tc.edit(bun)
		bun.Save(t)
		for _, cmd := range [][]string{{"create"}, {"run"}} {
			mustFailClean(b, []string{tc.field, tc.want}, append(cmd, "--bundle", bun.Dir, "lsm")...)
		}
	}

	runningContainer(t, b, "lsmexec")
	mustFailClean(b, []string{`process.apparmorProfile "berth-test"`, "AppArmor is not enabled"}, "exec", "--apparmor", "berth-test", "lsmexec", "true")
	mustFailClean(b, []string{"process.selinuxLabel", "SELinux is not enabled"}, "exec", "--process-label", "system_u:system_r:container_t:s0", "lsmexec", "true")
}

// berthTestProfile confines a container's process like a permissive
// docker-default, except that it may not read /etc/secret.
const berthTestProfile = `profile berth-test flags=(attach_disconnected,mediate_deleted) {
  file,
  capability,
  network,
  signal,
  ptrace,
  unix,
  mount,
  umount,
  pivot_root,
  deny /etc/secret r,
}
`

// loadAppArmorProfile loads berthTestProfile into the kernel for the
// test, with apparmor_parser (hack/vm-test.sh puts it in the VM).
func loadAppArmorProfile(t *testing.T) {
	t.Helper()
	parser, err := exec.LookPath("apparmor_parser")
	if err != nil {
		t.Fatalf("AppArmor is enabled but apparmor_parser is missing, so no profile can be loaded: %v", err)
	}
	load := exec.Command(parser, "--replace")
	load.Stdin = strings.NewReader(berthTestProfile)
	if out, err := load.CombinedOutput(); err != nil {
		t.Fatalf("apparmor_parser --replace: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		unload := exec.Command(parser, "--remove")
		unload.Stdin = strings.NewReader(berthTestProfile)
		if out, err := unload.CombinedOutput(); err != nil {
			t.Errorf("apparmor_parser --remove: %v\n%s", err, out)
		}
	})
}

// A container and an exec'd process enter the AppArmor profile they ask
// for at their execve, and it confines them; a profile the kernel does not
// have fails create with its name. This host has no AppArmor: the test
// runs in the VM (hack/vm-test.sh), whose kernel has it as default LSM.
func TestAppArmor(t *testing.T) {
	if !lsm.AppArmorEnabled() {
		if inVM() && os.Getenv("BERTH_VM_LSM") == "apparmor" {
			t.Fatal("AppArmor is not enabled in the test VM")
		}
		t.Skip("AppArmor is not enabled on this host; hack/vm-test.sh runs this test in a VM whose kernel has it")
	}
	loadAppArmorProfile(t)
	b := newBerth(t)
	bun := newBundle(t, "sh", "-c", "cat /proc/self/attr/current; echo; cat /etc/secret")
	writeFile(t, filepath.Join(bun.Rootfs(), "etc", "secret"), "secret\n")
	bun.Spec.Process.ApparmorProfile = "berth-test"
	bun.Save(t)
	r := b.RunContainer(bun, "aa")
	if !strings.HasPrefix(r.Stdout, "berth-test (enforce)\n") || strings.Contains(r.Stdout, "secret") || !strings.Contains(r.Stderr, "Permission denied") {
		t.Errorf("a process under berth-test: %v, want it confined by the profile and denied /etc/secret", r)
	}

	plain := runningContainer(t, b, "aaexec")
	writeFile(t, filepath.Join(plain.Rootfs(), "etc", "secret"), "secret\n")
	if out := b.MustRun("exec", "aaexec", "cat", "/proc/self/attr/current").Stdout; !strings.HasPrefix(out, "unconfined") {
		t.Errorf("exec without --apparmor runs under %q, want unconfined", out)
	}
	r = b.Run("exec", "--apparmor", "berth-test", "aaexec", "sh", "-c", "cat /proc/self/attr/current; echo; cat /etc/secret")
	if !strings.HasPrefix(r.Stdout, "berth-test (enforce)\n") || strings.Contains(r.Stdout, "secret") {
		t.Errorf("exec --apparmor berth-test: %v, want it confined by the profile", r)
	}

	bun = newBundle(t, "true")
	bun.Spec.Process.ApparmorProfile = "berth-no-such-profile"
	bun.Save(t)
	mustFailClean(b, []string{`AppArmor profile "berth-no-such-profile"`}, "run", "--bundle", bun.Dir, "aanone")
}

// The contexts of hack/vm-selinux-policy.conf, the policy the SELinux VM
// loads.
const (
	seProcessLabel = "system_u:system_r:berth_test_t"
	seMountLabel   = "system_u:object_r:berth_file_t"
)

// A container's process and an exec'd one run in the SELinux context they
// ask for, and the filesystems berth mounts for the container carry its
// mountLabel; a context the policy does not define fails with its name.
// This host has no SELinux: the test runs in the VM that
// `hack/vm-test.sh -lsm selinux` boots with it.
func TestSELinux(t *testing.T) {
	if !lsm.SELinuxEnabled() {
		if inVM() && os.Getenv("BERTH_VM_LSM") == "selinux" {
			t.Fatal("SELinux is not enabled in the test VM")
		}
		t.Skip("SELinux is not enabled on this host; hack/vm-test.sh -lsm selinux runs this test in a VM booted with it")
	}
	b := newBerth(t)
	bun := newBundle(t, "sh", "-c", "cat /proc/self/attr/current; echo; grep -E ' /dev(/shm)? ' /proc/self/mountinfo")
	bun.Spec.Process.SelinuxLabel = seProcessLabel
	bun.Spec.Linux.MountLabel = seMountLabel
	bun.Save(t)
	r := b.RunContainer(bun, "se")
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if len(lines) < 3 || strings.TrimRight(lines[0], "\x00") != seProcessLabel {
		t.Fatalf("the container's process: %v, want context %s and the /dev and /dev/shm mounts", r, seProcessLabel)
	}
	for _, m := range lines[1:] {
		if !strings.Contains(m, "context="+seMountLabel) && !strings.Contains(m, `context="`+seMountLabel+`"`) {
			t.Errorf("a tmpfs berth mounted lacks the mountLabel: %s", m)
		}
	}

	runningContainer(t, b, "seexec")
	out := strings.TrimRight(b.MustRun("exec", "--process-label", seProcessLabel, "seexec", "cat", "/proc/self/attr/current").Stdout, "\x00\n")
	if out != seProcessLabel {
		t.Errorf("exec --process-label %s runs in %q", seProcessLabel, out)
	}

	bun = newBundle(t, "true")
	bun.Spec.Process.SelinuxLabel = "system_u:system_r:berth_no_such_t"
	bun.Save(t)
	mustFailClean(b, []string{`SELinux label "system_u:system_r:berth_no_such_t"`}, "run", "--bundle", bun.Dir, "senone")
}
