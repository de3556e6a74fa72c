// Package spec reads, validates and generates the OCI runtime configuration
// (config.json) of a bundle.
//
// Every error is one line that names the file and the cause, because it ends up
// in front of a user who called a runtime they may not know is there (docker,
// podman and containerd all call berth by path).
package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// ConfigName is the name of the configuration file inside a bundle.
const ConfigName = "config.json"

// Load reads <bundle>/config.json and validates it, and returns the file's
// contents too, which the spec is the decoding of. An empty bundle means
// the current directory, as with runc's --bundle.
func Load(bundle string) (*specs.Spec, []byte, error) {
	dir := bundle
	if dir == "" {
		dir = "."
	}
	data, err := readConfig(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("load bundle %q: %w", bundle, err)
	}
	s, err := decode(data)
	if err != nil {
		return nil, nil, fmt.Errorf("parse %s: %w", filepath.Join(bundle, ConfigName), err)
	}
	absMountDestinations(s)
	if err := Validate(s, bundle); err != nil {
		return nil, nil, err
	}
	return s, data, nil
}

// absMountDestinations makes each relative mount destination absolute. The
// spec lets a config give one, for old tools, and says it is relative to
// "/"; runc takes it so. An empty one is left for Validate to refuse.
func absMountDestinations(s *specs.Spec) {
	for i, m := range s.Mounts {
		if m.Destination != "" && !filepath.IsAbs(m.Destination) {
			s.Mounts[i].Destination = "/" + m.Destination
		}
	}
}

// readConfig reads config.json in dir, up to MaxConfigSize bytes.
func readConfig(dir string) ([]byte, error) {
	// Reading through the bundle's FS keeps the file name short in the
	// error ("open config.json: …") while the bundle is named once, in
	// the prefix.
	f, err := os.DirFS(dir).Open(ConfigName)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigSize+1))
	if pe, ok := err.(*fs.PathError); ok {
		return nil, &fs.PathError{Op: pe.Op, Path: ConfigName, Err: pe.Err}
	}
	if err != nil {
		return nil, err
	}
	if len(data) > MaxConfigSize {
		return nil, fmt.Errorf("%s is larger than berth's limit of %d MiB for a config", ConfigName, MaxConfigSize>>20)
	}
	return data, nil
}

// decode parses config.json, locating syntax and type errors by line and
// column since a byte offset is of no use to someone editing the file.
func decode(data []byte) (*specs.Spec, error) {
	// A pointer target lets a top-level null show up as nil instead of
	// silently decoding into an empty spec.
	var s *specs.Spec
	err := Unmarshal(data, &s)
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntaxErr):
		line, col := position(data, syntaxErr.Offset)
		return nil, fmt.Errorf("%w at line %d col %d", err, line, col)
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return nil, fmt.Errorf("want a JSON object at the top level, got %s", typeErr.Value)
	case errors.As(err, &typeErr):
		line, col := position(data, typeErr.Offset)
		return nil, fmt.Errorf("%s: cannot decode JSON %s into %s at line %d col %d",
			typeErr.Field, typeErr.Value, typeErr.Type, line, col)
	case err != nil:
		return nil, err
	case s == nil:
		return nil, errors.New("want a JSON object at the top level, got null")
	}
	return s, nil
}

// position converts an offset reported by encoding/json into a 1-based line
// and column (in characters). The decoder reports the offset just past the
// byte it stopped on, so that byte is the one located.
func position(data []byte, offset int64) (line, col int) {
	end := min(max(int(offset)-1, 0), len(data))
	before := data[:end]
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	return bytes.Count(before, []byte{'\n'}) + 1, utf8.RuneCount(before[lineStart:]) + 1
}

// Validate checks a parsed spec against what berth needs to run it and returns
// the first problem found, prefixed with the path of the bundle's config.json.
func Validate(s *specs.Spec, bundle string) error {
	if err := validate(s, bundle); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(bundle, ConfigName), err)
	}
	return nil
}

