package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// openUp lets a user namespace's root, which is an unprivileged uid on the
// host, reach the bundle (t.TempDir makes 0700 directories), and gives it
// the rootfs, as an engine does for a user-namespaced image.
func openUp(t *testing.T, bun *bundle, hostID int) {
	t.Helper()
	for dir := bun.Dir; dir != "/" && dir != os.TempDir(); dir = filepath.Dir(dir) {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	err := filepath.Walk(bun.Rootfs(), func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, hostID, hostID)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func userNamespace(bun *bundle, hostID uint32) {
	bun.Spec.Linux.Namespaces = append(bun.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	bun.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: hostID, Size: 65536}}
	bun.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: hostID, Size: 65536}}
}

func TestUserNamespace(t *testing.T) {
	b := newBerth(t)
	shared := t.TempDir()
	if err := os.Chmod(shared, 0o777); err != nil {
		t.Fatal(err)
	}
	bun := newBundle(t, "sh", "-c", "id -u; cat /proc/self/uid_map /proc/self/gid_map; touch /shared/made; ls /dev/null && echo null-ok; grep -c . /proc/self/mountinfo >/dev/null && echo proc-ok")
	userNamespace(bun, 100000)
	bun.Spec.Mounts = append(bun.Spec.Mounts, specs.Mount{Destination: "/shared", Type: "bind", Source: shared, Options: []string{"bind"}})
	openUp(t, bun, 100000)
	bun.Save(t)
	r := b.RunContainer(bun, "userns")
	if r.Code != 0 {
		t.Fatalf("run: %v", r)
	}
	fields := strings.Fields(r.Stdout)
	if len(fields) < 7 || fields[0] != "0" || strings.Join(fields[1:4], " ") != "0 100000 65536" || strings.Join(fields[4:7], " ") != "0 100000 65536" {
		t.Errorf("inside the user namespace: %q, want uid 0 mapped to 100000", r.Stdout)
	}
	for _, want := range []string{"null-ok", "proc-ok"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("missing %q: %q", want, r.Stdout)
		}
	}
	fi, err := os.Stat(filepath.Join(shared, "made"))
	if err != nil {
		t.Fatal(err)
	}
	if uid := fi.Sys().(*syscallStat).Uid; uid != 100000 {
		t.Errorf("a file the container's root made is owned by host uid %d, want 100000", uid)
	}
}

func TestUserNamespaceExec(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "sleep", "1000")
	userNamespace(bun, 200000)
	openUp(t, bun, 200000)
	bun.Save(t)
	b.MustRun("run", "-d", "--bundle", bun.Dir, "usex")
	t.Cleanup(func() { b.Run("delete", "--force", "usex") })
	r := b.MustRun("exec", "usex", "sh", "-c", "id -u; cat /proc/self/uid_map")
	if got := strings.Fields(r.Stdout); len(got) != 4 || got[0] != "0" || got[2] != "200000" {
		t.Errorf("exec in a user namespace container: %q", r.Stdout)
	}
}

func TestTimeNamespace(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "cat", "/proc/uptime")
	bun.Spec.Linux.Namespaces = append(bun.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
	bun.Spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Secs: 1000000}}
	bun.Save(t)
	r := b.RunContainer(bun, "timens")
	if r.Code != 0 {
		t.Fatalf("run: %v", r)
	}
	inside, _ := strconv.ParseFloat(strings.Fields(r.Stdout)[0], 64)
	host, _ := os.ReadFile("/proc/uptime")
	outside, _ := strconv.ParseFloat(strings.Fields(string(host))[0], 64)
	if d := inside - outside; d < 999000 || d > 1001000 {
		t.Errorf("uptime inside %v, host %v: want the boottime offset of 1000000s", inside, outside)
	}
}

func TestJoinNamespacesByPath(t *testing.T) {
	b := newBerth(t)
	runningContainer(t, b, "owner")
	ownerPid := strconv.Itoa(b.State("owner").Pid)
	bun := newBundle(t, "sh", "-c", "readlink /proc/self/ns/net; readlink /proc/self/ns/pid; ps -o args")
	for i, ns := range bun.Spec.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace || ns.Type == specs.PIDNamespace {
			bun.Spec.Linux.Namespaces[i].Path = "/proc/" + ownerPid + "/ns/" + map[specs.LinuxNamespaceType]string{specs.NetworkNamespace: "net", specs.PIDNamespace: "pid"}[ns.Type]
		}
	}
	bun.Save(t)
	r := b.RunContainer(bun, "joiner")
	if r.Code != 0 {
		t.Fatalf("run: %v", r)
	}
	for _, ns := range []string{"net", "pid"} {
		want, _ := os.Readlink("/proc/" + ownerPid + "/ns/" + ns)
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("joiner is not in owner's %s namespace %s:\n%s", ns, want, r.Stdout)
		}
	}
	if !strings.Contains(r.Stdout, "sleep 1000") {
		t.Errorf("joiner does not see owner's processes:\n%s", r.Stdout)
	}
}

func TestNamespaceBadInput(t *testing.T) {
	b := newBerth(t)
	runningContainer(t, b, "nsowner")
	ownerPid := strconv.Itoa(b.State("nsowner").Pid)

	wrongType := newBundle(t, "true")
	wrongType.Spec.Linux.Namespaces[1].Path = "/proc/" + ownerPid + "/ns/ipc" // [1] is network
	wrongType.Save(t)
	b.MustFail([]string{"network namespace path", "another type"}, "run", "--bundle", wrongType.Dir, "wrongtype")

	missing := newBundle(t, "true")
	missing.Spec.Linux.Namespaces[1].Path = "/proc/999999999/ns/net"
	missing.Save(t)
	b.MustFail([]string{"network namespace", "no such file"}, "run", "--bundle", missing.Dir, "missingns")

	noMaps := newBundle(t, "true")
	noMaps.Spec.Linux.Namespaces = append(noMaps.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	noMaps.Save(t)
	b.MustFail([]string{"uidMappings"}, "run", "--bundle", noMaps.Dir, "nomaps")
}

func TestNoMountNamespaceRefused(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t, "true")
	var keep []specs.LinuxNamespace
	for _, ns := range bun.Spec.Linux.Namespaces {
		if ns.Type != specs.MountNamespace {
			keep = append(keep, ns)
		}
	}
	bun.Spec.Linux.Namespaces = keep
	bun.Save(t)
	hostRoot, _ := os.Readlink("/proc/self/root")
	b.MustFail([]string{"mount namespace"}, "run", "--bundle", bun.Dir, "nomntns")
	if now, _ := os.Readlink("/proc/self/root"); now != hostRoot {
		t.Errorf("the caller's root changed: %s", now)
	}
}
