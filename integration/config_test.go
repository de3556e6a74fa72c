package integration

// Tests that each part of config.json is honoured, observed from inside the
// container the way a user would: with busybox applets, /proc/self/* and the
// files a container leaves in its root filesystem.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// runInside saves the bundle, runs it in the foreground and returns the
// container's stdout, failing the test unless it exited 0.
func runInside(t *testing.T, b *berth, bun *bundle, id string, flags ...string) string {
	t.Helper()
	bun.Save(t)
	args := append(append([]string{"run"}, flags...), "--bundle", bun.Dir, id)
	r := b.Run(args...)
	if r.Code != 0 {
		t.Fatalf("berth %s: %v", strings.Join(args, " "), r)
	}
	return r.Stdout
}

// script makes the container's process `sh -c s`.
func script(bun *bundle, s string) {
	bun.Spec.Process.Args = []string{"sh", "-c", s}
}

func addMount(bun *bundle, m specs.Mount) {
	bun.Spec.Mounts = append(bun.Spec.Mounts, m)
}

// tmpfsTmp gives the container a writable /tmp on a read-only root.
func tmpfsTmp(bun *bundle) {
	addMount(bun, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=1777"}})
}

// section returns the lines a script printed after the line "== name" and
// before the next "== " line.
func section(t *testing.T, out, name string) string {
	t.Helper()
	var b strings.Builder
	in, found := false, false
	for _, line := range strings.SplitAfter(out, "\n") {
		if strings.HasPrefix(line, "== ") {
			in = strings.TrimSpace(line) == "== "+name
			found = found || in
			continue
		}
		if in {
			b.WriteString(line)
		}
	}
	if !found {
		t.Fatalf("the container printed no section %q:\n%s", name, out)
	}
	return b.String()
}

// before returns what a script printed before its first line starting
// with marker: the short part worth quoting in a failure.
func before(out, marker string) string {
	if i := strings.Index(out, "\n"+marker); i >= 0 {
		return out[:i+1]
	}
	if strings.HasPrefix(out, marker) {
		return ""
	}
	return out
}

// mountInfo is one line of /proc/self/mountinfo.
type mountInfo struct {
	Root, Point string
	Opts        []string // per-mount options
	Optional    []string // shared:N, master:N, unbindable…
	FSType      string
	Source      string
	SuperOpts   []string
	Line        string
}

func parseMountinfo(t *testing.T, text string) []mountInfo {
	t.Helper()
	var ms []mountInfo
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		sep := slices.Index(f, "-")
		if len(f) < 10 || sep < 6 || len(f) < sep+4 {
			t.Fatalf("not a mountinfo line: %q", line)
		}
		ms = append(ms, mountInfo{
			Root: unescapeMount(f[3]), Point: unescapeMount(f[4]),
			Opts: strings.Split(f[5], ","), Optional: f[6:sep],
			FSType: f[sep+1], Source: f[sep+2], SuperOpts: strings.Split(f[sep+3], ","),
			Line: line,
		})
	}
	return ms
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space…).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mountAt returns the topmost mount at point: the one a path lookup sees.
func mountAt(t *testing.T, ms []mountInfo, point string) mountInfo {
	t.Helper()
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].Point == point {
			return ms[i]
		}
	}
	var points []string
	for _, m := range ms {
		points = append(points, m.Point)
	}
	t.Fatalf("no mount at %s inside the container; mounts: %v", point, points)
	return mountInfo{}
}

// has reports whether the mount shows option o, per mount or per
// superblock; ro and rw only count per mount (sysfs mounted ro still has
// a rw superblock).
func (m mountInfo) has(o string) bool {
	if o == "ro" || o == "rw" {
		return slices.Contains(m.Opts, o)
	}
	return slices.Contains(m.Opts, o) || slices.Contains(m.SuperOpts, o)
}

func (m mountInfo) hasOptional(prefix string) bool {
	return slices.ContainsFunc(m.Optional, func(s string) bool { return strings.HasPrefix(s, prefix) })
}

// hostNS returns the namespace link of this (the host's) process.
func hostNS(t *testing.T, ns string) string {
	t.Helper()
	link, err := os.Readlink("/proc/self/ns/" + ns)
	if err != nil {
		t.Fatal(err)
	}
	return link
}

// hostMountsUnder counts the host's mounts at or below dir.
func hostMountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, m := range parseMountinfo(t, string(data)) {
		if m.Point == dir || strings.HasPrefix(m.Point, dir+"/") {
			lines = append(lines, m.Line)
		}
	}
	return lines
}

// hostMount mounts on the host for the rest of the test; the mount (and
// anything that ends up beneath it) is detached before the harness looks
// for leaked mounts. Call it after newBerth, so that its cleanup runs first.
func hostMount(t *testing.T, source, target, fstype string, flags uintptr, data string) {
	t.Helper()
	if err := unix.Mount(source, target, fstype, flags, data); err != nil {
		t.Fatalf("mount %s on %s: %v", source, target, err)
	}
	t.Cleanup(func() {
		// A runtime that propagated mounts back may have stacked more on
		// target: detach until none is left.
		for i := 0; i < 100; i++ {
			if err := unix.Unmount(target, unix.MNT_DETACH); err != nil {
				if i == 0 {
					t.Errorf("unmount %s: %v", target, err)
				}
				return
			}
		}
	})
}

func capMask(caps ...int) string {
	var m uint64
	for _, c := range caps {
		m |= 1 << c
	}
	return fmt.Sprintf("%016x", m)
}

// statusField returns a field of a /proc/<pid>/status text.
func statusField(t *testing.T, status, field string) string {
	t.Helper()
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s in status:\n%s", field, status)
	return ""
}

func mustMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestConfigRootPath(t *testing.T) {
	for _, tc := range []struct {
		name string
		// place moves the bundle's rootfs and returns root.path for it.
		place func(t *testing.T, bun *bundle) (rootPath, rootfs string)
	}{
		{"relative to the bundle", func(t *testing.T, bun *bundle) (string, string) {
			dst := filepath.Join(bun.Dir, "images", "busybox")
			mustMkdir(t, filepath.Dir(dst))
			if err := os.Rename(bun.Rootfs(), dst); err != nil {
				t.Fatal(err)
			}
			return "images/busybox", dst
		}},
		{"absolute", func(t *testing.T, bun *bundle) (string, string) {
			dst := filepath.Join(t.TempDir(), "elsewhere")
			if err := os.Rename(bun.Rootfs(), dst); err != nil {
				t.Fatal(err)
			}
			return dst, dst
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBerth(t)
			bun := newBundle(t, "cat", "/etc/marker")
			rootPath, rootfs := tc.place(t, bun)
			writeFile(t, filepath.Join(rootfs, "etc", "marker"), "this is the rootfs at "+rootPath+"\n")
			bun.Spec.Root.Path = rootPath
			// berth runs from the test's directory, not the bundle's: a
			// relative root.path must still resolve against the bundle.
			out := runInside(t, b, bun, "rootpath")
			if want := "this is the rootfs at " + rootPath + "\n"; out != want {
				t.Errorf("container's /etc/marker = %q, want %q", out, want)
			}
		})
	}
}

