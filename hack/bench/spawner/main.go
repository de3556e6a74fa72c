// Command spawner is the benchmark's spawner process (see package spawn).
// It is a binary of its own so that it stays small: its peak RSS is the
// floor of every ru_maxrss the benchmark measures.
package main

import (
	"fmt"
	"os"

	"github.com/berthrt/berth/hack/bench/spawn"
)

func main() {
	if err := spawn.Serve(); err != nil {
		fmt.Fprintln(os.Stderr, "spawner: "+err.Error())
		os.Exit(1)
	}
}
