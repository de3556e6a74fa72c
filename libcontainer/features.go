package libcontainer

import (
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Namespaces returns the namespace types a container can be created with,
// sorted: those made at clone time, and the cgroup namespace, which init
// unshares once it is in its cgroup.
func Namespaces() []string {
	names := []string{string(specs.CgroupNamespace)}
	for t := range cloneFlags {
		names = append(names, string(t))
	}
	slices.Sort(names)
	return names
}
