package runcdiff

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrt/berth/integration/internal/testhost"
)

// Bases a scenario may start from other than `berth spec`'s and the
// engines' fixtures.
const (
	runcSpec      = "runc-spec"           // `runc spec`
	berthRootless = "berth-spec-rootless" // `berth spec --rootless`
	runcRootless  = "runc-spec-rootless"  // `runc spec --rootless`
)

// writeBundle makes the side's bundle: a busybox rootfs and config.json
// (and $BUNDLE2 when the scenario asks for it), with placeholders replaced.
func (s *side) writeBundle() {
	t := s.t
	t.Helper()
	rootfs := filepath.Join(s.bundle, "rootfs")
	testhost.MakeRootfs(t, rootfs)
	if s.sc.Rootfs != nil {
		s.sc.Rootfs(t, rootfs)
	}
	if strings.HasPrefix(s.sc.Base, "engines/") {
		makeVolumes(t, filepath.Join(s.dir, "volumes"))
	}
	if s.sc.Raw != "" {
		writeFile(t, filepath.Join(s.bundle, "config.json"), s.expand.Replace(s.sc.Raw))
		return
	}
	cfg := s.config()
	writeFile(t, filepath.Join(s.bundle, "config.json"), cfg)
	if s.sc.Bundle2 {
		var second specs.Spec
		if err := json.Unmarshal([]byte(cfg), &second); err != nil {
			t.Fatal(err)
		}
		second.Linux.CgroupsPath = s.id2
		second.Root.Path = rootfs
		data, err := json.MarshalIndent(&second, "", "\t")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(s.bundle2, 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(s.bundle2, "config.json"), string(data))
	}
}

// config is the scenario's config.json for this side.
func (s *side) config() string {
	t := s.t
	t.Helper()
	var sp specs.Spec
	if err := json.Unmarshal(baseConfig(t, s.sc.Base), &sp); err != nil {
		t.Fatalf("base config %q: %v", s.sc.Base, err)
	}
	sp.Process.Terminal = false
	sp.Process.Args = []string{"/bin/sleep", "1000"}
	if sp.Linux == nil {
		sp.Linux = &specs.Linux{}
	}
	sp.Linux.CgroupsPath = "$CGROUP"
	if s.sc.Config != nil {
		s.sc.Config(&sp)
	}
	data, err := json.MarshalIndent(&sp, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.expand.Replace(string(data))
	// Machine rule: containers nest under the test's own cgroup. runc
	// puts a relative path there, an absolute one at the hierarchy's root.
	var check specs.Spec
	if err := json.Unmarshal([]byte(cfg), &check); err != nil {
		t.Fatal(err)
	}
	if p := check.Linux.CgroupsPath; p == "" || filepath.IsAbs(p) {
		t.Fatalf("runcdiff: cgroupsPath %q must be relative, to nest under the test's own cgroup", p)
	}
	return cfg
}

var bases struct {
	sync.Mutex
	configs map[string][]byte
}

// baseConfig returns the config a scenario starts from, made once.
func baseConfig(t testing.TB, base string) []byte {
	bases.Lock()
	defer bases.Unlock()
	if data, ok := bases.configs[base]; ok {
		return data
	}
	var data []byte
	var err error
	switch {
	case base == "":
		data, err = specOf(berth)
	case base == runcSpec:
		data, err = specOf(runc)
	case base == berthRootless:
		data, err = specOf(berth, "--rootless")
	case base == runcRootless:
		data, err = specOf(runc, "--rootless")
	case strings.HasPrefix(base, "engines/"):
		data, err = os.ReadFile(filepath.Join("testdata", base+".json"))
	default:
		err = fmt.Errorf("unknown base %q", base)
	}
	if err != nil {
		t.Fatal(err)
	}
	if bases.configs == nil {
		bases.configs = map[string][]byte{}
	}
	bases.configs[base] = data
	return data
}

// specOf runs `RUNTIME spec [FLAG...]` in a new directory and returns what
// it wrote.
func specOf(rt *runtime, flags ...string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "rcd-spec")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	c := exec.Command(rt.Binary, append([]string{"spec"}, flags...)...)
	c.Dir = dir
	if out, err := c.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s spec: %v: %s", rt.Name, err, out)
	}
	return os.ReadFile(filepath.Join(dir, "config.json"))
}

// makeVolumes makes the bind sources the engines' fixtures name
// ($DIR/volumes/NAME, testdata/engines/README.md): files where the engine
// binds a file, directories otherwise.
func makeVolumes(t testing.TB, dir string) {
	t.Helper()
	files := map[string]string{
		"hosts":        "127.0.0.1\tlocalhost\n",
		"hostname":     "runcdiff\n",
		"resolv.conf":  "nameserver 127.0.0.1\n",
		"containerenv": "engine=\"runcdiff\"\n",
	}
	for _, d := range []string{"shm", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content)
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// engineProcess writes an engine's process.json fixture to path (a
// placeholder path), with args.
func engineProcess(name, path string, args ...string) step {
	return observe("write "+path+" from "+name, func(s *side) (string, error) {
		data, err := os.ReadFile(filepath.Join("testdata", "engines", name+".process.json"))
		if err != nil {
			return "", err
		}
		var p specs.Process
		if err := json.Unmarshal(data, &p); err != nil {
			return "", fmt.Errorf("%s.process.json: %w", name, err)
		}
		p.Args = args
		out, err := json.Marshal(&p)
		if err != nil {
			return "", err
		}
		return "", os.WriteFile(s.expand.Replace(path), out, 0o644)
	})
}
