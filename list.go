package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/berthrt/berth/libcontainer"
)

var listCommand = &cli.Command{
	Name:    "list",
	Aliases: []string{"ps-all"},
	Usage:   "list containers",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: "table", Usage: "table or json"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "print only the ids"},
	},
	Action: func(c *cli.Context) error {
		format := c.String("format")
		if format != "table" && format != "json" {
			return fmt.Errorf("unknown --format %q: use table or json", format)
		}
		store, err := openStore(c)
		if err != nil {
			return err
		}
		states, err := libcontainer.List(store)
		if err != nil {
			return err
		}
		// One write for the whole listing, not one per line or cell.
		out := bufio.NewWriter(os.Stdout)
		switch {
		case c.Bool("quiet"):
			for _, s := range states {
				fmt.Fprintln(out, s.ID)
			}
		case format == "json":
			// No containers is "null", as runc prints it.
			if len(states) == 0 {
				states = nil
			}
			if err := json.NewEncoder(out).Encode(states); err != nil {
				return err
			}
		default:
			w := tabwriter.NewWriter(out, 12, 1, 3, ' ', 0)
			fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
			for _, s := range states {
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano), s.Owner)
			}
			if err := w.Flush(); err != nil {
				return err
			}
		}
		return out.Flush()
	},
}