func TestConfigRootReadonly(t *testing.T) {
	t.Run("true", func(t *testing.T) {
		b := newBerth(t)
		bun := newBundle(t)
		script(bun, `touch /written-on-ro-root; echo "root=$?"; touch /tmp/ok && echo tmp=ok; echo "== mounts"; cat /proc/self/mountinfo`)
		bun.Spec.Root.Readonly = true
		tmpfsTmp(bun)
		bun.Save(t)
		r := b.RunContainer(bun, "ro")
		if r.Code != 0 {
			t.Fatalf("run: %v", r)
		}
		if !strings.Contains(r.Stdout, "root=1\n") || !strings.Contains(r.Stderr, "Read-only file system") {
			t.Errorf("touch / on a read-only root did not fail with EROFS: stdout %q, stderr %q", before(r.Stdout, "== mounts"), r.Stderr)
		}
		if !strings.Contains(r.Stdout, "tmp=ok\n") {
			t.Errorf("the tmpfs at /tmp is not writable on a read-only root: stderr %q", r.Stderr)
		}
		if root := mountAt(t, parseMountinfo(t, section(t, r.Stdout, "mounts")), "/"); !root.has("ro") {
			t.Errorf("/ is not mounted ro: %s", root.Line)
		}
		if _, err := os.Stat(filepath.Join(bun.Rootfs(), "written-on-ro-root")); err == nil {
			t.Errorf("a write to the read-only root landed in the rootfs")
		}
	})
	t.Run("false", func(t *testing.T) {
		b := newBerth(t)
		bun := newBundle(t)
		script(bun, `echo written-inside > /written && echo write=ok; echo "== mounts"; cat /proc/self/mountinfo`)
		bun.Spec.Root.Readonly = false
		out := runInside(t, b, bun, "rw")
		if !strings.Contains(out, "write=ok\n") {
			t.Errorf("writing to a read-write root failed: %q", out)
		}
		if root := mountAt(t, parseMountinfo(t, section(t, out, "mounts")), "/"); !root.has("rw") {
			t.Errorf("/ is not mounted rw: %s", root.Line)
		}
		data, err := os.ReadFile(filepath.Join(bun.Rootfs(), "written"))
		if err != nil || string(data) != "written-inside\n" {
			t.Errorf("the container's write is not in the rootfs on the host: %q, %v", data, err)
		}
	})
}

func TestConfigProcessArgs(t *testing.T) {
	b := newBerth(t)
	// Each argument must arrive as given: no splitting, globbing or
	// expansion on the way.
	bun := newBundle(t, "sh", "-c", `for a in "$0" "$@"; do echo "[$a]"; done`, "zero", "two words", "", "*", "$HOME", "--flag")
	out := runInside(t, b, bun, "args")
	if want := "[zero]\n[two words]\n[]\n[*]\n[$HOME]\n[--flag]\n"; out != want {
		t.Errorf("args seen by the process:\n%s\nwant:\n%s", out, want)
	}
}