func validate(s *specs.Spec, bundle string) error {
	if err := checkVersion(s.Version); err != nil {
		return err
	}
	if err := checkLimits(s); err != nil {
		return err
	}
	if s.Process == nil {
		return errors.New("process is missing: berth only runs containers that have a process")
	}
	if len(s.Process.Args) == 0 {
		return errors.New("process.args must not be empty")
	}
	if s.Process.Cwd != "" && !filepath.IsAbs(s.Process.Cwd) {
		return fmt.Errorf("process.cwd %q must be an absolute path", s.Process.Cwd)
	}
	if err := checkRoot(s, bundle); err != nil {
		return err
	}
	for i, m := range s.Mounts {
		if !filepath.IsAbs(m.Destination) {
			return fmt.Errorf("mounts[%d].destination %q must be an absolute path", i, m.Destination)
		}
	}
	if s.Linux == nil {
		return errors.New("linux is missing: berth only runs Linux containers")
	}
	return checkLinux(s)
}

// checkVersion accepts any 1.x.y version, with a pre-release or build suffix,
// because the spec promises that minor versions stay compatible.
func checkVersion(v string) error {
	if v == "" {
		return errors.New("ociVersion is missing")
	}
	core := v
	if i := strings.IndexAny(v, "-+"); i >= 0 {
		core = v[:i]
	}
	parts := strings.Split(core, ".")
	if len(parts) != 3 || slices.ContainsFunc(parts, notNumber) {
		return fmt.Errorf("ociVersion %q is not a semantic version like %q", v, specs.Version)
	}
	if parts[0] != "1" {
		return fmt.Errorf("ociVersion %q is not supported (berth supports 1.x)", v)
	}
	return nil
}

func notNumber(s string) bool {
	return s == "" || strings.Trim(s, "0123456789") != ""
}

func checkRoot(s *specs.Spec, bundle string) error {
	if s.Root == nil {
		return errors.New("root is missing")
	}
	if s.Root.Path == "" {
		return errors.New("root.path must not be empty")
	}
	rootfs := RootfsPath(s, bundle)
	fi, err := os.Stat(rootfs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("root.path %q does not exist", rootfs)
	case err != nil:
		return fmt.Errorf("root.path: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("root.path %q is not a directory", rootfs)
	}
	// As runc: the root is named by its own path, so that what is
	// checked and what is mounted cannot come apart through a link.
	if resolved, err := filepath.EvalSymlinks(rootfs); err != nil {
		return fmt.Errorf("root.path: %w", err)
	} else if resolved != filepath.Clean(rootfs) {
		return fmt.Errorf("root.path %q goes through a symlink (to %q): give the path itself", rootfs, resolved)
	}
	return nil
}

// namespaceTypes are the Linux namespaces the runtime spec defines.
var namespaceTypes = []specs.LinuxNamespaceType{
	specs.PIDNamespace,
	specs.NetworkNamespace,
	specs.MountNamespace,
	specs.IPCNamespace,
	specs.UTSNamespace,
	specs.UserNamespace,
	specs.CgroupNamespace,
	specs.TimeNamespace,
}

func checkNamespaces(namespaces []specs.LinuxNamespace) error {
	firstIndex := make(map[specs.LinuxNamespaceType]int)
	for i, ns := range namespaces {
		if ns.Path != "" && !filepath.IsAbs(ns.Path) {
			return fmt.Errorf("linux.namespaces[%d].path %q must be an absolute path", i, ns.Path)
		}
		if !slices.Contains(namespaceTypes, ns.Type) {
			return fmt.Errorf("linux.namespaces[%d].type %q is not a known namespace type (known: %v)",
				i, ns.Type, namespaceTypes)
		}
		if first, ok := firstIndex[ns.Type]; ok {
			return fmt.Errorf("linux.namespaces[%d].type %q is already given by linux.namespaces[%d]",
				i, ns.Type, first)
		}
		firstIndex[ns.Type] = i
	}
	return nil
}

// RootfsPath returns the absolute path of the container's root filesystem:
// root.path itself when absolute, otherwise root.path under the bundle.
// s.Root must be set, which Validate guarantees.
func RootfsPath(s *specs.Spec, bundle string) string {
	path := s.Root.Path
	if !filepath.IsAbs(path) {
		path = filepath.Join(bundle, path)
	}
	// Abs fails only when the working directory is gone; the cleaned path is
	// then the best answer left, and any use of it will report the real error.
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	return abs
}
