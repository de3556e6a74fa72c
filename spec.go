package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/berthrt/berth/spec"
)

var specCommand = &cli.Command{
	Name:  "spec",
	Usage: "write a default config.json into the bundle",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "bundle", Aliases: []string{"b"}, Usage: "bundle directory (default: the current directory)"},
		&cli.BoolFlag{Name: "rootless", Usage: "write a config for a container run by an unprivileged user"},
	},
	Action: func(c *cli.Context) error {
		s := spec.Default()
		if c.Bool("rootless") {
			spec.Rootless(s, uint32(os.Geteuid()), uint32(os.Getegid()))
		}
		path := filepath.Join(c.String("bundle"), spec.ConfigName)
		data, err := json.MarshalIndent(s, "", "\t")
		if err != nil {
			return err
		}
		// O_EXCL: never overwrite a config someone has edited, as runc.
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
		if err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		if _, err := f.Write(append(data, '\n')); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", path, err)
		}
		return f.Close()
	},
}
