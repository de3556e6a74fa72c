package spec

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// checkLinux validates the linux section: namespaces, id mappings, devices
// and sysctls. It needs the whole spec because hostname, domainname and
// sysctls only make sense with the matching namespace.
func checkLinux(s *specs.Spec) error {
	l := s.Linux
	if err := checkNamespaces(l.Namespaces); err != nil {
		return err
	}
	newNS := func(t specs.LinuxNamespaceType) bool {
		return slices.ContainsFunc(l.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == t && ns.Path == "" })
	}
	anyNS := func(t specs.LinuxNamespaceType) bool {
		return slices.ContainsFunc(l.Namespaces, func(ns specs.LinuxNamespace) bool { return ns.Type == t })
	}
	hasMappings := len(l.UIDMappings) > 0 || len(l.GIDMappings) > 0
	switch {
	case newNS(specs.UserNamespace) && (len(l.UIDMappings) == 0 || len(l.GIDMappings) == 0):
		return errors.New("linux.namespaces has a new user namespace but linux.uidMappings or linux.gidMappings is empty: give both")
	case hasMappings && !anyNS(specs.UserNamespace):
		return errors.New("linux.uidMappings/gidMappings are set but linux.namespaces has no user namespace")
	case len(l.TimeOffsets) > 0 && !newNS(specs.TimeNamespace):
		return errors.New("linux.timeOffsets is set but linux.namespaces has no new time namespace")
	case s.Hostname != "" && !anyNS(specs.UTSNamespace):
		return errors.New("hostname is set but linux.namespaces has no uts namespace: the host's name would change")
	case s.Domainname != "" && !anyNS(specs.UTSNamespace):
		return errors.New("domainname is set but linux.namespaces has no uts namespace: the host's name would change")
	}
	for clock := range l.TimeOffsets {
		if clock != "monotonic" && clock != "boottime" {
			return fmt.Errorf("linux.timeOffsets: unknown clock %q (want monotonic or boottime)", clock)
		}
	}
	for i, d := range l.Devices {
		if !filepath.IsAbs(d.Path) {
			return fmt.Errorf("linux.devices[%d].path %q must be an absolute path", i, d.Path)
		}
		if !slices.Contains([]string{"c", "u", "b", "p"}, d.Type) {
			return fmt.Errorf("linux.devices[%d] (%s): type %q is not one of c, u, b, p", i, d.Path, d.Type)
		}
	}
	for key := range l.Sysctl {
		if err := checkSysctl(key, anyNS); err != nil {
			return err
		}
	}
	return nil
}

// ipcSysctls are the kernel.* sysctls the ipc namespace isolates.
var ipcSysctls = []string{
	"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
	"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
}

// checkSysctl allows only sysctls that a namespace of the container
// isolates: setting any other would change the host.
func checkSysctl(key string, hasNS func(specs.LinuxNamespaceType) bool) error {
	need, ok := SysctlNamespace(key)
	if !ok {
		return fmt.Errorf("linux.sysctl %q is not isolated by any namespace: setting it would change the host", key)
	}
	if !hasNS(need) {
		return fmt.Errorf("linux.sysctl %q needs a %s namespace, which linux.namespaces lacks", key, need)
	}
	return nil
}

// SysctlNamespace returns the namespace that isolates the sysctl key, or
// false if none does.
func SysctlNamespace(key string) (specs.LinuxNamespaceType, bool) {
	switch {
	case slices.Contains(ipcSysctls, key), strings.HasPrefix(key, "fs.mqueue."):
		return specs.IPCNamespace, true
	case strings.HasPrefix(key, "net."):
		return specs.NetworkNamespace, true
	case key == "kernel.hostname", key == "kernel.domainname":
		return specs.UTSNamespace, true
	}
	return "", false
}
