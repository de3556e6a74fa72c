package fs2

import (
	"strings"
	"testing"

	"github.com/berthrt/berth/libcontainer/cgroups/stats"
)

// FuzzParseIOStat reads io.stat as the kernel might write it, or a
// hostile cgroupfs might: no panic, an error of one line, and at most one
// entry per counter it names.
func FuzzParseIOStat(f *testing.F) {
	for _, seed := range []string{
		"8:0 rbytes=4096 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n253:0 rbytes=1 wbytes=2 rios=3 wios=4\n",
		"", "\n\n", "8:0\n", "x rbytes=1\n", "8:0 rbytes=-1\n", "8:0 rbytes\n", "8:0 rbytes==1 =2\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data string) {
		var s stats.Stats
		if err := parseIOStat(data, &s); err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		entries := len(s.Blkio.IoServiceBytesRecursive) + len(s.Blkio.IoServicedRecursive)
		if fields := len(strings.Fields(data)); entries > fields {
			t.Fatalf("%q: %d entries from %d fields", data, entries, fields)
		}
	})
}
