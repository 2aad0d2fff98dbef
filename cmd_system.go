package main

import "github.com/urfave/cli/v2"

// systemCommands: system prune/df, info, version.
func systemCommands() []*cli.Command { return nil }
