package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// Docker's CLI (cobra with pflag) accepts flags after positional arguments:
// `docker rmi busybox -f`, `docker inspect web --format '{{.Id}}'`. urfave/cli
// stops parsing flags at the first positional, so interspersedArgs moves the
// flags of the command being run in front of its positionals before urfave
// sees them.
//
// Commands whose trailing arguments belong to the container (run, create,
// exec...) keep Docker's own rule: everything after the image or container
// is the command, flags included (cobra's SetInterspersed(false)).
var notInterspersed = map[string]bool{
	"run": true, "create": true, "exec": true, "unshare": true,
}

func interspersedArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	// Global flags come before the command name.
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "-" {
		if args[i] == "--" {
			return args
		}
		if flagTakesValue(app.Flags, args[i]) {
			i++
		}
		i++
	}
	cmds := app.Commands
	var cmd *cli.Command
	for i < len(args) {
		next := subcommand(cmds, args[i])
		if next == nil {
			break
		}
		cmd, cmds = next, next.Subcommands
		i++
	}
	if cmd == nil || notInterspersed[cmd.Name] || cmd.SkipFlagParsing {
		return args
	}
	flags, positionals := splitFlags(cmd.Flags, args[i:])
	out := append([]string{}, args[:i]...)
	out = append(out, flags...)
	return append(out, positionals...)
}

// splitFlags separates rest into flags (with their values) and positionals,
// keeping each group's order. "--" ends flag parsing, as in pflag.
func splitFlags(defs []cli.Flag, rest []string) (flags, positionals []string) {
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		switch {
		case a == "--":
			// urfave treats "--" as the end of flags too: keep it in front
			// of the positionals that follow it.
			positionals = append(positionals, rest[j:]...)
			return flags, positionals
		case strings.HasPrefix(a, "-") && a != "-":
			flags = append(flags, a)
			if flagTakesValue(defs, a) && j+1 < len(rest) {
				j++
				flags = append(flags, rest[j])
			}
		default:
			positionals = append(positionals, a)
		}
	}
	return flags, positionals
}

// flagTakesValue reports whether arg (e.g. "--format", "-f", "-it") consumes
// the next argument as its value.
func flagTakesValue(defs []cli.Flag, arg string) bool {
	if strings.Contains(arg, "=") {
		return false
	}
	if strings.HasPrefix(arg, "--") {
		return valueFlag(defs, arg[2:])
	}
	name := arg[1:]
	if f := lookupFlag(defs, name); f != nil {
		return isValueFlag(f)
	}
	// Combined short flags (-it, -fq): only the last one may take a value.
	return len(name) > 1 && valueFlag(defs, name[len(name)-1:])
}

func valueFlag(defs []cli.Flag, name string) bool {
	f := lookupFlag(defs, name)
	return f != nil && isValueFlag(f)
}

func lookupFlag(defs []cli.Flag, name string) cli.Flag {
	for _, f := range defs {
		names := f.Names()
		if a, ok := f.(*aliasedFlag); ok { // its aliases are hidden from urfave
			names = a.allNames()
		}
		for _, n := range names {
			if n == name {
				return f
			}
		}
	}
	return nil
}

func isValueFlag(f cli.Flag) bool {
	if dv, ok := f.(cli.DocGenerationFlag); ok {
		return dv.TakesValue()
	}
	return true
}

func subcommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}
