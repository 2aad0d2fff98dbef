package main

import "github.com/urfave/cli/v2"

// containerCommands: run, create, start, stop, kill, rm, ps, logs, wait,
// inspect, rename, restart, top, port, container ...
func containerCommands() []*cli.Command { return nil }
