// Package libcontainer creates and manages OCI containers. It works on
// specs.Spec directly; the berth CLI is a thin layer over it.
//
// It links libcontainer/nsenter, whose C constructor runs before the Go
// runtime in every process of the program: it does berth init's namespace
// work, and raises the process's timer slack to 1 ms, which suits a
// runtime's short commands (a program that needs precise timers sets its
// own back with prctl(PR_SET_TIMERSLACK)).
package libcontainer

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berthrt/berth/libcontainer/cgroups"
	"github.com/berthrt/berth/libcontainer/internal/smallfile"
	"github.com/berthrt/berth/libcontainer/state"
)

// Files in a container's state directory besides state.json.
const (
	execFifoName   = "exec.fifo"   // exists from create until start
	configFileName = "config.json" // the spec the container was created from
)

// persisted is what state.json holds.
type persisted struct {
	summary
	CgroupPaths map[string]string `json:"cgroupPaths,omitempty"`
	// PreexistingCgroups are the directories of CgroupPaths that were
	// there before create: delete leaves them. State written before
	// berth recorded this has none, as that berth removed every one.
	PreexistingCgroups []string `json:"preexistingCgroups,omitempty"`
	// HasHooks spares start and delete reading the config when it has no
	// hooks to run.
	HasHooks bool `json:"hasHooks,omitempty"`
	// NoNewKeyring: the container's processes keep their creator's
	// session keyring (create --no-new-keyring); otherwise every process
	// exec starts joins the container's own, as init did.
	NoNewKeyring bool `json:"noNewKeyring,omitempty"`
}

// summary is the part of the state that State reports and Status reads.
type summary struct {
	ID      string `json:"id"`
	InitPid int    `json:"initPid"`
	// InitStartTime (from /proc/<pid>/stat) tells our init apart from an
	// unrelated process that later got the same pid.
	InitStartTime uint64            `json:"initStartTime"`
	Bundle        string            `json:"bundle"`
	Rootfs        string            `json:"rootfs"`
	Created       time.Time         `json:"created"`
	Owner         string            `json:"owner"`
	Annotations   map[string]string `json:"annotations,omitempty"`
	// Paused records that berth paused the container, so that Status
	// reads the freezer only then.
	Paused bool `json:"paused,omitempty"`
}

// State is the OCI state of a container plus the fields runc adds, in
// runc's JSON shape, which engines parse: pid is always there (0 once the
// container has stopped).
type State struct {
	Version     string               `json:"ociVersion"`
	ID          string               `json:"id"`
	Pid         int                  `json:"pid"`
	Status      specs.ContainerState `json:"status"`
	Bundle      string               `json:"bundle"`
	Rootfs      string               `json:"rootfs"`
	Created     time.Time            `json:"created"`
	Annotations map[string]string    `json:"annotations,omitempty"`
	Owner       string               `json:"owner"`
}

// Container is one container in a state store.
type Container struct {
	store *state.Store
	p     persisted
}

// ID returns the container's id.
func (c *Container) ID() string { return c.p.ID }

// Pid returns the pid of the container's init process (0 when unknown).
func (c *Container) Pid() int { return c.p.InitPid }

// Load opens an existing container.
func Load(store *state.Store, id string) (*Container, error) {
	c := &Container{store: store}
	if err := store.Read(id, &c.p); err != nil {
		return nil, err
	}
	return c, nil
}

// StatePaused is the status of a container berth paused, while its cgroup
// is frozen. The OCI spec leaves pausing out; runc reports it under this
// name.
const StatePaused specs.ContainerState = "paused"

// Status reports where the container is in its life cycle.
func (c *Container) Status() specs.ContainerState {
	if c.p.InitPid == 0 {
		return specs.StateCreating
	}
	if !c.initAlive() {
		return specs.StateStopped
	}
	if c.paused() {
		return StatePaused
	}
	var st unix.Stat_t
	if unix.Lstat(filepath.Join(c.dir(), execFifoName), &st) == nil {
		return specs.StateCreated
	}
	return specs.StateRunning
}

