package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// urfave/cli computes a flag's names on every Names() call with a regexp
// (cli.FlagNames strips v1-style "name, n" forms), and looks flags up by
// walking every flag's Names(): runFlagActions asks IsSet for each flag,
// and IsSet of an unset flag walks all of them, so a command with ~100
// flags (run, create) ran ~10^4 regexps per call, ~10% of create's CPU.
// fixedNames wraps each flag of the table once, at start-up, in a type
// whose Names() returns the names computed without a regexp (skiff's flag
// names never hold the commas or spaces FlagNames strips). The wrappers
// embed the urfave flag, so every other method (Apply, String, TakesValue,
// IsVisible...) and every optional interface stays the flag's own.

type boolFlag struct {
	*cli.BoolFlag
	names []string
}

func (f boolFlag) Names() []string { return f.names }

type stringFlag struct {
	*cli.StringFlag
	names []string
}

func (f stringFlag) Names() []string { return f.names }

type intFlag struct {
	*cli.IntFlag
	names []string
}

func (f intFlag) Names() []string { return f.names }

type int64Flag struct {
	*cli.Int64Flag
	names []string
}

func (f int64Flag) Names() []string { return f.names }

type stringSliceFlag struct {
	*cli.StringSliceFlag
	names []string
}

func (f stringSliceFlag) Names() []string { return f.names }

type durationFlag struct {
	*cli.DurationFlag
	names []string
}

func (f durationFlag) Names() []string { return f.names }

type genericFlag struct {
	*cli.GenericFlag
	names []string
}

func (f genericFlag) Names() []string { return f.names }

// Names of an aliasedFlag: urfave knows it by its name alone (its aliases
// are registered behind urfave's back, see aliasedFlag).
func (f *aliasedFlag) Names() []string { return []string{f.Name} }

// fixedNames wraps the flags urfave looks up in this call: the global ones
// and those of the command args name and of its group ("container ls"),
// the lineage urfave's lookups walk. The other commands' flags are never
// looked up.
func fixedNames(app *cli.App, args []string) {
	app.Flags = wrapFlags(app.Flags)
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "-" && args[i] != "--" {
		if flagTakesValue(app.Flags, args[i]) {
			i++
		}
		i++
	}
	cmds := app.Commands
	for ; i < len(args); i++ {
		c := subcommand(cmds, args[i])
		if c == nil {
			return
		}
		c.Flags = wrapFlags(c.Flags)
		cmds = c.Subcommands
	}
}

func wrapFlags(flags []cli.Flag) []cli.Flag {
	for i, f := range flags {
		flags[i] = wrapFlag(f)
	}
	return flags
}

// wrapFlag wraps the flag types skiff uses; any other is left as it is
// (correct, only slower to look up).
func wrapFlag(f cli.Flag) cli.Flag {
	switch f := f.(type) {
	case *cli.BoolFlag:
		return boolFlag{f, flagNames(f.Name, f.Aliases)}
	case *cli.StringFlag:
		return stringFlag{f, flagNames(f.Name, f.Aliases)}
	case *cli.IntFlag:
		return intFlag{f, flagNames(f.Name, f.Aliases)}
	case *cli.Int64Flag:
		return int64Flag{f, flagNames(f.Name, f.Aliases)}
	case *cli.StringSliceFlag:
		return stringSliceFlag{f, flagNames(f.Name, f.Aliases)}
	case *cli.DurationFlag:
		return durationFlag{f, flagNames(f.Name, f.Aliases)}
	case *cli.GenericFlag:
		return genericFlag{f, flagNames(f.Name, f.Aliases)}
	}
	return f
}

func flagNames(name string, aliases []string) []string {
	return append([]string{name}, aliases...)
}

// flagName is a flag's primary name, without the regexp of Names().
func flagName(f cli.Flag) string {
	switch f := f.(type) {
	case *cli.BoolFlag:
		return f.Name
	case *cli.StringFlag:
		return f.Name
	case *cli.IntFlag:
		return f.Name
	case *cli.Int64Flag:
		return f.Name
	case *cli.StringSliceFlag:
		return f.Name
	case *cli.DurationFlag:
		return f.Name
	case *cli.GenericFlag:
		return f.Name
	case *aliasedFlag:
		return f.Name
	}
	return f.Names()[0]
}