func TestConfigProcessEnv(t *testing.T) {
	const path = "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
	for _, tc := range []struct {
		name string
		uid  uint32
		env  []string
		want []string
	}{
		{"HOME defaulted from /etc/passwd", 0,
			[]string{path, "GREETING=hello world", "EMPTY=", "WITH_EQUALS=a=b"},
			[]string{path, "GREETING=hello world", "EMPTY=", "WITH_EQUALS=a=b", "HOME=/root"}},
		{"HOME given is kept", 0,
			[]string{path, "HOME=/srv/home"},
			[]string{path, "HOME=/srv/home"}},
		{"HOME of a non-root user", 65534,
			[]string{path},
			[]string{path, "HOME=/nonexistent"}},
		{"HOME of a user missing from /etc/passwd", 4242,
			[]string{path},
			[]string{path, "HOME=/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBerth(t)
			// env is exec'd directly, so it prints exactly the environment
			// berth passed: no variable of the shell's or berth's own.
			bun := newBundle(t, "env")
			bun.Spec.Process.Env = tc.env
			bun.Spec.Process.User = specs.User{UID: tc.uid, GID: tc.uid}
			got := strings.Split(strings.TrimSuffix(runInside(t, b, bun, "env"), "\n"), "\n")
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("environment inside:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestConfigCwd(t *testing.T) {
	t.Run("existing", func(t *testing.T) {
		b := newBerth(t)
		bun := newBundle(t, "pwd")
		bun.Spec.Process.Cwd = "/etc"
		if out := runInside(t, b, bun, "cwd"); out != "/etc\n" {
			t.Errorf("pwd = %q, want /etc", out)
		}
	})
	// runc creates a missing cwd inside the rootfs (owned by root, 0755),
	// even on a read-only root; images rely on it (WORKDIR of a directory
	// the image does not ship).
	t.Run("missing is created", func(t *testing.T) {
		b := newBerth(t)
		bun := newBundle(t, "pwd")
		bun.Spec.Process.Cwd = "/berth-cfg-cwd/made/here"
		bun.Spec.Root.Readonly = true
		if out := runInside(t, b, bun, "cwd"); out != "/berth-cfg-cwd/made/here\n" {
			t.Errorf("pwd = %q, want /berth-cfg-cwd/made/here", out)
		}
		if fi, err := os.Stat(filepath.Join(bun.Rootfs(), "berth-cfg-cwd", "made", "here")); err != nil || !fi.IsDir() {
			t.Errorf("cwd was not created inside the rootfs: %v", err)
		}
		if _, err := os.Stat("/berth-cfg-cwd"); err == nil {
			t.Errorf("cwd was created on the host, outside the rootfs")
		}
	})
}

func TestConfigUser(t *testing.T) {
	t.Run("numeric ids and additional gids", func(t *testing.T) {
		b := newBerth(t)
		bun := newBundle(t)
		script(bun, `id -u; id -g; echo "== groups"; id -G; echo "== status"; cat /proc/self/status`)
		bun.Spec.Process.User = specs.User{UID: 1000, GID: 1001, AdditionalGids: []uint32{7, 65534}}
		out := runInside(t, b, bun, "user")
		if !strings.HasPrefix(out, "1000\n1001\n") {
			t.Errorf("id -u, id -g = %q, want 1000 and 1001", out)
		}
		groups := strings.Fields(section(t, out, "groups"))
		slices.Sort(groups)
		if want := []string{"1001", "65534", "7"}; !slices.Equal(groups, want) {
			t.Errorf("id -G = %v, want %v", groups, want)
		}
		status := section(t, out, "status")
		if got := strings.Fields(statusField(t, status, "Uid")); !slices.Equal(got, []string{"1000", "1000", "1000", "1000"}) {
			t.Errorf("real, effective, saved and fs uid = %v, want all 1000", got)
		}
		if got := strings.Fields(statusField(t, status, "Gid")); !slices.Equal(got, []string{"1001", "1001", "1001", "1001"}) {
			t.Errorf("real, effective, saved and fs gid = %v, want all 1001", got)
		}
		supp := strings.Fields(statusField(t, status, "Groups"))
		slices.Sort(supp)
		if want := []string{"65534", "7"}; !slices.Equal(supp, want) {
			t.Errorf("supplementary groups = %v, want exactly the additionalGids %v", supp, want)
		}
	})
	t.Run("names from the container's /etc/passwd", func(t *testing.T) {
		b := newBerth(t)
		bun := newBundle(t, "id")
		bun.Spec.Process.User = specs.User{UID: 65534, GID: 65534}
		if out := runInside(t, b, bun, "nobody"); out != "uid=65534(nobody) gid=65534(nogroup)\n" {
			t.Errorf("id = %q, want nobody and nogroup", out)
		}
	})
}

func TestConfigUmask(t *testing.T) {
	u077 := uint32(0o077)
	for _, tc := range []struct {
		name  string
		umask *uint32
		want  string
	}{
		{"0077", &u077, "0077\n600\n700\n"},
		{"default 0022", nil, "0022\n644\n755\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBerth(t)
			bun := newBundle(t)
			script(bun, `umask; touch /tmp/f; mkdir /tmp/d; stat -c %a /tmp/f /tmp/d`)
			tmpfsTmp(bun)
			bun.Spec.Process.User.Umask = tc.umask
			if out := runInside(t, b, bun, "umask"); out != tc.want {
				t.Errorf("umask, file and dir modes = %q, want %q", out, tc.want)
			}
		})
	}
}

// This host lacks CAP_SYS_RESOURCE, so a hard limit above the host's cannot
// be set: only lowering is tested.
func TestConfigRlimits(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t)
	script(bun, `ulimit -n; ulimit -Hn; (exec 70</dev/null) 2>/dev/null && echo fd70=open || echo fd70=refused; (exec 50</dev/null) && echo fd50=open; echo "== limits"; cat /proc/self/limits`)
	bun.Spec.Process.Rlimits = []specs.POSIXRlimit{
		{Type: "RLIMIT_NOFILE", Soft: 64, Hard: 128},
		{Type: "RLIMIT_CORE", Soft: 1024, Hard: 4096},
	}
	out := runInside(t, b, bun, "rlimits")
	// The soft limit really holds: fd 70 is past it, fd 50 is not.
	if got := before(out, "== limits"); got != "64\n128\nfd70=refused\nfd50=open\n" {
		t.Errorf("ulimit -n, ulimit -Hn, then opening fds 70 and 50: %q, want 64, 128, refused, open", got)
	}
	limits := section(t, out, "limits")
	for _, want := range [][]string{{"Max open files", "64", "128"}, {"Max core file size", "1024", "4096"}} {
		found := false
		for _, line := range strings.Split(limits, "\n") {
			if rest, ok := strings.CutPrefix(line, want[0]); ok {
				found = true
				if f := strings.Fields(rest); len(f) < 2 || f[0] != want[1] || f[1] != want[2] {
					t.Errorf("%s: %q, want soft %s hard %s", want[0], line, want[1], want[2])
				}
			}
		}
		if !found {
			t.Errorf("no %q in /proc/self/limits:\n%s", want[0], limits)
		}
	}
}

func TestConfigCapabilities(t *testing.T) {
	names := func(caps ...int) []string {
		var out []string
		for _, c := range caps {
			out = append(out, map[int]string{
				unix.CAP_CHOWN: "CAP_CHOWN", unix.CAP_FOWNER: "CAP_FOWNER", unix.CAP_KILL: "CAP_KILL",
				unix.CAP_SETGID: "CAP_SETGID", unix.CAP_SETUID: "CAP_SETUID",
				unix.CAP_NET_BIND_SERVICE: "CAP_NET_BIND_SERVICE", unix.CAP_NET_RAW: "CAP_NET_RAW",
			}[c])
		}
		return out
	}
	const chownScript = `touch /tmp/f; chown 1 /tmp/f; echo "chown=$?"; echo "== status"; cat /proc/self/status`
	someCaps := []int{unix.CAP_FOWNER, unix.CAP_KILL, unix.CAP_SETGID, unix.CAP_SETUID, unix.CAP_NET_BIND_SERVICE}

	t.Run("root without CAP_CHOWN", func(t *testing.T) {
		b := newBerth(t)
		bun := newBundle(t)
		script(bun, chownScript)
		tmpfsTmp(bun)
		bun.Spec.Process.Capabilities = &specs.LinuxCapabilities{
			Bounding: names(someCaps...), Effective: names(someCaps...), Permitted: names(someCaps...),
		}
		bun.Save(t)
		r := b.RunContainer(bun, "nochown")
		if r.Code != 0 {
			t.Fatalf("run: %v", r)
		}
		status := section(t, r.Stdout, "status")
		want := capMask(someCaps...)
		for field, w := range map[string]string{"CapBnd": want, "CapPrm": want, "CapEff": want, "CapInh": capMask(), "CapAmb": capMask()} {
			if got := statusField(t, status, field); got != w {
				t.Errorf("%s = %s, want %s", field, got, w)
			}
		}
		if !strings.Contains(r.Stdout, "chown=1\n") || !strings.Contains(r.Stderr, "Operation not permitted") {
			t.Errorf("chown as root without CAP_CHOWN did not fail with EPERM: %q, stderr %q", before(r.Stdout, "== status"), r.Stderr)
		}
	})
	t.Run("root with CAP_CHOWN", func(t *testing.T) {
		b := newBerth(t)
		bun := newBundle(t)
		script(bun, chownScript)
		tmpfsTmp(bun)
		caps := append(slices.Clone(someCaps), unix.CAP_CHOWN)
		bun.Spec.Process.Capabilities = &specs.LinuxCapabilities{
			Bounding: names(caps...), Effective: names(caps...), Permitted: names(caps...),
		}
		out := runInside(t, b, bun, "chown")
		if !strings.Contains(out, "chown=0\n") {
			t.Errorf("chown with CAP_CHOWN failed: %q", out)
		}
		if got := statusField(t, section(t, out, "status"), "CapEff"); got != capMask(caps...) {
			t.Errorf("CapEff = %s, want %s", got, capMask(caps...))
		}
	})
	// For a non-root user the kernel keeps across exec only the ambient
	// set (busybox has no file capabilities), so every set is observable.
	t.Run("non-root with ambient", func(t *testing.T) {
		b := newBerth(t)
		bun := newBundle(t, "cat", "/proc/self/status")
		bun.Spec.Process.User = specs.User{UID: 1000, GID: 1000}
		bounding := []int{unix.CAP_NET_BIND_SERVICE, unix.CAP_NET_RAW, unix.CAP_KILL}
		ambient := []int{unix.CAP_NET_BIND_SERVICE}
		bun.Spec.Process.Capabilities = &specs.LinuxCapabilities{
			Bounding: names(bounding...), Effective: names(ambient...), Permitted: names(ambient...),
			Inheritable: names(ambient...), Ambient: names(ambient...),
		}
		status := runInside(t, b, bun, "ambient")
		for field, w := range map[string]string{
			"CapBnd": capMask(bounding...), "CapPrm": capMask(ambient...), "CapEff": capMask(ambient...),
			"CapInh": capMask(ambient...), "CapAmb": capMask(ambient...),
		} {
			if got := statusField(t, status, field); got != w {
				t.Errorf("%s = %s, want %s", field, got, w)
			}
		}
	})
}

func TestConfigNoNewPrivileges(t *testing.T) {
	for _, nnp := range []bool{true, false} {
		t.Run(strconv.FormatBool(nnp), func(t *testing.T) {
			b := newBerth(t)
			bun := newBundle(t, "cat", "/proc/self/status")
			bun.Spec.Process.NoNewPrivileges = nnp
			want := "0"
			if nnp {
				want = "1"
			}
			if got := statusField(t, runInside(t, b, bun, "nnp"), "NoNewPrivs"); got != want {
				t.Errorf("NoNewPrivs = %s, want %s", got, want)
			}
		})
	}
}

func TestConfigStdioWithoutTerminal(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t)
	script(bun, `cat; [ -t 0 ] && echo stdin=tty || echo stdin=not-tty; echo to-stderr >&2`)
	bun.Spec.Process.Terminal = false
	bun.Save(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	const input = "line one\nline two from the pipe\n"
	go func() {
		_, _ = w.WriteString(input)
		w.Close()
	}()
	res := b.RunStdin(r, "run", "--bundle", bun.Dir, "stdio")
	r.Close()
	if res.Code != 0 {
		t.Fatalf("run: %v", res)
	}
	if want := input + "stdin=not-tty\n"; res.Stdout != want {
		t.Errorf("stdout = %q, want the piped input echoed back, then stdin=not-tty", res.Stdout)
	}
	if !strings.Contains(res.Stderr, "to-stderr\n") {
		t.Errorf("the container's stderr did not reach berth's: %q", res.Stderr)
	}
}

func TestConfigHostnameAndDomainname(t *testing.T) {
	before, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	b := newBerth(t)
	bun := newBundle(t)
	script(bun, `hostname; cat /proc/sys/kernel/hostname /proc/sys/kernel/domainname`)
	bun.Spec.Hostname = "cfg-host"
	bun.Spec.Domainname = "cfg.example"
	if out := runInside(t, b, bun, "names"); out != "cfg-host\ncfg-host\ncfg.example\n" {
		t.Errorf("hostname, kernel.hostname, kernel.domainname = %q, want cfg-host, cfg-host, cfg.example", out)
	}
	if after, _ := os.Hostname(); after != before {
		t.Errorf("the host's hostname changed from %q to %q", before, after)
	}
}

func TestConfigSysctl(t *testing.T) {
	hostValue := func() string {
		data, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	before := hostValue()
	b := newBerth(t)
	bun := newBundle(t, "cat", "/proc/sys/net/ipv4/ip_forward")
	want := "1\n"
	if before == "1\n" {
		want = "0\n"
	}
	bun.Spec.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": strings.TrimSpace(want)}
	if out := runInside(t, b, bun, "sysctl"); out != want {
		t.Errorf("net.ipv4.ip_forward inside = %q, want %q", out, want)
	}
	if hostValue() != before {
		t.Errorf("the host's net.ipv4.ip_forward changed")
	}
}

const nsScript = `echo "== ns"; for ns in pid net ipc uts mnt cgroup; do echo "$ns $(readlink /proc/self/ns/$ns)"; done
echo "== pid"; echo $$
echo "== ps"; ps -o pid,comm
echo "== links"; ip -o link
echo "== loflags"; cat /sys/class/net/lo/flags
echo "== cgroup"; cat /proc/self/cgroup`

func containerNS(t *testing.T, out string) map[string]string {
	t.Helper()
	links := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(section(t, out, "ns")), "\n") {
		if name, link, ok := strings.Cut(line, " "); ok {
			links[name] = link
		}
	}
	return links
}

func TestConfigNamespaces(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t)
	script(bun, nsScript)
	out := runInside(t, b, bun, "ns")
	inside := containerNS(t, out)
	for _, ns := range []string{"pid", "net", "ipc", "uts", "mnt", "cgroup"} {
		if inside[ns] == "" || inside[ns] == hostNS(t, ns) {
			t.Errorf("%s namespace inside is %q, want a new one (host: %s)", ns, inside[ns], hostNS(t, ns))
		}
	}
	if pid := strings.TrimSpace(section(t, out, "pid")); pid != "1" {
		t.Errorf("the container's process is pid %s, want 1", pid)
	}
	// Only the container's processes: the shell as pid 1 and ps.
	var procs []string
	for _, line := range strings.Split(strings.TrimSpace(section(t, out, "ps")), "\n")[1:] {
		procs = append(procs, strings.Join(strings.Fields(line), " "))
	}
	if len(procs) != 2 || procs[0] != "1 sh" || !strings.HasSuffix(procs[1], " ps") {
		t.Errorf("ps inside shows %q, want only 1 sh and ps", procs)
	}
	// A new network namespace holds only lo, and berth brings it up.
	links := strings.Split(strings.TrimSpace(section(t, out, "links")), "\n")
	if len(links) != 1 || !strings.Contains(links[0], " lo: ") || !strings.Contains(links[0], ",UP") {
		t.Errorf("links inside: %q, want only lo, UP", links)
	}
	if flags, err := strconv.ParseUint(strings.TrimSpace(section(t, out, "loflags")), 0, 32); err != nil || flags&unix.IFF_UP == 0 {
		t.Errorf("lo flags %q: not IFF_UP (%v)", section(t, out, "loflags"), err)
	}
	// With a cgroup namespace the container's cgroup is its root.
	for _, line := range strings.Split(strings.TrimSpace(section(t, out, "cgroup")), "\n") {
		if !strings.HasSuffix(line, ":/") {
			t.Errorf("/proc/self/cgroup inside shows %q, want the namespace root /", line)
		}
	}
}

// Without a namespace in the config the container shares the host's: the
// control for TestConfigNamespaces.
func TestConfigNamespacesShared(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t)
	script(bun, nsScript)
	var kept []specs.LinuxNamespace
	for _, ns := range bun.Spec.Linux.Namespaces {
		if ns.Type == specs.PIDNamespace || ns.Type == specs.MountNamespace {
			kept = append(kept, ns)
		}
	}
	bun.Spec.Linux.Namespaces = kept
	bun.Spec.Hostname = ""
	out := runInside(t, b, bun, "nons")
	inside := containerNS(t, out)
	for _, ns := range []string{"net", "ipc", "uts", "cgroup"} {
		if inside[ns] != hostNS(t, ns) {
			t.Errorf("%s namespace inside is %s, want the host's %s", ns, inside[ns], hostNS(t, ns))
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(section(t, out, "cgroup")), "\n") {
		if !strings.HasSuffix(line, "/nons") {
			t.Errorf("/proc/self/cgroup inside shows %q, want the container's own cgroup .../nons", line)
		}
	}
}

func TestConfigBindMounts(t *testing.T) {
	b := newBerth(t)
	host := t.TempDir()
	dir := filepath.Join(host, "dir")
	mustMkdir(t, dir)
	writeFile(t, filepath.Join(dir, "hello.txt"), "from host\n")
	rwFile, roFile := filepath.Join(host, "rw.conf"), filepath.Join(host, "ro.conf")
	writeFile(t, rwFile, "rw v1\n")
	writeFile(t, roFile, "ro v1\n")

	bun := newBundle(t)
	for _, m := range []specs.Mount{
		{Destination: "/data-rw", Type: "bind", Source: dir, Options: []string{"bind"}},
		{Destination: "/data-ro", Type: "bind", Source: dir, Options: []string{"bind", "ro"}},
		{Destination: "/data-none", Type: "none", Source: dir, Options: []string{"rbind", "ro"}},
		{Destination: "/etc/rw.conf", Type: "bind", Source: rwFile, Options: []string{"bind"}},
		{Destination: "/etc/ro.conf", Type: "bind", Source: roFile, Options: []string{"bind", "ro"}},
	} {
		addMount(bun, m)
	}
	script(bun, `cat /data-rw/hello.txt /data-ro/hello.txt /data-none/hello.txt /etc/rw.conf /etc/ro.conf
echo from-container > /data-rw/new.txt && echo dir-rw=ok
touch /data-ro/x; echo "dir-ro=$?"
touch /data-none/x; echo "dir-none=$?"
echo "rw v2" > /etc/rw.conf && echo file-rw=ok
echo "ro v2" > /etc/ro.conf; echo "file-ro=$?"
echo "== mounts"; cat /proc/self/mountinfo`)
	bun.Save(t)
	r := b.RunContainer(bun, "binds")
	if r.Code != 0 {
		t.Fatalf("run: %v", r)
	}
	seen := before(r.Stdout, "== mounts")
	if want := "from host\nfrom host\nfrom host\nrw v1\nro v1\ndir-rw=ok\ndir-ro=1\ndir-none=1\nfile-rw=ok\nfile-ro=1\n"; seen != want {
		t.Errorf("inside the container:\n%s\nwant:\n%s\nstderr: %s", seen, want, r.Stderr)
	}
	if got := strings.Count(r.Stderr, "Read-only file system"); got != 3 {
		t.Errorf("%d writes failed with EROFS, want 3 (the ro dir, type none ro dir, ro file): %q", got, r.Stderr)
	}
	ms := parseMountinfo(t, section(t, r.Stdout, "mounts"))
	for point, ro := range map[string]bool{"/data-rw": false, "/data-ro": true, "/data-none": true, "/etc/rw.conf": false, "/etc/ro.conf": true} {
		m := mountAt(t, ms, point)
		if m.has("ro") != ro {
			t.Errorf("%s: ro = %v, want %v: %s", point, m.has("ro"), ro, m.Line)
		}
	}
	if data, err := os.ReadFile(filepath.Join(dir, "new.txt")); err != nil || string(data) != "from-container\n" {
		t.Errorf("write through the rw bind not on the host: %q, %v", data, err)
	}
	if data, _ := os.ReadFile(rwFile); string(data) != "rw v2\n" {
		t.Errorf("write through the rw file bind not on the host: %q", data)
	}
	if data, _ := os.ReadFile(roFile); string(data) != "ro v1\n" {
		t.Errorf("the ro file bind let a write through: %q", data)
	}
}

func TestConfigRbind(t *testing.T) {
	b := newBerth(t)
	dir := filepath.Join(t.TempDir(), "dir")
	sub := filepath.Join(dir, "sub")
	mustMkdir(t, sub)
	hostMount(t, "tmpfs", sub, "tmpfs", 0, "size=1m")
	writeFile(t, filepath.Join(sub, "marker"), "in the submount\n")

	bun := newBundle(t)
	addMount(bun, specs.Mount{Destination: "/bind", Type: "bind", Source: dir, Options: []string{"bind"}})
	addMount(bun, specs.Mount{Destination: "/rbind", Type: "bind", Source: dir, Options: []string{"rbind"}})
	script(bun, `echo "== bind"; ls -A /bind/sub; echo "== rbind"; cat /rbind/sub/marker; echo "== mounts"; cat /proc/self/mountinfo`)
	out := runInside(t, b, bun, "rbind")
	if got := section(t, out, "bind"); got != "" {
		t.Errorf("a plain bind carried the submount along: /bind/sub holds %q", got)
	}
	if got := section(t, out, "rbind"); got != "in the submount\n" {
		t.Errorf("rbind did not carry the submount: /rbind/sub/marker = %q", got)
	}
	if m := mountAt(t, parseMountinfo(t, section(t, out, "mounts")), "/rbind/sub"); m.FSType != "tmpfs" {
		t.Errorf("/rbind/sub is %s, want the host's tmpfs", m.FSType)
	}
}

func TestConfigMountFlags(t *testing.T) {
	b := newBerth(t)
	host := t.TempDir()
	// A directory with an executable and a device node, to see noexec
	// and nodev deny what they should.
	tools := filepath.Join(host, "tools")
	mustMkdir(t, tools)
	data, err := os.ReadFile(busyboxPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tools, "echo"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(filepath.Join(tools, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(tools, "null"), 0o666); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		m         specs.Mount
		want, not []string
	}{
		{specs.Mount{Destination: "/f/nosuid-nodev-noexec", Type: "tmpfs", Options: []string{"nosuid", "nodev", "noexec"}}, []string{"nosuid", "nodev", "noexec"}, nil},
		{specs.Mount{Destination: "/f/noatime", Type: "tmpfs", Options: []string{"noatime", "nodiratime"}}, []string{"noatime", "nodiratime"}, []string{"relatime"}},
		{specs.Mount{Destination: "/f/strictatime", Type: "tmpfs", Options: []string{"strictatime"}}, nil, []string{"relatime", "noatime"}},
		{specs.Mount{Destination: "/f/relatime", Type: "tmpfs", Options: []string{"relatime"}}, []string{"relatime"}, nil},
		{specs.Mount{Destination: "/f/sync", Type: "tmpfs", Options: []string{"sync", "dirsync"}}, []string{"sync", "dirsync"}, nil},
		{specs.Mount{Destination: "/f/ro-then-rw", Type: "tmpfs", Options: []string{"ro", "rw"}}, []string{"rw"}, []string{"ro"}},
		{specs.Mount{Destination: "/f/rw-then-ro", Type: "tmpfs", Options: []string{"rw", "ro"}}, []string{"ro"}, []string{"rw"}},
		{specs.Mount{Destination: "/f/nosymfollow", Type: "tmpfs", Options: []string{"nosymfollow", "lazytime"}}, []string{"nosymfollow", "lazytime"}, nil},
		{specs.Mount{Destination: "/f/bind-flags", Type: "bind", Source: tools, Options: []string{"bind", "ro", "nosuid", "nodev", "noexec", "noatime"}},
			[]string{"ro", "nosuid", "nodev", "noexec", "noatime"}, nil},
		{specs.Mount{Destination: "/f/bind-suid", Type: "bind", Source: tools, Options: []string{"rbind", "suid", "dev", "exec"}}, []string{"rw"}, []string{"nosuid", "nodev", "noexec"}},
		{specs.Mount{Destination: "/x/exec", Type: "bind", Source: tools, Options: []string{"bind"}}, nil, []string{"noexec", "nodev"}},
		{specs.Mount{Destination: "/x/noexec", Type: "bind", Source: tools, Options: []string{"bind", "noexec"}}, []string{"noexec"}, nil},
		{specs.Mount{Destination: "/x/nodev", Type: "bind", Source: tools, Options: []string{"bind", "nodev"}}, []string{"nodev"}, nil},
	}
	bun := newBundle(t)
	for _, c := range cases {
		if c.m.Type == "tmpfs" {
			c.m.Source = "tmpfs"
		}
		addMount(bun, c.m)
	}
	script(bun, `/x/exec/echo exec=ok
/x/noexec/echo noexec=ran; echo "noexec=$?"
echo > /x/exec/null && echo dev=ok
echo > /x/nodev/null; echo "nodev=$?"
echo "== mounts"; cat /proc/self/mountinfo`)
	bun.Save(t)
	r := b.RunContainer(bun, "flags")
	if r.Code != 0 {
		t.Fatalf("run: %v", r)
	}
	ms := parseMountinfo(t, section(t, r.Stdout, "mounts"))
	for _, c := range cases {
		m := mountAt(t, ms, c.m.Destination)
		for _, o := range c.want {
			if !m.has(o) {
				t.Errorf("%s with %v: no %s in %s", c.m.Destination, c.m.Options, o, m.Line)
			}
		}
		for _, o := range c.not {
			if m.has(o) {
				t.Errorf("%s with %v: unwanted %s in %s", c.m.Destination, c.m.Options, o, m.Line)
			}
		}
	}
	if seen := before(r.Stdout, "== mounts"); seen != "exec=ok\nnoexec=126\ndev=ok\nnodev=1\n" {
		t.Errorf("inside the container:\n%s\nwant exec=ok, noexec=126 (a noexec binary did not run), dev=ok, nodev=1\nstderr: %s", seen, r.Stderr)
	}
	if got := strings.Count(r.Stderr, "Permission denied"); got != 2 {
		t.Errorf("want EACCES from the noexec exec and the nodev open, stderr: %q", r.Stderr)
	}
}

func TestConfigTmpfsSizeAndMode(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t)
	addMount(bun, specs.Mount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=2m", "mode=1750", "uid=1000", "gid=7"}})
	script(bun, `stat -c "%a %u %g" /scratch; df -k /scratch | tail -n 1
dd if=/dev/zero of=/scratch/fill bs=1k count=3072 2>/dev/null; echo "fill=$?"
echo "== mounts"; cat /proc/self/mountinfo`)
	out := runInside(t, b, bun, "tmpfs")
	lines := strings.Split(out, "\n")
	if lines[0] != "1750 1000 7" {
		t.Errorf("stat /scratch = %q, want mode 1750 owned by 1000:7", lines[0])
	}
	if f := strings.Fields(lines[1]); len(f) < 2 || f[1] != "2048" {
		t.Errorf("df /scratch = %q, want 2048 1K-blocks", lines[1])
	}
	// The size is a real limit: 3 MiB do not fit.
	if !strings.Contains(out, "fill=1\n") {
		t.Errorf("writing 3 MiB to a 2 MiB tmpfs did not fail: %q", out)
	}
	m := mountAt(t, parseMountinfo(t, section(t, out, "mounts")), "/scratch")
	if m.FSType != "tmpfs" || !m.has("size=2048k") || !m.has("mode=1750") {
		t.Errorf("/scratch mount: %s", m.Line)
	}
}

func TestConfigSpecialFilesystems(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t)
	script(bun, `echo "== proc"; cat /proc/self/comm
echo "== sysfs"; ls /sys/class/net
echo "== pts"; stat -c %F /dev/pts/ptmx
echo "== sys-ro"; touch /sys/kernel/x 2>&1
echo "== mounts"; cat /proc/self/mountinfo`)
	out := runInside(t, b, bun, "special")
	ms := parseMountinfo(t, section(t, out, "mounts"))
	for _, want := range []struct {
		point, fstype string
		opts          []string
	}{
		{"/proc", "proc", nil},
		{"/dev", "tmpfs", []string{"nosuid", "mode=755"}},
		{"/dev/pts", "devpts", []string{"nosuid", "noexec", "gid=5", "mode=620", "ptmxmode=666"}},
		{"/dev/shm", "tmpfs", []string{"nosuid", "nodev", "noexec", "size=65536k"}},
		{"/dev/mqueue", "mqueue", []string{"nosuid", "nodev", "noexec"}},
		{"/sys", "sysfs", []string{"ro", "nosuid", "nodev", "noexec"}},
	} {
		m := mountAt(t, ms, want.point)
		if m.FSType != want.fstype {
			t.Errorf("%s is %s, want %s: %s", want.point, m.FSType, want.fstype, m.Line)
		}
		for _, o := range want.opts {
			if !m.has(o) {
				t.Errorf("%s lacks %s: %s", want.point, o, m.Line)
			}
		}
	}
	// Each works: procfs shows this process, sysfs this network namespace,
	// devpts its own ptmx.
	if got := section(t, out, "proc"); got != "cat\n" {
		t.Errorf("/proc/self/comm = %q", got)
	}
	if got := section(t, out, "sysfs"); got != "lo\n" {
		t.Errorf("/sys/class/net = %q, want only lo", got)
	}
	if got := section(t, out, "pts"); got != "character special file\n" {
		t.Errorf("/dev/pts/ptmx is %q", got)
	}
	if got := section(t, out, "sys-ro"); !strings.Contains(got, "Read-only file system") {
		t.Errorf("writing under a ro /sys: %q, want EROFS", got)
	}
}

// hostCgroupMounts returns where the host mounts cgroup hierarchies: the
// v1 hierarchies under /sys/fs/cgroup, or /sys/fs/cgroup itself on a
// unified host.
func hostCgroupMounts(t *testing.T) []string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var points []string
	for _, m := range parseMountinfo(t, string(data)) {
		switch {
		case m.FSType == "cgroup" && strings.HasPrefix(m.Point, "/sys/fs/cgroup/"),
			m.FSType == "cgroup2" && m.Point == "/sys/fs/cgroup":
			points = append(points, m.Point)
		}
	}
	if len(points) == 0 {
		t.Fatal("no cgroup hierarchy mounted under /sys/fs/cgroup on the host")
	}
	return points
}

