package spec_test

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrt/berth/spec"
)

// minimalConfig is the smallest config.json that Load accepts.
const minimalConfig = `{"ociVersion": "1.0.2-dev", "process": {"args": ["sh"], "cwd": "/"}, "root": {"path": "rootfs"}, "linux": {}}`

// newBundle makes a bundle directory with an empty rootfs and, unless config
// is nil, a config.json holding *config.
func newBundle(t *testing.T, config *string) string {
	t.Helper()
	bundle := t.TempDir()
	if err := os.Mkdir(filepath.Join(bundle, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if config != nil {
		if err := os.WriteFile(filepath.Join(bundle, "config.json"), []byte(*config), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return bundle
}

// checkErr fails the test unless err contains want, in which "$B" stands for
// the bundle path; an empty want means no error is expected.
func checkErr(t *testing.T, err error, bundle, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	want = strings.ReplaceAll(want, "$B", bundle)
	if msg := err.Error(); !strings.Contains(msg, want) {
		t.Fatalf("error %q does not contain %q", msg, want)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("error %q spans more than one line", err)
	}
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name   string
		config string
		want   []string
	}{
		{name: "minimal", config: minimalConfig},
		{
			name: "unknown fields are extensions",
			config: `{"ociVersion": "1.0.0", "org.example.future": {"a": [1]},
				"process": {"args": ["sh"], "newKnob": true}, "root": {"path": "rootfs"}, "linux": {}}`,
		},
		{
			name:   "syntax error",
			config: "{\n  \"ociVersion\": \"1.0.0\",\n    }",
			want:   []string{`parse $B/config.json: invalid character '}'`, "at line 3 col 5"},
		},
		{
			name:   "column counts characters, not bytes",
			config: `{"hostname": "bérth" x}`,
			want:   []string{"invalid character 'x'", "at line 1 col 22"},
		},
		{
			name:   "trailing data",
			config: `{} x`,
			want:   []string{"after top-level value at line 1 col 4"},
		},
		{
			name:   "truncated",
			config: "{\"ociVersion\": \"1.0.0\"\n",
			want:   []string{"unexpected end of JSON input at line 1 col 23"},
		},
		{
			name:   "empty file",
			config: "",
			want:   []string{"parse $B/config.json: unexpected end of JSON input at line 1 col 1"},
		},
		{
			name:   "null",
			config: "null",
			want:   []string{"parse $B/config.json: want a JSON object at the top level, got null"},
		},
		{
			name:   "array",
			config: "[1, 2]",
			want:   []string{"want a JSON object at the top level, got array"},
		},
		{
			name:   "string",
			config: `"config"`,
			want:   []string{"want a JSON object at the top level, got string"},
		},
		{
			name:   "wrong type for a section",
			config: `{"process": "sh"}`,
			want:   []string{"parse $B/config.json: process: cannot decode JSON string into specs.Process at line 1 col 16"},
		},
		{
			name:   "wrong type for a nested field",
			config: "{\n \"process\": {\n  \"args\": 7\n }\n}",
			want:   []string{"process.args: cannot decode JSON number into []string at line 3 col 11"},
		},
		{
			name:   "number out of range",
			config: `{"process": {"user": {"uid": -1}}}`,
			want:   []string{"process.user.uid: cannot decode JSON number -1 into uint32"},
		},
		{
			name:   "unsupported version",
			config: strings.Replace(minimalConfig, "1.0.2-dev", "2.0.0", 1),
			want:   []string{`$B/config.json: ociVersion "2.0.0" is not supported (berth supports 1.x)`},
		},
		{
			name:   "validated after parsing",
			config: strings.Replace(minimalConfig, `["sh"]`, `[]`, 1),
			want:   []string{"$B/config.json: process.args must not be empty"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bundle := newBundle(t, &tt.config)
			s, _, err := spec.Load(bundle)
			if len(tt.want) == 0 {
				checkErr(t, err, bundle, "")
				if !slices.Equal(s.Process.Args, []string{"sh"}) {
					t.Errorf("process.args = %q, want [sh]", s.Process.Args)
				}
				return
			}
			for _, want := range tt.want {
				checkErr(t, err, bundle, want)
			}
		})
	}
}

func TestLoadUnreadable(t *testing.T) {
	tests := []struct {
		name   string
		bundle func(t *testing.T) string
		want   string
	}{
		{
			name:   "no config.json",
			bundle: func(t *testing.T) string { return newBundle(t, nil) },
			want:   `load bundle "$B": open config.json: no such file or directory`,
		},
		{
			name:   "no bundle",
			bundle: func(t *testing.T) string { return filepath.Join(t.TempDir(), "gone") },
			want:   `load bundle "$B": open config.json: no such file or directory`,
		},
		{
			name: "config.json is a directory",
			bundle: func(t *testing.T) string {
				bundle := newBundle(t, nil)
				if err := os.Mkdir(filepath.Join(bundle, "config.json"), 0o755); err != nil {
					t.Fatal(err)
				}
				return bundle
			},
			want: `load bundle "$B": read config.json: is a directory`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bundle := tt.bundle(t)
			_, _, err := spec.Load(bundle)
			checkErr(t, err, bundle, tt.want)
		})
	}

	t.Run("missing file is fs.ErrNotExist", func(t *testing.T) {
		_, _, err := spec.Load(newBundle(t, nil))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("errors.Is(%v, fs.ErrNotExist) = false", err)
		}
	})
}

// An empty bundle is the current directory, as with runc's --bundle.
func TestLoadEmptyBundle(t *testing.T) {
	config := minimalConfig
	t.Chdir(newBundle(t, &config))
	if _, _, err := spec.Load(""); err != nil {
		t.Fatal(err)
	}

	config = strings.Replace(minimalConfig, `"rootfs"`, `"nope"`, 1)
	dir := newBundle(t, &config)
	t.Chdir(dir)
	_, _, err := spec.Load("")
	checkErr(t, err, dir, `config.json: root.path "$B/nope" does not exist`)
	if !strings.HasPrefix(err.Error(), "config.json: ") {
		t.Errorf("error %q should name config.json relative to the current directory", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(s *specs.Spec, bundle string)
		want   string
	}{
		{name: "default", modify: func(*specs.Spec, string) {}},
		{
			name:   "no ociVersion",
			modify: func(s *specs.Spec, _ string) { s.Version = "" },
			want:   "config.json: ociVersion is missing",
		},
		{
			name:   "no process",
			modify: func(s *specs.Spec, _ string) { s.Process = nil },
			want:   "config.json: process is missing",
		},
		{
			name:   "no args",
			modify: func(s *specs.Spec, _ string) { s.Process.Args = nil },
			want:   "config.json: process.args must not be empty",
		},
		{
			name:   "relative cwd",
			modify: func(s *specs.Spec, _ string) { s.Process.Cwd = "tmp" },
			want:   `config.json: process.cwd "tmp" must be an absolute path`,
		},
		{
			name:   "cwd not set",
			modify: func(s *specs.Spec, _ string) { s.Process.Cwd = "" },
		},
		{
			name:   "no root",
			modify: func(s *specs.Spec, _ string) { s.Root = nil },
			want:   "config.json: root is missing",
		},
		{
			name:   "empty root.path",
			modify: func(s *specs.Spec, _ string) { s.Root.Path = "" },
			want:   "config.json: root.path must not be empty",
		},
		{
			name:   "missing rootfs",
			modify: func(s *specs.Spec, _ string) { s.Root.Path = "nope" },
			want:   `$B/config.json: root.path "$B/nope" does not exist`,
		},
		{
			name: "rootfs is a file",
			modify: func(s *specs.Spec, bundle string) {
				if err := os.WriteFile(filepath.Join(bundle, "file"), nil, 0o644); err != nil {
					panic(err)
				}
				s.Root.Path = "file"
			},
			want: `config.json: root.path "$B/file" is not a directory`,
		},
		{
			name: "rootfs is a symlink",
			modify: func(s *specs.Spec, bundle string) {
				if err := os.Symlink("rootfs", filepath.Join(bundle, "link")); err != nil {
					panic(err)
				}
				s.Root.Path = "link"
			},
			want: `config.json: root.path "$B/link" goes through a symlink (to "$B/rootfs")`,
		},
		{
			name: "rootfs below a symlink",
			modify: func(s *specs.Spec, bundle string) {
				if err := os.Symlink(".", filepath.Join(bundle, "here")); err != nil {
					panic(err)
				}
				s.Root.Path = "here/rootfs"
			},
			want: `config.json: root.path "$B/here/rootfs" goes through a symlink (to "$B/rootfs")`,
		},
		{
			name:   "absolute rootfs",
			modify: func(s *specs.Spec, bundle string) { s.Root.Path = filepath.Join(bundle, "rootfs") },
		},
		{
			name:   "relative mount destination",
			modify: func(s *specs.Spec, _ string) { s.Mounts[3].Destination = "tmp" },
			want:   `config.json: mounts[3].destination "tmp" must be an absolute path`,
		},
		{
			name:   "empty mount destination",
			modify: func(s *specs.Spec, _ string) { s.Mounts[0].Destination = "" },
			want:   `config.json: mounts[0].destination "" must be an absolute path`,
		},
		{
			name:   "no linux section",
			modify: func(s *specs.Spec, _ string) { s.Linux = nil },
			want:   "config.json: linux is missing",
		},
		{
			name:   "unknown namespace",
			modify: func(s *specs.Spec, _ string) { s.Linux.Namespaces[1].Type = "netwerk" },
			want:   `config.json: linux.namespaces[1].type "netwerk" is not a known namespace type (known: [pid network mount ipc uts user cgroup time])`,
		},
		{
			name:   "empty namespace type",
			modify: func(s *specs.Spec, _ string) { s.Linux.Namespaces[0].Type = "" },
			want:   `config.json: linux.namespaces[0].type "" is not a known namespace type`,
		},
		{
			name: "duplicate namespace",
			modify: func(s *specs.Spec, _ string) {
				s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace, Path: "/proc/1/ns/pid"})
			},
			want: `config.json: linux.namespaces[6].type "pid" is already given by linux.namespaces[0]`,
		},
		{
			name: "every namespace type",
			modify: func(s *specs.Spec, _ string) {
				s.Linux.Namespaces = append(s.Linux.Namespaces,
					specs.LinuxNamespace{Type: specs.UserNamespace},
					specs.LinuxNamespace{Type: specs.TimeNamespace})
				s.Linux.UIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
				s.Linux.GIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
			},
		},
		{
			name: "user namespace without mappings",
			modify: func(s *specs.Spec, _ string) {
				s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			},
			want: "config.json: linux.namespaces has a new user namespace but linux.uidMappings or linux.gidMappings is empty",
		},
		{
			name: "mappings without a user namespace",
			modify: func(s *specs.Spec, _ string) {
				s.Linux.UIDMappings = []specs.LinuxIDMapping{{HostID: 1000, Size: 1}}
			},
			want: "config.json: linux.uidMappings/gidMappings are set but linux.namespaces has no user namespace",
		},
		{
			name:   "relative namespace path",
			modify: func(s *specs.Spec, _ string) { s.Linux.Namespaces[1].Path = "proc/1/ns/net" },
			want:   `config.json: linux.namespaces[1].path "proc/1/ns/net" must be an absolute path`,
		},
		{
			name: "time offsets without a time namespace",
			modify: func(s *specs.Spec, _ string) {
				s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Secs: 1}}
			},
			want: "config.json: linux.timeOffsets is set but linux.namespaces has no new time namespace",
		},
		{
			name: "hostname without a uts namespace",
			modify: func(s *specs.Spec, _ string) {
				s.Linux.Namespaces = slices.DeleteFunc(s.Linux.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == specs.UTSNamespace })
			},
			want: "config.json: hostname is set but linux.namespaces has no uts namespace",
		},
		{
			name:   "device with a relative path",
			modify: func(s *specs.Spec, _ string) { s.Linux.Devices = []specs.LinuxDevice{{Path: "dev/x", Type: "c"}} },
			want:   `config.json: linux.devices[0].path "dev/x" must be an absolute path`,
		},
		{
			name:   "device of an unknown type",
			modify: func(s *specs.Spec, _ string) { s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "z"}} },
			want:   `config.json: linux.devices[0] (/dev/x): type "z" is not one of c, u, b, p`,
		},
		{
			name: "namespaced sysctls",
			modify: func(s *specs.Spec, _ string) {
				s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmax": "1", "fs.mqueue.msg_max": "5"}
			},
		},
		{
			name:   "host-wide sysctl",
			modify: func(s *specs.Spec, _ string) { s.Linux.Sysctl = map[string]string{"vm.swappiness": "1"} },
			want:   `config.json: linux.sysctl "vm.swappiness" is not isolated by any namespace`,
		},
		{
			name: "net sysctl without a network namespace",
			modify: func(s *specs.Spec, _ string) {
				s.Linux.Namespaces = slices.DeleteFunc(s.Linux.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == specs.NetworkNamespace })
				s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
			},
			want: `config.json: linux.sysctl "net.ipv4.ip_forward" needs a network namespace`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bundle := newBundle(t, nil)
			s := spec.Default()
			tt.modify(s, bundle)
			err := spec.Validate(s, bundle)
			checkErr(t, err, bundle, tt.want)
			if err != nil && !strings.HasPrefix(err.Error(), filepath.Join(bundle, "config.json")+": ") {
				t.Errorf("error %q does not start with the path of config.json", err)
			}
		})
	}
}

