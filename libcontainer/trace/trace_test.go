package trace

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
)

func TestOffCostsNothing(t *testing.T) {
	logrus.SetLevel(logrus.InfoLevel)
	tr := Start("create", "web")
	if tr != nil {
		t.Fatal("Start with debug logging off returned a trace")
	}
	allocs := testing.AllocsPerRun(100, func() {
		tr := Start("create", "web")
		tr.Step("cgroups made")
		tr.Stepf("init started: pid %d", 42)
		tr.End(nil)
	})
	if allocs != 0 {
		t.Errorf("a trace with debug logging off allocated %v times per run, want 0", allocs)
	}
}

func TestStepsAndEnd(t *testing.T) {
	var out bytes.Buffer
	logrus.SetOutput(&out)
	logrus.SetFormatter(&logrus.JSONFormatter{})
	logrus.SetLevel(logrus.DebugLevel)
	t.Cleanup(func() { logrus.SetLevel(logrus.InfoLevel) })

	tr := Start("create", "web")
	tr.Step("cgroups made")
	tr.Stepf("init started: pid %d", 42)
	tr.End(nil)
	Start("delete", "web").End(errors.New("boom"))

	var lines []map[string]string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var entry map[string]string
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		lines = append(lines, entry)
	}
	want := []struct{ msg, field string }{
		{"create: cgroups made", "took"},
		{"create: init started: pid 42", "took"},
		{"create: done", "total"},
		{"delete: failed: boom", "total"},
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, w := range want {
		l := lines[i]
		if l["msg"] != w.msg || l["level"] != "debug" || l["container"] != "web" || l[w.field] == "" {
			t.Errorf("line %d = %v, want msg %q at debug level for container web with %s", i, l, w.msg, w.field)
		}
	}
}
