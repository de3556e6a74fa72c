package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

var psCommand = &cli.Command{
	Name:      "ps",
	Usage:     "show the processes of a container",
	ArgsUsage: "<container-id> [-- ps options]",
	Description: `With --format table (the default) it runs the host's ps with the given
options (default -ef) and keeps the header and the container's processes.
With --format json it prints the container's pids as a JSON array.`,
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
	},
	Action: func(c *cli.Context) error {
		format := c.String("format")
		if format != "table" && format != "json" {
			return fmt.Errorf("unknown --format %q: use table or json", format)
		}
		ctr, err := loadContainer(c)
		if err != nil {
			return err
		}
		pids, err := ctr.Processes()
		if err != nil {
			return err
		}
		if format == "json" {
			return json.NewEncoder(os.Stdout).Encode(append([]int{}, pids...))
		}
		args := c.Args().Tail()
		if len(args) > 0 && args[0] == "--" {
			args = args[1:]
		}
		if len(args) == 0 {
			args = []string{"-ef"}
		}
		return printProcesses(pids, args)
	},
}

// printProcesses runs ps with args and prints its header and the lines of
// the processes in pids.
func printProcesses(pids []int, args []string) error {
	out, err := exec.Command("ps", args...).Output()
	if err != nil {
		return fmt.Errorf("run ps %s: %w", strings.Join(args, " "), err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	col := slices.Index(strings.Fields(lines[0]), "PID")
	if col < 0 {
		return fmt.Errorf("ps %s: its output has no PID column", strings.Join(args, " "))
	}
	fmt.Println(lines[0])
	for _, line := range lines[1:] {
		fields := strings.Fields(line)
		if col >= len(fields) {
			continue
		}
		pid, err := strconv.Atoi(fields[col])
		if err != nil {
			return fmt.Errorf("ps %s: PID %q is not a number", strings.Join(args, " "), fields[col])
		}
		if slices.Contains(pids, pid) {
			fmt.Println(line)
		}
	}
	return nil
}
