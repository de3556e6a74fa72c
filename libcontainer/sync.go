package libcontainer

// The parent (berth create/run) and the container's init talk over one
// stream socketpair, passed to init as an inherited fd. Every message is one
// JSON value; the conversation is strictly ordered:
//
//	parent → init   msgBootstrap   the config; sent after the parent has
//	                               placed init in its cgroup, so init may
//	                               unshare its cgroup namespace at once
//	init   → parent msgReady       set-up done; init now waits on the exec
//	                               fifo for `start`
//	   or  → parent msgError       set-up failed; init exits
//
// An exec runs the same conversation (with bootstrap.Exec set and no exec
// fifo), preceded by one message from libcontainer/nsenter's C code, which
// joins the container's namespaces before Go starts:
//
//	nsenter → parent msgPid        the pid of the process that goes on
//	   or   → parent msgError      joining failed
//
// If init dies without a message the parent sees EOF and reports that.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

type msgType string

const (
	msgBootstrap msgType = "bootstrap"
	msgReady     msgType = "ready"
	msgError     msgType = "error"
	msgPid       msgType = "pid"
)

// syncMsg is the single envelope for all messages; fields unused by a type
// stay empty.
type syncMsg struct {
	Type      msgType    `json:"type"`
	Bootstrap *bootstrap `json:"bootstrap,omitempty"`
	Error     string     `json:"error,omitempty"`
	Pid       int        `json:"pid,omitempty"`
}

// bootstrap is everything init needs to build the container.
type bootstrap struct {
	ID           string      `json:"id"`
	Spec         *specs.Spec `json:"spec"`
	Rootfs       string      `json:"rootfs"`
	NoPivot      bool        `json:"noPivot,omitempty"`
	NoNewKeyring bool        `json:"noNewKeyring,omitempty"`
	// PreserveFDs counts the caller's fds from 3 upwards that the
	// container process keeps.
	PreserveFDs int `json:"preserveFds,omitempty"`
	// CgroupNS asks init to unshare a cgroup namespace after the parent
	// has placed it in its cgroup.
	CgroupNS bool `json:"cgroupNs,omitempty"`
	// Exec marks a process joining a running container: init skips the
	// container set-up and the exec fifo; Spec.Process is the process to
	// run.
	Exec bool `json:"exec,omitempty"`
	// SeccompState is what init sends the seccomp agent with the notify
	// fd, when the filter notifies: the parent knows the host pid.
	SeccompState *specs.ContainerProcessState `json:"seccompState,omitempty"`
}

type syncPipe struct {
	f   *os.File
	enc *json.Encoder
	dec *json.Decoder
}

func newSyncPipe(f *os.File) *syncPipe {
	return &syncPipe{f: f, enc: json.NewEncoder(f), dec: json.NewDecoder(f)}
}

func (p *syncPipe) send(m syncMsg) error {
	if err := p.enc.Encode(m); err != nil {
		return fmt.Errorf("send %s message: %w", m.Type, err)
	}
	return nil
}

// recv reads the next message and checks its type; an error message from
// the other side is returned as an error.
func (p *syncPipe) recv(want msgType) (*syncMsg, error) {
	var m syncMsg
	if err := p.dec.Decode(&m); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, errPeerGone
		}
		return nil, fmt.Errorf("read %s message: %w", want, err)
	}
	if m.Type == msgError {
		return nil, errors.New(m.Error)
	}
	if m.Type != want {
		return nil, fmt.Errorf("protocol error: got %q message, want %q", m.Type, want)
	}
	return &m, nil
}

func (p *syncPipe) Close() error { return p.f.Close() }

var errPeerGone = errors.New("the other end exited without a word")
