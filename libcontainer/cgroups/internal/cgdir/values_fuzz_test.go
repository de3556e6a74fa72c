package cgdir

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// FuzzParseKeyValues reads flat keyed files (memory.stat, cpu.stat…) as
// the kernel might write them, or a hostile cgroupfs might: accepted,
// they read back the same once written out again; refused, the error is
// one line.
func FuzzParseKeyValues(f *testing.F) {
	for _, seed := range []string{
		"usage_usec 1000\nuser_usec 600\nsystem_usec 400\n", "max 3\noom_kill 0\n", "low 0\nhigh max\n",
		"cache -1\n", "key\n\n", "a  5\n", "a 18446744073709551616\n", "a\tb 1\r\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kv, err := ParseKeyValues(s)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		var again strings.Builder
		for _, k := range slices.Sorted(maps.Keys(kv)) {
			fmt.Fprintf(&again, "%s %d\n", k, kv[k])
		}
		if kv2, err := ParseKeyValues(again.String()); err != nil || !maps.Equal(kv, kv2) {
			t.Fatalf("%q read as %v, which reads back as %v, %v", s, kv, kv2, err)
		}
	})
}
