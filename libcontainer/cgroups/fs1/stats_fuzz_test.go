package fs1

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// FuzzParseBlkio reads blkio's "major:minor Op value" files: accepted,
// the entries read back the same once written out again; refused, the
// error is one line.
func FuzzParseBlkio(f *testing.F) {
	for _, seed := range []string{
		"8:0 Read 4096\n8:0 Write 0\n8:0 Sync 4096\n8:0 Async 0\n8:0 Total 4096\nTotal 4096\n",
		"", "x:y Read 1\n", "8:0 Read -1\n", "8:0:1 Read 1\n", "8:0 Read 1 extra\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data string) {
		entries, err := parseBlkio(data)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		var again strings.Builder
		for _, e := range entries {
			fmt.Fprintf(&again, "%d:%d %s %d\n", e.Major, e.Minor, e.Op, e.Value)
		}
		if entries2, err := parseBlkio(again.String()); err != nil || !slices.Equal(entries, entries2) {
			t.Fatalf("%q read as %v, which reads back as %v, %v", data, entries, entries2, err)
		}
	})
}
