package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// Where flags may go on a command line, and how many other words a
// command takes.
//
// runc 1.1 parses its command lines with urfave/cli v1, which moves the
// flags a command knows in front of the command's other words before
// parsing, so `runc update ID --memory 1M` means `runc update --memory 1M
// ID`. Only exec and ps take their words as they come: what follows the
// container id belongs to the program they run (exec's command, ps's
// options). urfave/cli v2 stops parsing flags at the first other word, so
// a flag after the id used to become an argument nobody read, and berth
// exited 0 having ignored it. berth therefore moves the flags itself
// before urfave/cli parses the line (flagsFirst), and every command
// refuses words it does not take (checkOperands).

// operands is how many words other than flags a command takes. A command
// without an upper limit passes the words after its first on to another
// program, so its own flags end at that first word.
type operands struct{ min, max int }

const unlimited = -1

// commandOperands holds every command's operands, as runc counts them.
var commandOperands = map[*cli.Command]operands{
	createCommand:   {1, 1},
	deleteCommand:   {1, 1},
	eventsCommand:   {1, 1},
	execCommand:     {1, unlimited},
	featuresCommand: {0, 0},
	killCommand:     {1, 2},
	listCommand:     {0, 0},
	pauseCommand:    {1, 1},
	psCommand:       {1, unlimited},
	resumeCommand:   {1, 1},
	runCommand:      {1, 1},
	specCommand:     {0, 0},
	startCommand:    {1, 1},
	stateCommand:    {1, 1},
	updateCommand:   {1, 1},
}

// flagsFirst returns the command line args with the flags of the command
// it names moved, with their values, in front of the command's other
// words, which follow a "--" so that none of them is read as a flag. A
// "--" on the line ends the flags, as it does for runc. Unknown flags move
// too, for urfave/cli to refuse. --help leaves nothing else. A flag that wants a value and has none
// is left last, without the words, for urfave/cli to report. Lines naming
// no command, or a command that passes words on, are returned as they are.
func flagsFirst(app *cli.App, args []string) []string {
	at := commandIndex(app.Flags, args)
	if at < 0 {
		return args
	}
	cmd := app.Command(args[at])
	if cmd == nil || commandOperands[cmd].max == unlimited {
		return args
	}
	var flags, words []string
	rest := args[at+1:]
	for i := 0; i < len(rest); i++ {
		arg := rest[i]
		if arg == "--" {
			words = append(words, rest[i+1:]...)
			break
		}
		if !isFlag(arg) {
			words = append(words, arg)
			continue
		}
		if slices.Contains(cli.HelpFlag.Names(), strings.TrimLeft(arg, "-")) {
			// Help on the command, whatever else the line says
			// (urfave/cli would take a word for a help topic).
			return append(slices.Clone(args[:at+1]), arg)
		}
		flags = append(flags, arg)
		if takesValue(cmd.Flags, arg) {
			if i+1 == len(rest) {
				return append(slices.Clone(args[:at+1]), flags...)
			}
			i++
			flags = append(flags, rest[i])
		}
	}
	out := append(slices.Clone(args[:at+1]), flags...)
	return append(append(out, "--"), words...)
}

// commandIndex returns where the command word is in args (args[0] being
// the program), past the global flags and their values, or -1.
func commandIndex(globals []cli.Flag, args []string) int {
	for i := 1; i < len(args); i++ {
		switch arg := args[i]; {
		case arg == "--":
			return -1
		case !isFlag(arg):
			return i
		case takesValue(globals, arg):
			i++
		}
	}
	return -1
}

func isFlag(arg string) bool {
	return strings.HasPrefix(arg, "-") && arg != "-"
}

// takesValue reports whether arg is one of flags that takes its value from
// the next word: not a boolean, and not written as --name=value.
func takesValue(flags []cli.Flag, arg string) bool {
	name := strings.TrimLeft(arg, "-")
	if strings.Contains(name, "=") {
		return false
	}
	for _, f := range flags {
		if slices.Contains(f.Names(), name) {
			v, ok := f.(cli.DocGenerationFlag)
			return ok && v.TakesValue()
		}
	}
	return false
}

// setupCommands makes each command refuse words it does not take, and
// read "help" and "h" as container ids rather than as a request for help,
// as runc does (`berth help CMD` and `berth CMD --help` still show it).
func setupCommands(cmds []*cli.Command) {
	for _, cmd := range cmds {
		cmd.HideHelpCommand = true
		cmd.Before = checkOperands
	}
}

// checkOperands refuses a command line with fewer or more words than the
// command takes, so that no word is silently ignored.
func checkOperands(c *cli.Context) error {
	want, ok := commandOperands[c.Command]
	if !ok {
		return fmt.Errorf("%s: berth does not know which arguments this command takes", c.Command.Name)
	}
	usage := strings.TrimSpace("berth " + c.Command.Name + " [flags] " + c.Command.ArgsUsage)
	n := c.NArg()
	switch {
	case n < want.min: // 1: every command takes at most a container id first
		return fmt.Errorf("%s: missing container id (usage: %s)", c.Command.Name, usage)
	case want.max != unlimited && n > want.max:
		return fmt.Errorf("%s: unexpected argument %q (usage: %s)", c.Command.Name, c.Args().Get(want.max), usage)
	}
	return nil
}
