package libcontainer

import (
	"errors"
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrt/berth/libcontainer/seccomp"
)

// envSeccompFD names the inherited fd of the connection to the seccomp
// agent in init. The parent connects: listenerPath is a host path, and
// init has pivoted into the container by the time it loads the filter.
const envSeccompFD = "_BERTH_SECCOMPFD"

// dialSeccompAgent connects to the seccomp agent when the spec's filter
// notifies; it returns nil when it does not.
func dialSeccompAgent(s *specs.Spec) (*os.File, error) {
	if s.Linux == nil || !seccomp.UsesNotify(s.Linux.Seccomp) {
		return nil, nil
	}
	conn, err := dialUnix(s.Linux.Seccomp.ListenerPath)
	if err != nil {
		return nil, fmt.Errorf("seccomp listenerPath: %w", err)
	}
	return conn, nil
}

// seccompAgentState is what the agent receives with the notify fd of a
// container's init; nil when the filter does not notify. With
// no_new_privs init loads the filter only after start, so the container
// is running by then.
func (o CreateOptions) seccompAgentState(pid int) *specs.ContainerProcessState {
	status := specs.StateCreating
	if o.Spec.Process.NoNewPrivileges {
		status = specs.StateRunning
	}
	return agentState(o.Spec, pid, ociState(o.ID, o.Bundle, o.Spec, status, pid))
}

// seccompAgentState is what the agent receives with the notify fd of a
// process exec'd into the container; nil when the filter does not notify.
func (c *Container) seccompAgentState(s *specs.Spec, pid int) *specs.ContainerProcessState {
	return agentState(s, pid, ociState(c.p.ID, c.p.Bundle, s, c.Status(), c.p.InitPid))
}

func agentState(s *specs.Spec, pid int, st *specs.State) *specs.ContainerProcessState {
	if s.Linux == nil || !seccomp.UsesNotify(s.Linux.Seccomp) {
		return nil
	}
	return &specs.ContainerProcessState{
		Version:  specs.Version,
		Fds:      []string{specs.SeccompFdName},
		Pid:      pid,
		Metadata: s.Linux.Seccomp.ListenerMetadata,
		State:    *st,
	}
}

// initSeccomp is init's handle on the seccomp filter of the process it
// starts. A nil *initSeccomp stands for "no filter".
type initSeccomp struct {
	filter *seccomp.Filter
	agent  *os.File // connected to listenerPath by the parent
	state  *specs.ContainerProcessState
}

// prepareSeccomp builds the filter while init can still report to the
// parent, so a profile this host cannot honour fails create or exec.
func prepareSeccomp(b *bootstrap) (*initSeccomp, error) {
	if b.Spec.Linux == nil || b.Spec.Linux.Seccomp == nil {
		return nil, nil
	}
	f, err := seccomp.New(b.Spec.Linux.Seccomp)
	if err != nil {
		return nil, err
	}
	s := &initSeccomp{filter: f, state: b.SeccompState}
	if seccomp.UsesNotify(b.Spec.Linux.Seccomp) {
		if s.state == nil {
			return nil, errors.New("protocol error: the filter notifies but the bootstrap has no seccomp agent state")
		}
		if s.agent, err = fdFromEnv(envSeccompFD, "seccomp agent"); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// load loads the filter into init and, when it notifies, sends the notify
// fd to the agent. The fd is closed before returning: the container's
// process must not answer its own notifications.
func (s *initSeccomp) load() error {
	if s == nil {
		return nil
	}
	notify, err := s.filter.Load()
	if err != nil || notify == nil {
		return err
	}
	defer notify.Close()
	return seccomp.SendState(s.agent, notify, s.state)
}
