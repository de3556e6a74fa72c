package libcontainer

// The parent (berth create, run or exec) and the process it starts talk
// over one stream socketpair, passed as an inherited fd. Every message is
// one JSON value; the conversation is strictly ordered. First the nsenter
// constructor (libcontainer/nsenter, C, before the Go runtime starts) does
// the namespace work:
//
//	nsenter → parent msgIDMap      made a user namespace: write its id maps,
//	                               then answer with one raw byte
//	nsenter → parent msgPid        the pid of the process that goes on (its
//	                               own, or its child's in a pid namespace)
//	   or   → parent msgError      the namespace work failed
//
// Then Go's init:
//
//	parent → init   msgBootstrap   the config; sent after the parent has
//	                               placed the process in its cgroup, so init
//	                               may unshare its cgroup namespace at once
//	init   → parent msgHooks       (only if the config has prestart or
//	                               createRuntime hooks) mounts are done,
//	                               pivot_root is next: run the hooks
//	parent → init   msgHooksDone
//	init   → parent msgReady       set-up done; init now waits on the exec
//	                               fifo for `start` (an exec goes on at once)
//	   or  → parent msgError       set-up failed; init exits
//	parent → init   msgGo          (an exec into a paused container only)
//	                               the parent has put the process in the
//	                               frozen cgroup: only now, or the set-up
//	                               would freeze halfway
//
// If the other side dies without a message the parent sees EOF and reports
// that.

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
	msgIDMap     msgType = "idmap"
	msgHooks     msgType = "hooks"
	msgHooksDone msgType = "hooksDone"
	msgGo        msgType = "go"
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
	// Pid is the process's pid as the host sees it, and Bundle the
	// container's bundle, for the state that hooks read.
	Pid    int    `json:"pid"`
	Bundle string `json:"bundle"`
	// Exec marks a process joining a running container: init skips the
	// container set-up and the exec fifo; Spec.Process is the process to
	// run.
	Exec bool `json:"exec,omitempty"`
	// MountFDs are init's fds of the idmapped mount trees the parent
	// made, by index in Spec.Mounts.
	MountFDs map[int]int `json:"mountFds,omitempty"`
	// UserSpec is an exec's "NAME[:GROUP]", looked up in the container.
	UserSpec string `json:"userSpec,omitempty"`
	// WaitForParent has an exec wait after msgReady for msgGo.
	WaitForParent bool `json:"waitForParent,omitempty"`
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
	m, err := p.recvAny(want)
	if err != nil {
		return nil, err
	}
	if m.Type != want {
		return nil, fmt.Errorf("protocol error: got %q message, want %q", m.Type, want)
	}
	return m, nil
}

// recvAny reads the next message of any type but msgError, which it
// returns as an error; want names what the caller waits for, for errors.
func (p *syncPipe) recvAny(want msgType) (*syncMsg, error) {
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
	return &m, nil
}

// awaitPid follows the nsenter constructor's messages until it reports the
// pid that goes on, writing id maps when it made a user namespace. child
// is the process the parent started, which is the one asking for maps.
func (p *syncPipe) awaitPid(child int, l *specs.Linux) (int, error) {
	for {
		m, err := p.recvAny(msgPid)
		if err != nil {
			return 0, err
		}
		switch m.Type {
		case msgPid:
			if m.Pid <= 0 {
				return 0, fmt.Errorf("protocol error: pid %d", m.Pid)
			}
			return m.Pid, nil
		case msgIDMap:
			if err := writeIDMaps(child, l); err != nil {
				return 0, err
			}
			if _, err := p.f.Write([]byte{0}); err != nil {
				return 0, fmt.Errorf("answer the id map request: %w", err)
			}
		default:
			return 0, fmt.Errorf("protocol error: got %q message, want %q", m.Type, msgPid)
		}
	}
}

func (p *syncPipe) Close() error { return p.f.Close() }

var errPeerGone = errors.New("the other end exited without a word")