func TestConfigCgroupMount(t *testing.T) {
	// cgroup.procs of every hierarchy the container sees, then an attempt
	// to make a child cgroup in the first one.
	const cgScript = `procs=$(ls /sys/fs/cgroup/cgroup.procs /sys/fs/cgroup/*/cgroup.procs 2>/dev/null)
echo "== procs"; cat $procs
echo "== subdirs"; find /sys/fs/cgroup -mindepth 2 -type d | head
echo "== mkdir"; mkdir "$(dirname "$(echo "$procs" | head -n 1)")/child" 2>&1
echo "== touch"; touch /sys/fs/cgroup/x 2>&1
echo "== mounts"; cat /proc/self/mountinfo`
	for _, withNS := range []bool{true, false} {
		t.Run(fmt.Sprintf("cgroupns=%v", withNS), func(t *testing.T) {
			b := newBerth(t)
			bun := newBundle(t)
			script(bun, cgScript)
			if !withNS {
				bun.Spec.Linux.Namespaces = slices.DeleteFunc(bun.Spec.Linux.Namespaces, func(ns specs.LinuxNamespace) bool {
					return ns.Type == specs.CgroupNamespace
				})
			}
			out := runInside(t, b, bun, "cgmount")
			ms := parseMountinfo(t, section(t, out, "mounts"))
			if m := mountAt(t, ms, "/sys/fs/cgroup"); !m.has("ro") {
				t.Errorf("/sys/fs/cgroup is not read-only: %s", m.Line)
			}
			for _, point := range hostCgroupMounts(t) {
				m := mountAt(t, ms, point)
				if !strings.HasPrefix(m.FSType, "cgroup") || !m.has("ro") {
					t.Errorf("%s: want a read-only cgroup mount: %s", point, m.Line)
				}
				// The mount's root is the container's own cgroup: the
				// namespace root, or the container's cgroup directory.
				if withNS && m.Root != "/" || !withNS && !strings.HasSuffix(m.Root, "/cgmount") {
					t.Errorf("%s shows cgroup %s, want the container's own", point, m.Root)
				}
			}
			// Only the container's processes are in the cgroups it sees:
			// the shell (pid 1) and the cat.
			pids := map[string]bool{}
			for _, p := range strings.Fields(section(t, out, "procs")) {
				pids[p] = true
			}
			if len(pids) == 0 || len(pids) > 2 || !pids["1"] {
				t.Errorf("cgroup.procs inside lists pids %v, want only the container's 1 and cat", pids)
			}
			if got := section(t, out, "subdirs"); got != "" {
				t.Errorf("the container sees cgroups below its own: %q", got)
			}
			for _, s := range []string{"mkdir", "touch"} {
				if got := section(t, out, s); !strings.Contains(got, "Read-only file system") {
					t.Errorf("%s in /sys/fs/cgroup: %q, want EROFS", s, got)
				}
			}
		})
	}
}