func TestVersions(t *testing.T) {
	tests := []struct {
		version string
		want    string
	}{
		{version: "1.0.0"},
		{version: "1.0.2-dev"},
		{version: "1.0.0-rc5-dev"},
		{version: "1.2.0-rc.1"},
		{version: "1.10.25+build.5"},
		{version: specs.Version},
		{version: "", want: "ociVersion is missing"},
		{version: "2.0.0", want: `ociVersion "2.0.0" is not supported (berth supports 1.x)`},
		{version: "0.5.0", want: `ociVersion "0.5.0" is not supported`},
		{version: "1.0", want: `ociVersion "1.0" is not a semantic version`},
		{version: "v1.0.0", want: `ociVersion "v1.0.0" is not a semantic version`},
		{version: "1.x.0", want: `ociVersion "1.x.0" is not a semantic version`},
		{version: "1..0", want: `ociVersion "1..0" is not a semantic version`},
		{version: "1.0.0.0", want: `ociVersion "1.0.0.0" is not a semantic version`},
		{version: "-dev", want: `ociVersion "-dev" is not a semantic version`},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			bundle := newBundle(t, nil)
			s := spec.Default()
			s.Version = tt.version
			checkErr(t, spec.Validate(s, bundle), bundle, tt.want)
		})
	}
}

