// Package hooks runs OCI lifecycle hooks: a program with the container's
// state JSON on its stdin, within an optional timeout.
package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berthrt/berth/libcontainer/nsenter"
)

// Run runs one hook and waits for it. A hook that exits non-zero, cannot
// start or outlives its timeout is an error that names the hook and shows
// what it wrote to stderr.
func Run(kind string, h specs.Hook, state *specs.State) error {
	input, err := json.Marshal(state)
	if err != nil {
		return fmt.Errorf("%s hook %s: encode state: %w", kind, h.Path, err)
	}
	ctx := context.Background()
	if h.Timeout != nil {
		if *h.Timeout <= 0 {
			return fmt.Errorf("%s hook %s: timeout must be positive, got %d", kind, h.Path, *h.Timeout)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, h.Path)
	// args[0] is the hook's argv[0], which need not be its path.
	cmd.Args = h.Args
	if len(cmd.Args) == 0 {
		cmd.Args = []string{h.Path}
	}
	// No env means an empty environment, not berth's (which holds its
	// own _BERTH_* and, in init, Go runtime settings).
	cmd.Env = append([]string{}, h.Env...)
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	// On timeout the hook's whole process group goes, so that children it
	// started cannot keep its output open and the caller waiting.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	err = start(cmd)
	if err == nil {
		err = cmd.Wait()
	}
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("%s hook %s: timed out after %ds", kind, h.Path, *h.Timeout)
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		var exit *exec.ExitError
		if errors.As(err, &exit) && msg != "" {
			return fmt.Errorf("%s hook %s: %v: %s", kind, h.Path, err, msg)
		}
		return fmt.Errorf("%s hook %s: %w", kind, h.Path, err)
	}
	return nil
}

// start starts cmd from a thread with the timer slack of berth's caller,
// which the hook inherits instead of berth's raised one.
func start(cmd *exec.Cmd) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := nsenter.RestoreTimerSlack(); err != nil {
		return err
	}
	return cmd.Start()
}

// RunAll runs hooks in order and stops at the first that fails.
func RunAll(kind string, hs []specs.Hook, state *specs.State) error {
	for _, h := range hs {
		if err := Run(kind, h, state); err != nil {
			return err
		}
	}
	return nil
}