func TestConfigMountPointsCreatedInsideRootfs(t *testing.T) {
	b := newBerth(t)
	file := filepath.Join(t.TempDir(), "file.conf")
	writeFile(t, file, "bound file\n")
	bun := newBundle(t)
	// An absolute symlink in the image resolves inside the rootfs: the
	// mount point for /escape/<name> is made in the rootfs's /etc, never in
	// the host's /etc.
	const name = "berth-cfg-mount-point"
	if err := os.Symlink("/etc", filepath.Join(bun.Rootfs(), "escape")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(filepath.Join("/etc", name)) }) // only if berth wrongly made it
	addMount(bun, specs.Mount{Destination: "/berth-cfg-new/a/b/c", Type: "tmpfs", Source: "tmpfs"})
	addMount(bun, specs.Mount{Destination: "/berth-cfg-file/x/y/file.conf", Type: "bind", Source: file, Options: []string{"bind", "ro"}})
	addMount(bun, specs.Mount{Destination: "/escape/" + name, Type: "tmpfs", Source: "tmpfs"})
	script(bun, `cat /berth-cfg-file/x/y/file.conf; echo "== mounts"; cat /proc/self/mountinfo`)
	out := runInside(t, b, bun, "mkpoints")
	if !strings.HasPrefix(out, "bound file\n") {
		t.Errorf("the file bound to a missing nested path reads %q", out)
	}
	ms := parseMountinfo(t, section(t, out, "mounts"))
	for _, p := range []string{"/berth-cfg-new/a/b/c", "/etc/" + name} {
		if m := mountAt(t, ms, p); m.FSType != "tmpfs" {
			t.Errorf("%s is not the tmpfs: %s", p, m.Line)
		}
	}
	if m := mountAt(t, ms, "/berth-cfg-file/x/y/file.conf"); !m.has("ro") {
		t.Errorf("the file bind is not ro: %s", m.Line)
	}
	for _, p := range []string{"berth-cfg-new/a/b/c", "berth-cfg-file/x/y/file.conf", "etc/" + name} {
		if _, err := os.Lstat(filepath.Join(bun.Rootfs(), p)); err != nil {
			t.Errorf("mount point %s not created inside the rootfs: %v", p, err)
		}
	}
	for _, p := range []string{"/berth-cfg-new", "/berth-cfg-file", "/etc/" + name} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("mount point created on the host at %s, outside the rootfs", p)
		}
	}
}

