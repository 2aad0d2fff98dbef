package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/skiff-dev/skiff/engine"
	"github.com/skiff-dev/skiff/store"
)

// copyCommands: cp, diff, export, pause, unpause (also under `container`).
func copyCommands() []*cli.Command {
	return []*cli.Command{cpCommand(), diffCommand(), exportCommand(), pauseCommand("pause"), pauseCommand("unpause")}
}

func cpCommand() *cli.Command {
	return &cli.Command{
		Name:                   "cp",
		Usage:                  "Copy files/folders between a container and the local filesystem",
		ArgsUsage:              "CONTAINER:SRC_PATH DEST_PATH|-\n   skiff cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
		UseShortOptionHandling: true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "archive", Aliases: []string{"a"}, Usage: "archive mode (copy all uid/gid information)"},
			&cli.BoolFlag{Name: "follow-link", Aliases: []string{"L"}, Usage: "always follow symbol link in SRC_PATH"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress progress output during copy (no progress is shown)"},
		},
		Action: engineAction(2, true, func(c *cli.Context, e *engine.Engine) error {
			if c.NArg() != 2 {
				return store.Invalid("\"cp\" requires exactly 2 arguments")
			}
			o := engine.CopyOptions{Archive: c.Bool("archive"), FollowLink: c.Bool("follow-link")}
			dst := c.Args().Get(1)
			if dst == "-" && writesToTerminal(c.App.Writer) {
				return store.Invalid("cowardly refusing to write a tar archive to a terminal")
			}
			return daemonErr(e.Copy(c.Args().Get(0), dst, o, os.Stdin, c.App.Writer))
		}),
	}
}

func diffCommand() *cli.Command {
	return &cli.Command{
		Name:      "diff",
		Usage:     "Inspect changes to files or directories on a container's filesystem",
		ArgsUsage: "CONTAINER",
		Action: engineAction(1, true, func(c *cli.Context, e *engine.Engine) error {
			if c.NArg() != 1 {
				return store.Invalid("\"diff\" requires exactly 1 argument")
			}
			changes, err := e.Diff(c.Args().First())
			if err != nil {
				return daemonErr(err)
			}
			for _, ch := range changes {
				fmt.Fprintf(c.App.Writer, "%c %s\n", ch.Kind, ch.Path)
			}
			return nil
		}),
	}
}

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "Export a container's filesystem as a tar archive",
		ArgsUsage: "CONTAINER",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to a file, instead of STDOUT"},
		},
		Action: engineAction(1, true, func(c *cli.Context, e *engine.Engine) error {
			if c.NArg() != 1 {
				return store.Invalid("\"export\" requires exactly 1 argument")
			}
			out := c.String("output")
			if out == "" {
				if writesToTerminal(c.App.Writer) {
					return store.Invalid("cowardly refusing to save to a terminal. Use the -o flag or redirect")
				}
				return daemonErr(e.Export(c.Args().First(), c.App.Writer))
			}
			f, err := os.Create(out)
			if err != nil {
				return fmt.Errorf("failed to export container: %w", err)
			}
			if err := e.Export(c.Args().First(), f); err != nil {
				f.Close()
				os.Remove(out)
				return daemonErr(err)
			}
			return f.Close()
		}),
	}
}

func pauseCommand(name string) *cli.Command {
	usage := "Pause all processes within one or more containers"
	if name == "unpause" {
		usage = "Unpause all processes within one or more containers"
	}
	return &cli.Command{
		Name:      name,
		Usage:     usage,
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Action: engineAction(1, false, func(c *cli.Context, e *engine.Engine) error {
			if name == "unpause" {
				return e.Unpause(c.Args().Slice())
			}
			return e.Pause(c.Args().Slice())
		}),
	}
}
