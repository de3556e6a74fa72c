package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"
)

// event is one line of `events` output, in runc's shape: "stats" events
// carry the cgroup counters, "oom" events nothing.
type event struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data any    `json:"data,omitempty"`
}

var eventsCommand = &cli.Command{
	Name:      "events",
	Usage:     "print a container's resource usage and OOM events as JSON lines",
	ArgsUsage: "<container-id>",
	Description: `Prints a "stats" event every --interval and an "oom" event whenever the
kernel runs out of memory in the container, until the container stops.`,
	Flags: []cli.Flag{
		&cli.DurationFlag{Name: "interval", Value: 5 * time.Second, Usage: "time between stats events"},
		&cli.BoolFlag{Name: "stats", Usage: "print the stats once and exit"},
	},
	Action: func(c *cli.Context) error {
		interval := c.Duration("interval")
		if interval <= 0 {
			return fmt.Errorf("invalid --interval %v: must be greater than 0", interval)
		}
		ctr, err := loadContainer(c)
		if err != nil {
			return err
		}
		if ctr.Status() == specs.StateStopped {
			return fmt.Errorf("container %q is not running", ctr.ID())
		}
		enc := json.NewEncoder(os.Stdout)
		if c.Bool("stats") {
			s, err := ctr.Stats()
			if err != nil {
				return err
			}
			return enc.Encode(event{Type: "stats", ID: ctr.ID(), Data: s})
		}
		oom, err := ctr.NotifyOOM()
		if err != nil {
			return err
		}
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case _, ok := <-oom:
				if !ok {
					return nil // the cgroup is gone or empty
				}
				if err := enc.Encode(event{Type: "oom", ID: ctr.ID()}); err != nil {
					return err
				}
			case <-tick.C:
				if ctr.Status() == specs.StateStopped {
					return nil
				}
				s, err := ctr.Stats()
				if err != nil {
					// The next interval may do better; a
					// stream should not end on one miss.
					logrus.Error(err)
					continue
				}
				if err := enc.Encode(event{Type: "stats", ID: ctr.ID(), Data: s}); err != nil {
					return err
				}
			}
		}
	},
}