func TestConfigMountOrder(t *testing.T) {
	b := newBerth(t)
	host := t.TempDir()
	dirA, dirB := filepath.Join(host, "a"), filepath.Join(host, "b")
	mustMkdir(t, dirA)
	mustMkdir(t, dirB)
	writeFile(t, filepath.Join(dirA, "marker"), "A\n")
	writeFile(t, filepath.Join(dirB, "marker"), "B\n")
	bind := func(src, dst string) specs.Mount {
		return specs.Mount{Destination: dst, Type: "bind", Source: src, Options: []string{"bind"}}
	}
	tmpfs := func(dst string) specs.Mount { return specs.Mount{Destination: dst, Type: "tmpfs", Source: "tmpfs"} }
	bun := newBundle(t)
	for _, m := range []specs.Mount{
		bind(dirA, "/ab"), bind(dirB, "/ab"), // B on top of A
		bind(dirB, "/ba"), bind(dirA, "/ba"), // A on top of B
		tmpfs("/nested"), bind(dirA, "/nested/sub"), // the bind lands in the tmpfs
		bind(dirA, "/hidden/sub"), tmpfs("/hidden"), // the tmpfs hides the bind
	} {
		addMount(bun, m)
	}
	script(bun, `cat /ab/marker /ba/marker /nested/sub/marker; ls -A /hidden; echo end`)
	if out := runInside(t, b, bun, "order"); out != "B\nA\nA\nend\n" {
		t.Errorf("mounts not applied in order: got %q, want B, A, A, an empty /hidden", out)
	}
}

