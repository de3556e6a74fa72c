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
//	   or           msgExec        for an exec: the process and what else
//	                               of the config it needs
//	   or           a plan         for an exec the constructor starts itself
//	                               (nsenter word "exec"): not JSON but the
//	                               binary plan of libcontainer/nsenter/exec.c,
//	                               answered with msgReady or msgError as
//	                               below
//	   or           a set-up       for a container's init the constructor
//	                request, then  starts itself (nsenter word "create"):
//	                a plan         binary too; the request is answered with
//	                               one byte (carrying a procfs context, see
//	                               create_plan.go) or msgError, and the
//	                               parent builds the root filesystem before
//	                               it sends the plan
//	init   → parent msgBindSources (only with a user namespace and bind
//	                               mounts) open the bind sources
//	parent → init   one byte per source (bindsources.go), carrying its
//	                               O_PATH fd (SCM_RIGHTS)
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
//
// When the parent logs at debug level it sets _BERTH_DEBUG=1 in the child's
// environment, and the child (the constructor, the plan's C code and the Go
// init alike) reports its steps as msgLog messages, {"type":"log","msg":…},
// which the parent logs among its own as it reads: any number before the
// child's last message, except between the pid report and the answer to a
// set-up request, which the parent reads as raw bytes.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrt/berth/libcontainer/trace"
	"github.com/berthrt/berth/spec"
)

type msgType string

const (
	msgBootstrap   msgType = "bootstrap"
	msgExec        msgType = "exec"
	msgReady       msgType = "ready"
	msgError       msgType = "error"
	msgPid         msgType = "pid"
	msgIDMap       msgType = "idmap"
	msgHooks       msgType = "hooks"
	msgHooksDone   msgType = "hooksDone"
	msgBindSources msgType = "bindSources"
	msgGo          msgType = "go"
	msgLog         msgType = "log"
)

// envDebug, set to "1", asks the child for msgLog messages.
const envDebug = "_BERTH_DEBUG"

// syncMsg is the single envelope for all messages; fields unused by a type
// stay empty. The bootstrap is encoded on its own, as a bootstrap or an
// execBootstrap: encoding/json prepares its machinery for every type a
// struct can hold before it encodes or decodes one, and for the whole
// runtime spec that costs a millisecond and 0.2 MB, which an exec and the
// small messages need not pay.
type syncMsg struct {
	Type      msgType         `json:"type"`
	Bootstrap json.RawMessage `json:"bootstrap,omitempty"`
	Error     string          `json:"error,omitempty"`
	Pid       int             `json:"pid,omitempty"`
	Msg       string          `json:"msg,omitempty"` // a step of the child, for msgLog
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
	// Exec marks a process joining a running container, set by init
	// from an execBootstrap: init skips the container set-up and the exec
	// fifo; Spec holds the process to run and what else of the config it
	// needs.
	Exec bool `json:"-"`
	// MountFDs are init's fds of the idmapped mount trees the parent
	// made, by index in Spec.Mounts.
	MountFDs map[int]int `json:"mountFds,omitempty"`
	// UserSpec and WaitForParent come from an execBootstrap.
	UserSpec      string `json:"-"`
	WaitForParent bool   `json:"-"`
	// SeccompState is what init sends the seccomp agent with the notify
	// fd, when the filter notifies: the parent knows the host pid.
	SeccompState *specs.ContainerProcessState `json:"seccompState,omitempty"`
}

// execBootstrap is what init needs to start a process in a running
// container.
type execBootstrap struct {
	ID      string         `json:"id"`
	Process *specs.Process `json:"process"`
	// Linux holds what init takes from the container's config.
	Linux       *execLinux `json:"linux,omitempty"`
	PreserveFDs int        `json:"preserveFds,omitempty"`
	// UserSpec is "NAME[:GROUP]", looked up in the container.
	UserSpec string `json:"userSpec,omitempty"`
	// WaitForParent has the process wait after msgReady for msgGo.
	WaitForParent bool                         `json:"waitForParent,omitempty"`
	SeccompState  *specs.ContainerProcessState `json:"seccompState,omitempty"`
}

// execLinux is the part of a config's linux section an exec uses.
type execLinux struct {
	Seccomp     *specs.LinuxSeccomp     `json:"seccomp,omitempty"`
	Personality *specs.LinuxPersonality `json:"personality,omitempty"`
}

type syncPipe struct {
	f   *os.File
	enc *json.Encoder
	dec *json.Decoder
	// trace, in the parent, logs the child's steps among its own.
	trace *trace.Trace
	// debug, in the child, has it send its steps (see envDebug).
	debug bool
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

// sendBootstrap sends b, a *bootstrap or an *execBootstrap, as a message
// of type t.
func (p *syncPipe) sendBootstrap(t msgType, b any) error {
	data, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("encode %s message: %w", t, err)
	}
	return p.send(syncMsg{Type: t, Bootstrap: data})
}

// recvBootstrap reads the bootstrap of a container's init or of an exec.
func (p *syncPipe) recvBootstrap() (*bootstrap, error) {
	m, err := p.recvAny(msgBootstrap)
	if err != nil {
		return nil, err
	}
	var b bootstrap
	switch m.Type {
	case msgBootstrap:
		err = spec.Unmarshal(m.Bootstrap, &b)
	case msgExec:
		var e execBootstrap
		err = spec.Unmarshal(m.Bootstrap, &e)
		b = bootstrap{
			ID:            e.ID,
			Spec:          &specs.Spec{Process: e.Process},
			PreserveFDs:   e.PreserveFDs,
			Exec:          true,
			UserSpec:      e.UserSpec,
			WaitForParent: e.WaitForParent,
			SeccompState:  e.SeccompState,
		}
		if e.Linux != nil {
			b.Spec.Linux = &specs.Linux{Seccomp: e.Linux.Seccomp, Personality: e.Linux.Personality}
		}
	default:
		return nil, fmt.Errorf("protocol error: got %q message, want %q", m.Type, msgBootstrap)
	}
	if err != nil {
		return nil, fmt.Errorf("decode %s message: %w", m.Type, err)
	}
	if b.Spec == nil || b.Spec.Process == nil {
		return nil, fmt.Errorf("protocol error: %s message without a process", m.Type)
	}
	return &b, nil
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
// returns as an error, and msgLog, which it logs; want names what the
// caller waits for, for errors.
func (p *syncPipe) recvAny(want msgType) (*syncMsg, error) {
	for {
		var m syncMsg
		if err := p.dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, errPeerGone
			}
			return nil, fmt.Errorf("read %s message: %w", want, err)
		}
		switch m.Type {
		case msgLog:
			p.trace.Step("init: " + m.Msg)
		case msgError:
			return nil, errors.New(m.Error)
		default:
			return &m, nil
		}
	}
}

// logStep sends the parent a step of the child, when it asked for them.
// A failed send does not fail the child: the parent sees what went wrong
// in the messages that follow.
func (p *syncPipe) logStep(what string) {
	if p.debug {
		_ = p.send(syncMsg{Type: msgLog, Msg: what})
	}
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
