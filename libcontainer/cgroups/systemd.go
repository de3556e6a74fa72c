package cgroups

import (
	"fmt"
	"path"
	"strings"
)

// SystemdPath turns a cgroupsPath in the form engines use with runc's
// --systemd-cgroup, "slice:prefix:name", into the cgroup systemd's driver
// would give the container: the scope "prefix-name.scope" (or the slice
// "name" when it is one) inside the slice, whose name systemd expands into
// nested directories ("kubepods-besteffort.slice" is
// /kubepods.slice/kubepods-besteffort.slice). berth makes that cgroup
// through cgroupfs, as for any other path; it does not ask systemd over
// D-Bus for a scope unit. An empty path is left empty (nested under the
// caller's cgroup, as without the flag).
func SystemdPath(cgroupsPath, id string) (string, error) {
	if cgroupsPath == "" {
		return "", nil
	}
	parts := strings.Split(cgroupsPath, ":")
	if len(parts) != 3 {
		return "", fmt.Errorf("invalid cgroups path %q: with --systemd-cgroup it is \"slice:prefix:name\"", cgroupsPath)
	}
	slice, prefix, name := parts[0], parts[1], parts[2]
	if slice == "" {
		slice = "system.slice"
	}
	if name == "" {
		name = id
	}
	dir, err := expandSlice(slice)
	if err != nil {
		return "", fmt.Errorf("invalid cgroups path %q: %w", cgroupsPath, err)
	}
	unit := name + ".scope"
	switch {
	case strings.HasSuffix(name, ".slice"):
		unit = name
	case prefix != "":
		unit = prefix + "-" + name + ".scope"
	}
	if strings.Contains(unit, "/") || unit == ".scope" {
		return "", fmt.Errorf("invalid cgroups path %q: %q is not a unit name", cgroupsPath, unit)
	}
	return path.Join(dir, unit), nil
}

// expandSlice returns the cgroup of a systemd slice: each dash in its name
// is one more level ("a-b-c.slice" is /a.slice/a-b.slice/a-b-c.slice), and
// "-.slice" is the root.
func expandSlice(slice string) (string, error) {
	name, ok := strings.CutSuffix(slice, ".slice")
	if !ok || strings.Contains(name, "/") {
		return "", fmt.Errorf("%q is not a slice name (NAME.slice)", slice)
	}
	if name == "-" {
		return "/", nil
	}
	if name == "" || strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-") || strings.Contains(name, "--") {
		return "", fmt.Errorf("%q is not a valid slice name", slice)
	}
	dir, prefix := "/", ""
	for _, part := range strings.Split(name, "-") {
		prefix += part
		dir = path.Join(dir, prefix+".slice")
		prefix += "-"
	}
	return dir, nil
}