// shareRootfs makes the bundle's rootfs a shared mount on the host, as a
// container engine's rootfs (an overlay under a shared /run) is on a
// systemd host, so that propagation has something to act on.
func shareRootfs(t *testing.T, bun *bundle) {
	t.Helper()
	hostMount(t, bun.Rootfs(), bun.Rootfs(), "", unix.MS_BIND, "")
	if err := unix.Mount("", bun.Rootfs(), "", unix.MS_SHARED, ""); err != nil {
		t.Fatal(err)
	}
}

func TestConfigRootfsPropagation(t *testing.T) {
	for _, tc := range []struct {
		prop      string
		want, not []string // optional fields of / inside
	}{
		{"", []string{"master:"}, []string{"shared:"}}, // runc's default: rslave
		{"private", nil, []string{"shared:", "master:"}},
		{"rprivate", nil, []string{"shared:", "master:"}},
		// A non-recursive slave leaves the rootfs's own mount as it is;
		// runc makes it private then, so no master: is required.
		{"slave", nil, []string{"shared:"}},
		{"rslave", []string{"master:"}, []string{"shared:"}},
		{"shared", []string{"shared:"}, nil},
		{"rshared", []string{"shared:"}, nil},
		{"unbindable", []string{"unbindable"}, []string{"shared:"}},
	} {
		name := tc.prop
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			b := newBerth(t)
			bun := newBundle(t, "cat", "/proc/self/mountinfo")
			shareRootfs(t, bun)
			bun.Spec.Linux.RootfsPropagation = tc.prop
			bun.Save(t)
			r := b.RunContainer(bun, "prop")
			// Nothing the container mounted may show up on the host.
			if leaked := hostMountsUnder(t, bun.Rootfs())[1:]; len(leaked) != 0 {
				t.Errorf("%d container mounts leaked onto the host, such as:\n%s", len(leaked), strings.Join(leaked[:min(len(leaked), 4)], "\n"))
			}
			if r.Code != 0 {
				t.Fatalf("run with rootfsPropagation %q: %v", tc.prop, r)
			}
			root := mountAt(t, parseMountinfo(t, r.Stdout), "/")
			for _, w := range tc.want {
				if !root.hasOptional(w) {
					t.Errorf("/ lacks %s: %s", w, root.Line)
				}
			}
			for _, n := range tc.not {
				if root.hasOptional(n) {
					t.Errorf("/ has %s: %s", n, root.Line)
				}
			}
		})
	}
	// Without a shared mount on the host, "shared" still makes / shared.
	t.Run("shared on a private host mount", func(t *testing.T) {
		b := newBerth(t)
		bun := newBundle(t, "cat", "/proc/self/mountinfo")
		bun.Spec.Linux.RootfsPropagation = "shared"
		if root := mountAt(t, parseMountinfo(t, runInside(t, b, bun, "shared")), "/"); !root.hasOptional("shared:") {
			t.Errorf("/ is not shared: %s", root.Line)
		}
	})
}

