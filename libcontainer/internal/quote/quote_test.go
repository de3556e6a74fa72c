package quote

import (
	"strings"
	"testing"
)

func TestShort(t *testing.T) {
	if got := Short("web\n"); got != `"web\n"` {
		t.Errorf("Short of a short value = %s", got)
	}
	if got, want := Short(strings.Repeat("x", 100)), `"`+strings.Repeat("x", 64)+`"… (100 bytes)`; got != want {
		t.Errorf("Short of a long value = %s, want %s", got, want)
	}
}
