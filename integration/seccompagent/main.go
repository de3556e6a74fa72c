// seccompagent is the seccomp agent of berth's integration tests: the other
// end of the runtime spec's seccomp notify protocol.
//
// It accepts connections on the listening unix socket it inherits as fd 3,
// reads one container process state and its notify fd from each, appends
// the state as one JSON line to the file named by -state, and answers the
// notifications: mkdir and mkdirat return -errno without making anything
// (0, success, unless the state's metadata says "errno=N"); every other
// syscall goes ahead. It runs until it is killed.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

func main() {
	statePath := flag.String("state", "", "append each container process state received to `FILE`")
	flag.Parse()
	if *statePath == "" {
		log.Fatal("seccompagent: -state is required")
	}
	ln, err := net.FileListener(os.NewFile(3, "listener"))
	if err != nil {
		log.Fatalf("seccompagent: fd 3 is not a listening socket: %v", err)
	}
	var mu sync.Mutex
	for {
		conn, err := ln.Accept()
		if err != nil {
			log.Fatalf("seccompagent: accept: %v", err)
		}
		st, notify, err := receive(conn.(*net.UnixConn))
		conn.Close()
		if err != nil {
			log.Printf("seccompagent: %v", err)
			continue
		}
		mu.Lock()
		err = appendLine(*statePath, st)
		mu.Unlock()
		if err != nil {
			log.Fatalf("seccompagent: %v", err)
		}
		go serve(notify, errnoFrom(st.Metadata))
	}
}

// receive reads one state and the notify fd that comes with it.
func receive(conn *net.UnixConn) (*specs.ContainerProcessState, libseccomp.ScmpFd, error) {
	buf := make([]byte, 64<<10)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, -1, fmt.Errorf("read state: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, -1, fmt.Errorf("no fd with the state (%d control messages, %v)", len(msgs), err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, -1, fmt.Errorf("want one fd with the state, got %d (%v)", len(fds), err)
	}
	var st specs.ContainerProcessState
	if err := json.Unmarshal(buf[:n], &st); err != nil {
		unix.Close(fds[0])
		return nil, -1, fmt.Errorf("parse state %q: %w", buf[:n], err)
	}
	return &st, libseccomp.ScmpFd(fds[0]), nil
}

func appendLine(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write(append(data, '\n'))
	return err
}

// errnoFrom reads "errno=N" from the metadata; 0 otherwise.
func errnoFrom(metadata string) int32 {
	for _, kv := range strings.Split(metadata, ";") {
		if v, ok := strings.CutPrefix(kv, "errno="); ok {
			n, err := strconv.Atoi(v)
			if err == nil {
				return int32(n)
			}
		}
	}
	return 0
}

// serve answers notifications until every process under the filter is
// gone.
func serve(fd libseccomp.ScmpFd, errno int32) {
	defer unix.Close(int(fd))
	for {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			log.Printf("seccompagent: poll: %v", err)
			return
		}
		if pfd[0].Revents&unix.POLLIN == 0 {
			return // POLLHUP: no process uses the filter any more
		}
		req, err := libseccomp.NotifReceive(fd)
		if err != nil {
			log.Printf("seccompagent: receive: %v", err)
			return
		}
		resp := &libseccomp.ScmpNotifResp{ID: req.ID, Flags: libseccomp.NotifRespFlagContinue}
		name, _ := req.Data.Syscall.GetNameByArch(req.Data.Arch)
		if name == "mkdir" || name == "mkdirat" {
			resp = &libseccomp.ScmpNotifResp{ID: req.ID, Error: errno}
		}
		if err := libseccomp.NotifRespond(fd, resp); err != nil {
			log.Printf("seccompagent: respond to %s: %v", name, err)
		}
	}
}