func TestRootfsPath(t *testing.T) {
	cwd := t.TempDir()
	t.Chdir(cwd)
	tests := []struct {
		bundle, root, want string
	}{
		{bundle: "/b", root: "rootfs", want: "/b/rootfs"},
		{bundle: "/b", root: "./rootfs/", want: "/b/rootfs"},
		{bundle: "/b", root: "../shared/rootfs", want: "/shared/rootfs"},
		{bundle: "/b", root: "/srv/rootfs", want: "/srv/rootfs"},
		{bundle: "b", root: "rootfs", want: filepath.Join(cwd, "b/rootfs")},
		{bundle: "", root: "rootfs", want: filepath.Join(cwd, "rootfs")},
	}
	for _, tt := range tests {
		s := &specs.Spec{Root: &specs.Root{Path: tt.root}}
		if got := spec.RootfsPath(s, tt.bundle); got != tt.want {
			t.Errorf("RootfsPath(root.path %q, bundle %q) = %q, want %q", tt.root, tt.bundle, got, tt.want)
		}
	}
}

func TestDefault(t *testing.T) {
	s := spec.Default()

	if s.Version != specs.Version || s.Hostname != "berth" || s.Root.Path != "rootfs" || !s.Root.Readonly {
		t.Errorf("ociVersion %q, hostname %q, root %+v", s.Version, s.Hostname, *s.Root)
	}
	p := s.Process
	if !p.Terminal || p.User.UID != 0 || p.User.GID != 0 || !slices.Equal(p.Args, []string{"sh"}) ||
		p.Cwd != "/" || !p.NoNewPrivileges {
		t.Errorf("process = %+v", *p)
	}
	caps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	if c := p.Capabilities; !slices.Equal(c.Bounding, caps) || !slices.Equal(c.Effective, caps) ||
		!slices.Equal(c.Permitted, caps) || c.Inheritable != nil || c.Ambient != nil {
		t.Errorf("capabilities = %+v", *c)
	}
	if want := []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}}; !reflect.DeepEqual(p.Rlimits, want) {
		t.Errorf("rlimits = %+v", p.Rlimits)
	}

	var mounts []string
	for _, m := range s.Mounts {
		mounts = append(mounts, strings.Join([]string{m.Destination, m.Type, m.Source, strings.Join(m.Options, ",")}, " "))
	}
	wantMounts := []string{
		"/proc proc proc ",
		"/dev tmpfs tmpfs nosuid,strictatime,mode=755,size=65536k",
		"/dev/pts devpts devpts nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5",
		"/dev/shm tmpfs shm nosuid,noexec,nodev,mode=1777,size=65536k",
		"/dev/mqueue mqueue mqueue nosuid,noexec,nodev",
		"/sys sysfs sysfs nosuid,noexec,nodev,ro",
		"/sys/fs/cgroup cgroup cgroup nosuid,noexec,nodev,relatime,ro",
	}
	if !slices.Equal(mounts, wantMounts) {
		t.Errorf("mounts = %q, want %q", mounts, wantMounts)
	}

	var namespaces []specs.LinuxNamespaceType
	for _, ns := range s.Linux.Namespaces {
		namespaces = append(namespaces, ns.Type)
	}
	wantNamespaces := []specs.LinuxNamespaceType{"pid", "network", "ipc", "uts", "mount", "cgroup"}
	if !slices.Equal(namespaces, wantNamespaces) {
		t.Errorf("namespaces = %q, want %q", namespaces, wantNamespaces)
	}
	if want := []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}; !reflect.DeepEqual(s.Linux.Resources.Devices, want) {
		t.Errorf("device rules = %+v, want deny all", s.Linux.Resources.Devices)
	}
	if len(s.Linux.MaskedPaths) != 11 || !slices.Contains(s.Linux.MaskedPaths, "/sys/devices/virtual/powercap") {
		t.Errorf("maskedPaths = %q", s.Linux.MaskedPaths)
	}
	if len(s.Linux.ReadonlyPaths) != 5 || !slices.Contains(s.Linux.ReadonlyPaths, "/proc/sysrq-trigger") {
		t.Errorf("readonlyPaths = %q", s.Linux.ReadonlyPaths)
	}

	// Callers edit the result (flags of `berth spec`), so the sets must not share memory.
	s.Process.Capabilities.Bounding[0] = "CAP_SYS_ADMIN"
	if s.Process.Capabilities.Effective[0] != "CAP_AUDIT_WRITE" || spec.Default().Process.Capabilities.Bounding[0] != "CAP_AUDIT_WRITE" {
		t.Error("capability sets share memory")
	}
}

