package capabilities

import (
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// An ambient capability the kernel would not raise, one that is not both
// permitted and inheritable, is left out of the set and named by
// Unraisable; the others stay.
func TestAmbientNeedsPermittedAndInheritable(t *testing.T) {
	all := []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"}
	c := &specs.LinuxCapabilities{
		Permitted:   []string{"CAP_CHOWN", "CAP_KILL"},
		Inheritable: []string{"cap_kill", "CAP_NET_RAW"},
		Ambient:     all,
	}
	s, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, _, ambient := s.Masks(); ambient != 1<<5 { // CAP_KILL
		t.Errorf("ambient mask %#x, want only CAP_KILL (%#x)", ambient, 1<<5)
	}
	if got, want := Unraisable(c), []string{"CAP_CHOWN", "CAP_NET_RAW"}; !slices.Equal(got, want) {
		t.Errorf("Unraisable = %v, want %v", got, want)
	}
	if got := Unraisable(&specs.LinuxCapabilities{Permitted: all, Inheritable: all, Ambient: all}); got != nil {
		t.Errorf("Unraisable of a raisable set = %v, want none", got)
	}
}
