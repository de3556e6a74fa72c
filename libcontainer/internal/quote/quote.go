// Package quote quotes what a user gave berth for an error message,
// which must stay one short line: a config or command line can hold a
// value of megabytes.
package quote

import (
	"fmt"
	"strconv"
)

// shown is how many bytes of a long value an error shows.
const shown = 64

// Short quotes s as %q does, cut to its first bytes when it is long.
func Short(s string) string {
	if len(s) <= shown {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:shown], len(s))
}
