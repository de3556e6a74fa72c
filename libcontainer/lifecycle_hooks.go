package libcontainer

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/berthrt/berth/libcontainer/hooks"
)

// ociState is the runtime spec's state of a container, as hooks read it on
// their stdin and the seccomp agent receives it.
func ociState(id, bundle string, s *specs.Spec, status specs.ContainerState, pid int) *specs.State {
	return &specs.State{
		Version:     specs.Version,
		ID:          id,
		Status:      status,
		Pid:         pid,
		Bundle:      bundle,
		Annotations: s.Annotations,
	}
}

// HookKinds lists the hooks berth runs, for `berth features`.
func HookKinds() []string {
	return []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}
}

// hasHooks reports whether the spec has hooks of any kind, so that the
// common case costs nothing.
func hasHooks(s *specs.Spec) bool {
	h := s.Hooks
	return h != nil && len(h.Prestart)+len(h.CreateRuntime)+len(h.CreateContainer)+
		len(h.StartContainer)+len(h.Poststart)+len(h.Poststop) > 0
}

// needsRuntimeHooks reports whether init must stop before pivot_root for
// the parent to run hooks in the runtime's namespaces.
func needsRuntimeHooks(s *specs.Spec) bool {
	//nolint:staticcheck // prestart is deprecated but still honoured, as runc does
	return s.Hooks != nil && len(s.Hooks.Prestart)+len(s.Hooks.CreateRuntime) > 0
}

// hasHooksBeforeProcess reports whether the config has hooks that run
// between create and the user's process: the runtime's and those the Go
// init runs in the container.
func hasHooksBeforeProcess(s *specs.Spec) bool {
	return needsRuntimeHooks(s) || s.Hooks != nil && len(s.Hooks.CreateContainer)+len(s.Hooks.StartContainer) > 0
}

// runCreateHooks runs the prestart and createRuntime hooks, in the
// runtime's namespaces, once init has made the container's namespaces
// and mounts but not yet switched root.
func runCreateHooks(id, bundle string, s *specs.Spec, pid int) error {
	st := ociState(id, bundle, s, specs.StateCreating, pid)
	//nolint:staticcheck // prestart is deprecated but still honoured, as runc does
	if err := hooks.RunAll("prestart", s.Hooks.Prestart, st); err != nil {
		return err
	}
	return hooks.RunAll("createRuntime", s.Hooks.CreateRuntime, st)
}

// runWarnHooks runs poststart or poststop hooks, whose failures the spec
// says to log and go on from.
func runWarnHooks(kind string, hs []specs.Hook, st *specs.State) {
	for _, h := range hs {
		if err := hooks.Run(kind, h, st); err != nil {
			logrus.Warn(err)
		}
	}
}
