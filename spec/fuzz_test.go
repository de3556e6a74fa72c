package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// engineConfigs are configs that docker, podman, containerd (plain and
// under the kubelet's CRI) and `runc spec` wrote, captured on a test host
// (testdata/engines/README.md): the seeds closest to what berth is given.
func engineConfigs(tb testing.TB) []string {
	tb.Helper()
	paths, err := filepath.Glob("testdata/engines/*.json")
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no engine configs in testdata/engines: %v", err)
	}
	var docs []string
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		docs = append(docs, string(data))
	}
	return docs
}

// checkOneLine fails unless err reads as the one line a user is shown.
func checkOneLine(t *testing.T, err error) {
	t.Helper()
	if msg := err.Error(); msg == "" || strings.ContainsAny(msg, "\n\r") {
		t.Fatalf("error is not one line: %q", msg)
	}
}

// FuzzLoad feeds config.json to Load, which decodes and validates it: it
// must accept a config or refuse it with one line, and never panic.
func FuzzLoad(f *testing.F) {
	for _, doc := range append(unmarshalCases(f), engineConfigs(f)...) {
		f.Add(doc)
	}
	bundle := f.TempDir()
	if err := os.Mkdir(filepath.Join(bundle, "rootfs"), 0o755); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		if err := os.WriteFile(filepath.Join(bundle, ConfigName), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		s, data, err := Load(bundle)
		if err != nil {
			checkOneLine(t, err)
			return
		}
		if s == nil || s.Process == nil || s.Root == nil || s.Linux == nil || string(data) != doc {
			t.Fatalf("Load accepted %q but returned spec %+v and data %q", doc, s, data)
		}
	})
}
