package main

import (
	"slices"
	"strings"
	"testing"
)

func TestFlagsFirst(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// Flags after the id move in front of it, with their values.
		{"update ID --memory 1M", "update --memory 1M -- ID"},
		{"--root /r --debug update ID --cpuset-cpus 1 --pids-limit=5", "--root /r --debug update --cpuset-cpus 1 --pids-limit=5 -- ID"},
		{"create ID -b DIR --no-pivot", "create -b DIR --no-pivot -- ID"},
		// A value may begin with a dash, or be "-" or "--".
		{"update ID --cpu-quota -1", "update --cpu-quota -1 -- ID"},
		{"update ID -r -", "update -r - -- ID"},
		{"update ID --cpuset-cpus --", "update --cpuset-cpus -- -- ID"},
		// A boolean takes no value: the signal stays an argument (runc 1.1
		// would read "--all 9" as --all and container "9").
		{"kill ID --all 9", "kill --all -- ID 9"},
		{"kill ID 9 -a", "kill -a -- ID 9"},
		// "--" ends the flags; what follows stays an argument.
		{"update ID -- --memory 1M", "update -- ID --memory 1M"},
		{"update ID --pids-limit 7 --", "update --pids-limit 7 -- ID"},
		{"update -- ID", "update -- ID"},
		// Unknown flags move too, for urfave/cli to refuse.
		{"update ID --bogus 1", "update --bogus -- ID 1"},
		// A flag without its value is left last, for urfave/cli to report.
		{"update ID --memory", "update --memory"},
		{"list -q", "list -q --"},
		{"update ID --memory 1M --help", "update --help"},
		{"update -h ID", "update -h"},
		// exec and ps pass the words after the id on: nothing moves.
		{"exec ID --env X=1 sh", "exec ID --env X=1 sh"},
		{"--root /r exec -t ID sh -c --x", "--root /r exec -t ID sh -c --x"},
		{"ps ID -o pid", "ps ID -o pid"},
		// No command, or one berth does not have.
		{"--root /r", "--root /r"},
		{"--version", "--version"},
		{"help update", "help update"},
		{"nosuch ID --x", "nosuch ID --x"},
	} {
		args := append([]string{"berth"}, strings.Fields(tc.in)...)
		want := append([]string{"berth"}, strings.Fields(tc.want)...)
		if got := flagsFirst(newApp(), args); !slices.Equal(got, want) {
			t.Errorf("flagsFirst(%q) = %q, want %q", tc.in, got[1:], want[1:])
		}
	}
}

func TestEveryCommandDeclaresOperands(t *testing.T) {
	for _, cmd := range newApp().Commands {
		if _, ok := commandOperands[cmd]; !ok {
			t.Errorf("berth %s: no entry in commandOperands", cmd.Name)
		}
	}
}
