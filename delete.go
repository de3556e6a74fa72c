package main

import (
	"github.com/urfave/cli/v2"

	"github.com/berthrt/berth/libcontainer"
)

var deleteCommand = &cli.Command{
	Name:      "delete",
	Usage:     "delete a container and what it holds",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "kill the container first if it runs; succeed if it does not exist"},
	},
	Action: func(c *cli.Context) error {
		id, err := requireID(c)
		if err != nil {
			return err
		}
		store, err := openStore(c)
		if err != nil {
			return err
		}
		return libcontainer.Delete(store, id, c.Bool("force"))
	},
}