// What propagation means: a slave root receives what the host mounts under
// the rootfs after the container started; a private one does not.
func TestConfigRootfsPropagationFromHost(t *testing.T) {
	for _, tc := range []struct {
		prop, want string
	}{
		{"rslave", "seen"},
		{"rprivate", "unseen"},
		{"private", "unseen"},
	} {
		t.Run(tc.prop, func(t *testing.T) {
			b := newBerth(t)
			bun := newBundle(t)
			// The container waits for the host's go-ahead, then looks.
			script(bun, `i=0; while [ ! -e /go ] && [ $i -lt 250 ]; do usleep 20000; i=$((i+1)); done
if [ -e /mnt/marker ]; then echo seen > /result; else echo unseen > /result; fi`)
			bun.Spec.Root.Readonly = false
			bun.Spec.Linux.RootfsPropagation = tc.prop
			mustMkdir(t, filepath.Join(bun.Rootfs(), "mnt"))
			shareRootfs(t, bun)
			bun.Save(t)
			b.MustRun("run", "-d", "--bundle", bun.Dir, "fromhost")
			t.Cleanup(func() { b.Run("delete", "--force", "fromhost") })

			hostMount(t, "tmpfs", filepath.Join(bun.Rootfs(), "mnt"), "tmpfs", 0, "size=1m")
			writeFile(t, filepath.Join(bun.Rootfs(), "mnt", "marker"), "from the host\n")
			writeFile(t, filepath.Join(bun.Rootfs(), "go"), "")
			result := filepath.Join(bun.Rootfs(), "result")
			deadline := time.Now().Add(10 * time.Second)
			for {
				if data, err := os.ReadFile(result); err == nil && strings.HasSuffix(string(data), "\n") {
					if got := strings.TrimSpace(string(data)); got != tc.want {
						t.Errorf("host mount made after start: %s inside, want %s", got, tc.want)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the container wrote no result")
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

func TestConfigPivotRoot(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
	}{
		{"pivot_root", nil},
		{"no-pivot", []string{"--no-pivot"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBerth(t)
			bun := newBundle(t)
			writeFile(t, filepath.Join(bun.Rootfs(), "etc", "marker"), "the bundle's rootfs\n")
			script(bun, `cat /etc/marker; echo "== mounts"; cat /proc/self/mountinfo`)
			out := runInside(t, b, bun, "pivot", tc.flags...)
			if !strings.HasPrefix(out, "the bundle's rootfs\n") {
				t.Errorf("/ is not the rootfs: %q", out)
			}
			ms := parseMountinfo(t, section(t, out, "mounts"))
			if root := mountAt(t, ms, "/"); !strings.HasSuffix(bun.Rootfs(), root.Root) || root.Root == "/" {
				t.Errorf("/ is %s, want the rootfs %s", root.Line, bun.Rootfs())
			}
			// Only the container's own mounts are visible: none of the
			// host's, no old root.
			allowed := map[string]bool{"/": true}
			for _, m := range bun.Spec.Mounts {
				allowed[m.Destination] = true
			}
			for _, p := range append(slices.Clone(bun.Spec.Linux.MaskedPaths), bun.Spec.Linux.ReadonlyPaths...) {
				allowed[p] = true
			}
			for _, m := range ms {
				if !allowed[m.Point] && !strings.HasPrefix(m.Point, "/sys/fs/cgroup/") {
					t.Errorf("a mount the config did not ask for is visible: %s", m.Line)
				}
			}
		})
	}
}

func TestConfigDefaultDevices(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t)
	script(bun, `echo "== nodes"; for d in null zero full random urandom tty; do stat -c "%n %F %t:%T %a" /dev/$d; done
echo "== links"; for l in ptmx fd stdin stdout stderr; do echo "$l -> $(readlink /dev/$l)"; done
echo "== ptmx"; stat -L -c "%F %t:%T" /dev/ptmx
echo "== full"; echo x > /dev/full; echo "rc=$?"
echo "== zero"; head -c 8 /dev/zero | od -An -tx1
echo "== urandom"; head -c 16 /dev/urandom | wc -c
echo "== null"; echo discarded > /dev/null; wc -c < /dev/null
echo "== stdout"; (echo via-dev-stdout > /dev/stdout) | cat
echo "== mounts"; cat /proc/self/mountinfo`)
	bun.Save(t)
	r := b.RunContainer(bun, "devices")
	if r.Code != 0 {
		t.Fatalf("run: %v", r)
	}
	out := r.Stdout
	wantNodes := "/dev/null character special file 1:3 666\n" +
		"/dev/zero character special file 1:5 666\n" +
		"/dev/full character special file 1:7 666\n" +
		"/dev/random character special file 1:8 666\n" +
		"/dev/urandom character special file 1:9 666\n" +
		"/dev/tty character special file 5:0 666\n"
	if got := section(t, out, "nodes"); got != wantNodes {
		t.Errorf("default device nodes:\n%s\nwant:\n%s", got, wantNodes)
	}
	wantLinks := "ptmx -> pts/ptmx\nfd -> /proc/self/fd\nstdin -> /proc/self/fd/0\nstdout -> /proc/self/fd/1\nstderr -> /proc/self/fd/2\n"
	if got := section(t, out, "links"); got != wantLinks {
		t.Errorf("/dev links:\n%s\nwant:\n%s", got, wantLinks)
	}
	if got := section(t, out, "ptmx"); got != "character special file 5:2\n" {
		t.Errorf("/dev/ptmx resolves to %q, want the devpts ptmx 5:2", got)
	}
	if got := section(t, out, "full"); got != "rc=1\n" || !strings.Contains(r.Stderr, "No space left on device") {
		t.Errorf("writing /dev/full: %q, stderr %q; want ENOSPC", got, r.Stderr)
	}
	if got := strings.TrimSpace(section(t, out, "zero")); got != "00 00 00 00 00 00 00 00" {
		t.Errorf("/dev/zero reads %q", got)
	}
	if got := strings.TrimSpace(section(t, out, "urandom")); got != "16" {
		t.Errorf("read %s bytes of /dev/urandom, want 16", got)
	}
	if got := strings.TrimSpace(section(t, out, "null")); got != "0" {
		t.Errorf("/dev/null reads %s bytes, want 0", got)
	}
	if got := section(t, out, "stdout"); got != "via-dev-stdout\n" {
		t.Errorf("/dev/stdout wrote %q", got)
	}
	ms := parseMountinfo(t, section(t, out, "mounts"))
	for point, fstype := range map[string]string{"/dev": "tmpfs", "/dev/pts": "devpts", "/dev/shm": "tmpfs"} {
		if m := mountAt(t, ms, point); m.FSType != fstype {
			t.Errorf("%s is %s, want %s", point, m.FSType, fstype)
		}
	}
}

func TestConfigMaskedAndReadonlyPaths(t *testing.T) {
	b := newBerth(t)
	bun := newBundle(t)
	writeFile(t, filepath.Join(bun.Rootfs(), "etc", "secret.txt"), "secret\n")
	mustMkdir(t, filepath.Join(bun.Rootfs(), "etc", "secret.d"))
	writeFile(t, filepath.Join(bun.Rootfs(), "etc", "secret.d", "key"), "key\n")
	mustMkdir(t, filepath.Join(bun.Rootfs(), "data"))
	bun.Spec.Root.Readonly = false

	// The default masked paths this kernel has (it lacks some, such as
	// /proc/kcore), each holding something to hide; then two of the
	// image's own.
	var sh strings.Builder
	var masked []string
	for _, p := range bun.Spec.Linux.MaskedPaths {
		fi, err := os.Stat(p)
		if err != nil {
			continue
		}
		if fi.IsDir() {
			if entries, _ := os.ReadDir(p); len(entries) == 0 {
				continue
			}
			fmt.Fprintf(&sh, "echo '== %s'; ls -A %s\n", p, p)
		} else {
			if data, _ := os.ReadFile(p); len(data) == 0 {
				continue
			}
			fmt.Fprintf(&sh, "echo '== %s'; cat %s\n", p, p)
		}
		masked = append(masked, p)
	}
	if len(masked) < 2 {
		t.Fatalf("only %v of the default masked paths hold anything on this host", masked)
	}
	masked = append(masked, "/etc/secret.txt", "/etc/secret.d")
	sh.WriteString("echo '== /etc/secret.txt'; cat /etc/secret.txt\necho '== /etc/secret.d'; ls -A /etc/secret.d\n")
	bun.Spec.Linux.MaskedPaths = append(bun.Spec.Linux.MaskedPaths, "/etc/secret.txt", "/etc/secret.d")
	bun.Spec.Linux.ReadonlyPaths = append(bun.Spec.Linux.ReadonlyPaths, "/data")
	sh.WriteString(`echo "== proc-sys"; (echo cfg > /proc/sys/kernel/hostname) 2>&1; hostname
echo "== data"; touch /data/x 2>&1
echo "== root"; touch /root-is-writable && echo ok
echo "== mounts"; cat /proc/self/mountinfo`)
	script(bun, sh.String())
	out := runInside(t, b, bun, "masked")
	for _, p := range masked {
		if got := section(t, out, p); got != "" {
			t.Errorf("masked %s shows %q, want nothing", p, got)
		}
	}
	if got := section(t, out, "proc-sys"); !strings.Contains(got, "Read-only file system") || !strings.HasSuffix(got, "berth\n") {
		t.Errorf("writing read-only /proc/sys: %q, want EROFS and the hostname unchanged", got)
	}
	if got := section(t, out, "data"); !strings.Contains(got, "Read-only file system") {
		t.Errorf("writing read-only /data: %q, want EROFS", got)
	}
	if got := section(t, out, "root"); got != "ok\n" {
		t.Errorf("the root outside the read-only paths is not writable: %q", got)
	}
	ms := parseMountinfo(t, section(t, out, "mounts"))
	for _, p := range bun.Spec.Linux.ReadonlyPaths {
		if _, err := os.Stat(p); err != nil && strings.HasPrefix(p, "/proc/") {
			continue // this kernel lacks it (/proc/sysrq-trigger)
		}
		if m := mountAt(t, ms, p); !m.has("ro") {
			t.Errorf("read-only path %s is not mounted ro: %s", p, m.Line)
		}
	}
}
