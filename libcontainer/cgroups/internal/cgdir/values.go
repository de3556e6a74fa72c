package cgdir

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/libcontainer/internal/quote"
)

// ReadUint reads a file holding one unsigned number. "max" (v2's "no
// limit") reads as math.MaxUint64, and a negative number (v1's -1 for no
// limit) as 0, so that callers see one form for both versions.
func ReadUint(dir, file string) (uint64, error) {
	s, err := ReadFile(dir, file)
	if err != nil {
		return 0, err
	}
	v, err := ParseUint(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("parse %s/%s: %w", dir, file, err)
	}
	return v, nil
}

// ParseUint parses a cgroup counter or limit as ReadUint does.
func ParseUint(s string) (uint64, error) {
	if s == "max" {
		return math.MaxUint64, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		if i, ierr := strconv.ParseInt(s, 10, 64); ierr == nil && i < 0 {
			return 0, nil
		}
		return 0, err
	}
	return v, nil
}

// ReadKeyValues reads a flat keyed file of "key value" lines (memory.stat,
// cpu.stat, memory.events…).
func ReadKeyValues(dir, file string) (map[string]uint64, error) {
	s, err := ReadFile(dir, file)
	if err != nil {
		return nil, err
	}
	kv, err := ParseKeyValues(s)
	if err != nil {
		return nil, fmt.Errorf("parse %s/%s: %w", dir, file, err)
	}
	return kv, nil
}

// ParseKeyValues parses the content of a flat keyed file as ReadKeyValues
// does; a line without a value is skipped.
func ParseKeyValues(s string) (map[string]uint64, error) {
	kv := make(map[string]uint64)
	for line := range strings.Lines(s) {
		key, value, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		v, err := ParseUint(strings.TrimSpace(value))
		if err != nil {
			return nil, fmt.Errorf("line %s: %w", quote.Short(strings.TrimSpace(line)), err)
		}
		kv[key] = v
	}
	return kv, nil
}

// Exists reports whether file is present in the cgroup directory dir: the
// kernel shows a controller's files only where it is enabled, and some only
// on kernels that support them.
func Exists(dir, file string) bool {
	return unix.Access(dir+"/"+file, unix.F_OK) == nil
}

// Set writes value to file in the cgroup directory dir, for a resource
// limit. Its error names the file, the value and the cgroup, and says what
// a missing file means.
func Set(dir, file, value string) error {
	err := WriteFile(dir, file, value)
	if errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("set %s to %s in cgroup %s: the kernel does not provide %s there (controller not enabled, or not supported by this kernel)", file, quote.Short(value), dir, file)
	}
	if err != nil {
		return fmt.Errorf("set %s to %s in cgroup %s: %w", file, quote.Short(value), dir, errors.Unwrap(err))
	}
	return nil
}
