// recvtty receives pty masters on a unix socket, as a container engine
// does with `--console-socket`, for tests and for trying berth by hand.
//
//	recvtty [-mode print|null] [-once] SOCKET
//
// In print mode it copies each terminal's output to stdout and its own
// stdin to the terminal; in null mode it only drains the output.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/berthrt/berth/libcontainer"
)

func main() {
	mode := flag.String("mode", "print", "print: copy the terminal's output to stdout and stdin to it; null: discard the output")
	once := flag.Bool("once", false, "exit after the first terminal closes")
	flag.Parse()
	if flag.NArg() != 1 || (*mode != "print" && *mode != "null") {
		fmt.Fprintln(os.Stderr, "usage: recvtty [-mode print|null] [-once] SOCKET")
		os.Exit(2)
	}
	if err := serve(flag.Arg(0), *mode, *once); err != nil {
		fmt.Fprintln(os.Stderr, "recvtty:", err)
		os.Exit(1)
	}
}

func serve(path, mode string, once bool) error {
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return err
	}
	defer ln.Close()
	for {
		conn, err := ln.AcceptUnix()
		if err != nil {
			return err
		}
		sock, err := conn.File()
		conn.Close()
		if err != nil {
			return err
		}
		master, err := libcontainer.RecvPty(sock)
		sock.Close()
		if err != nil {
			return err
		}
		done := make(chan struct{})
		go func() {
			out := io.Writer(os.Stdout)
			if mode == "null" {
				out = io.Discard
			}
			// Ends with EIO when the last holder of the slave exits.
			_, _ = io.Copy(out, master)
			close(done)
		}()
		if mode == "print" {
			go func() { _, _ = io.Copy(master, os.Stdin) }()
		}
		if once {
			<-done
			return nil
		}
	}
}