// State returns the container's state in the OCI (and runc) shape.
func (c *Container) State() State {
	st := State{
		Version:     specs.Version,
		ID:          c.p.ID,
		Status:      c.Status(),
		Bundle:      c.p.Bundle,
		Rootfs:      c.p.Rootfs,
		Created:     c.p.Created,
		Annotations: c.p.Annotations,
		Owner:       c.p.Owner,
	}
	if st.Status != specs.StateStopped {
		st.Pid = c.p.InitPid
	}
	return st
}

// List returns the state of every container in the store, skipping those
// still being created or already half removed.
func List(store *state.Store) ([]State, error) {
	ids, err := store.List()
	if err != nil {
		return nil, err
	}
	states := make([]State, 0, len(ids))
	for _, id := range ids {
		// The summary is all Status needs unless the container is
		// paused, when it reads the freezer through the cgroup paths:
		// a map per container that list need not build.
		c := &Container{store: store}
		err := store.Read(id, &c.p.summary)
		if err == nil && c.p.Paused {
			err = store.Read(id, &c.p)
		}
		if errors.Is(err, state.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		states = append(states, c.State())
	}
	return states, nil
}

func (c *Container) dir() string { return filepath.Join(c.store.Root(), c.p.ID) }

// initAlive reports whether the container's init still runs: the pid
// exists, is not a zombie, and started when ours did.
func (c *Container) initAlive() bool {
	st, start, err := procStat(c.p.InitPid)
	if err != nil {
		return false
	}
	return st != 'Z' && st != 'X' && start == c.p.InitStartTime
}

// procStat reads a process's state letter and start time (in clock ticks
// since boot) from /proc/<pid>/stat.
func procStat(pid int) (byte, uint64, error) {
	// The line is a few hundred bytes; list reads one per container.
	var buf [1024]byte
	data, err := smallfile.ReadInto(buf[:], "/proc/"+strconv.Itoa(pid)+"/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name may contain spaces and parentheses; the fields we
	// want come after its last ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat", pid)
	}
	// Then single spaces separate the fields from 3 (the state) on;
	// starttime is field 22.
	rest := data[i+2:]
	state := rest[0]
	for range 22 - 3 {
		sp := bytes.IndexByte(rest, ' ')
		if sp < 0 {
			return 0, 0, fmt.Errorf("parse /proc/%d/stat", pid)
		}
		rest = rest[sp+1:]
	}
	if sp := bytes.IndexByte(rest, ' '); sp >= 0 {
		rest = rest[:sp]
	}
	start, err := strconv.ParseUint(string(rest), 10, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("parse /proc/%d/stat: %w", pid, err)
	}
	return state, start, nil
}

// Spec reads the config the container was created from.
func (c *Container) Spec() (*specs.Spec, error) {
	var s specs.Spec
	if err := c.readConfig(&s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Process reads the process of the config the container was created from.
// It decodes that alone: encoding/json prepares its machinery for every type
// a struct it decodes can hold, which for the whole spec costs a short
// command like exec a millisecond and 0.2 MB.
func (c *Container) Process() (*specs.Process, error) {
	var s struct {
		Process *specs.Process `json:"process"`
	}
	if err := c.readConfig(&s); err != nil {
		return nil, err
	}
	if s.Process == nil {
		return nil, fmt.Errorf("config of container %q has no process", c.p.ID)
	}
	return s.Process, nil
}

// readConfig decodes the container's config, or the part of it v holds.
func (c *Container) readConfig(v any) error {
	if err := readJSON(filepath.Join(c.dir(), configFileName), v); err != nil {
		return fmt.Errorf("read config of container %q: %w", c.p.ID, err)
	}
	return nil
}

func (c *Container) cgroup() (cgroups.Manager, error) {
	return cgroups.Load(c.p.CgroupPaths, c.p.PreexistingCgroups)
}

// isNotExist reports an error for a file or a container that is not there.
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, state.ErrNotExist)
}