// A relative mount destination is relative to "/", as the spec says.
func TestLoadRelativeMountDestination(t *testing.T) {
	config := strings.Replace(minimalConfig, `"linux"`, `"mounts": [{"destination": "mnt/rel", "type": "tmpfs", "source": "tmpfs"}], "linux"`, 1)
	bundle := newBundle(t, &config)
	s, _, err := spec.Load(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Mounts[0].Destination; got != "/mnt/rel" {
		t.Errorf("destination %q, want /mnt/rel", got)
	}
}

// What `berth spec` writes must load back unchanged.
func TestDefaultRoundTrip(t *testing.T) {
	data, err := json.MarshalIndent(spec.Default(), "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	config := string(data)
	bundle := newBundle(t, &config)
	s, _, err := spec.Load(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, spec.Default()) {
		t.Errorf("round trip changed the spec:\n got %+v\nwant %+v", s, spec.Default())
	}
}

func TestRootless(t *testing.T) {
	s := spec.Default()
	s.Mounts = append(s.Mounts, specs.Mount{Destination: "/run", Type: "tmpfs", Source: "tmpfs", Options: []string{"uid=0", "mode=755"}})
	spec.Rootless(s, 1000, 1001)

	var namespaces []specs.LinuxNamespaceType
	for _, ns := range s.Linux.Namespaces {
		namespaces = append(namespaces, ns.Type)
	}
	if want := []specs.LinuxNamespaceType{"pid", "ipc", "uts", "mount", "cgroup", "user"}; !slices.Equal(namespaces, want) {
		t.Errorf("namespaces = %q, want %q", namespaces, want)
	}
	if want := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 1}}; !reflect.DeepEqual(s.Linux.UIDMappings, want) {
		t.Errorf("uidMappings = %+v, want %+v", s.Linux.UIDMappings, want)
	}
	if want := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1001, Size: 1}}; !reflect.DeepEqual(s.Linux.GIDMappings, want) {
		t.Errorf("gidMappings = %+v, want %+v", s.Linux.GIDMappings, want)
	}

	var mounts []string
	for _, m := range s.Mounts {
		mounts = append(mounts, m.Destination)
		for _, o := range m.Options {
			if strings.HasPrefix(o, "uid=") || strings.HasPrefix(o, "gid=") {
				t.Errorf("mount %s keeps option %s", m.Destination, o)
			}
		}
		if m.Destination == "/sys" {
			want := specs.Mount{Destination: "/sys", Type: "bind", Source: "/sys", Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}}
			if !reflect.DeepEqual(m, want) {
				t.Errorf("/sys mount = %+v, want %+v", m, want)
			}
		}
	}
	if want := []string{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/run"}; !slices.Equal(mounts, want) {
		t.Errorf("mounts = %q, want %q", mounts, want)
	}
	if s.Linux.Resources != nil {
		t.Errorf("resources = %+v, want none", s.Linux.Resources)
	}
	if err := spec.Validate(s, newBundle(t, nil)); err != nil {
		t.Errorf("rootless default does not validate: %v", err)
	}

	t.Run("idempotent", func(t *testing.T) {
		again := spec.Default()
		spec.Rootless(again, 1000, 1001)
		once := spec.Default()
		spec.Rootless(once, 1000, 1001)
		spec.Rootless(again, 1000, 1001)
		if !reflect.DeepEqual(again, once) {
			t.Errorf("second Rootless changed the spec:\n got %+v\nwant %+v", again, once)
		}
	})

	t.Run("no linux section", func(t *testing.T) {
		s := &specs.Spec{}
		spec.Rootless(s, 1000, 1000)
		if len(s.Linux.Namespaces) != 1 || s.Linux.Namespaces[0].Type != specs.UserNamespace {
			t.Errorf("namespaces = %+v, want just user", s.Linux.Namespaces)
		}
	})
}
