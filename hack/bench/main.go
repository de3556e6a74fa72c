// Command bench measures berth against runc and crun on one busybox bundle:
// wall time, CPU time and memory of each runtime command, the three runtimes
// interleaved so that the machine's noise hits them alike.
//
// It runs as root and in two processes. The outer one makes the bundle and
// a cgroup for the benchmark below its own, and removes both at the end
// whatever happened. The inner one runs in new mount and cgroup namespaces
// rooted at that cgroup, shows the runtimes a /sys/fs/cgroup with only the
// v1 hierarchies (crun 1.8 refuses hybrid hosts), and measures.
// docs/performance.md says what is measured and how to read it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// config is what the command line sets.
type config struct {
	reps     int
	rounds   int
	levels   []int
	jsonPath string
	berth    string
	runc     string
	crun     string
	mkbundle string
	spawner  string
}

func main() {
	var cfg config
	var levels string
	flag.IntVar(&cfg.reps, "reps", 30, "repetitions of each single-container operation")
	flag.IntVar(&cfg.rounds, "rounds", 3, "rounds of the concurrent operations")
	flag.StringVar(&levels, "n", "10,100,200", "comma-separated numbers of containers to start concurrently; list and state run with the largest present")
	flag.StringVar(&cfg.jsonPath, "json", "", "also write the results to `FILE` as JSON")
	flag.StringVar(&cfg.berth, "berth", "./berth", "berth binary")
	flag.StringVar(&cfg.runc, "runc", "/usr/sbin/runc", "runc binary")
	flag.StringVar(&cfg.crun, "crun", "/usr/bin/crun", "crun binary")
	flag.StringVar(&cfg.mkbundle, "mkbundle", "hack/mkbundle.sh", "script that makes the busybox bundle")
	flag.StringVar(&cfg.spawner, "spawner", "", "the spawner binary (default: spawner beside this one)")
	flag.Parse()
	// The table goes to a pipe more often than not; a reader that goes away
	// must not stop the clean-up.
	signal.Ignore(unix.SIGPIPE)

	err := check(&cfg, levels)
	if err == nil {
		if work := os.Getenv(workdirEnv); work != "" {
			err = inner(cfg, work)
		} else {
			err = outer(cfg)
		}
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		// The inner process has said what went wrong.
		os.Exit(exit.ExitCode())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench: "+err.Error())
		os.Exit(1)
	}
}

// check validates the settings and makes the paths absolute, for the
// output to name them exactly.
func check(cfg *config, levels string) error {
	if cfg.reps < 1 || cfg.rounds < 1 {
		return errors.New("-reps and -rounds must be at least 1")
	}
	for _, f := range strings.Split(levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("-n %q: want positive numbers separated by commas", levels)
		}
		cfg.levels = append(cfg.levels, n)
	}
	if cfg.spawner == "" {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		cfg.spawner = filepath.Join(filepath.Dir(self), "spawner")
	}
	for _, p := range []*string{&cfg.berth, &cfg.runc, &cfg.crun, &cfg.mkbundle, &cfg.spawner} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return fmt.Errorf("path %s: %w", *p, err)
		}
		*p = abs
	}
	return nil
}
