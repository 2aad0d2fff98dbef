package main

import (
	"github.com/urfave/cli/v2"
)

// unshareCommand is podman unshare: a command (default $SHELL) run as root
// of the rootless user namespace, to inspect or clean the store by hand.
// main's re-exec (engine/rootless.go) has already put this process there.
func unshareCommand() *cli.Command {
	return &cli.Command{
		Name:      "unshare",
		Usage:     "Run a command in a modified user namespace",
		ArgsUsage: "[COMMAND [ARG...]]",
		// Everything after "unshare" is the command's own: `unshare ls -l`.
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			return e.Unshare(c.Args().Slice())
		},
	}
}
