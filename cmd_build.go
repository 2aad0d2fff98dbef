package main

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/engine"
	"github.com/skiff-dev/skiff/store"
)

// buildCommands: build (also `image build`), commit (also `container
// commit`) and `builder prune`.
func buildCommands() []*cli.Command {
	return []*cli.Command{
		buildCommand(),
		commitCommand(),
		{
			Name:        "builder",
			Usage:       "Manage builds",
			Subcommands: []*cli.Command{builderPruneCommand(), buildCommand()},
		},
	}
}

func buildCommand() *cli.Command {
	return &cli.Command{
		Name:      "build",
		Usage:     "Build an image from a Dockerfile",
		ArgsUsage: "PATH | -",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "tag", Aliases: []string{"t"}, Usage: "name and optionally a tag in the 'name:tag' format"},
			&cli.StringFlag{Name: "file", Aliases: []string{"f"}, Usage: "name of the Dockerfile (default: 'PATH/Dockerfile')"},
			&cli.GenericFlag{Name: "build-arg", Value: &stringList{}, Usage: "set build-time variables"},
			&cli.StringFlag{Name: "target", Usage: "set the target build stage to build"},
			&cli.BoolFlag{Name: "no-cache", Usage: "do not use cache when building the image"},
			&cli.BoolFlag{Name: "pull", Usage: "always attempt to pull a newer version of the image"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress the build output and print image ID on success"},
			&cli.GenericFlag{Name: "label", Value: &stringList{}, Usage: "set metadata for an image"},
			&cli.StringFlag{Name: "network", Usage: "set the networking mode for the RUN instructions during build", Value: "default"},
			&cli.StringFlag{Name: "iidfile", Usage: "write the image ID to the file"},
			&cli.BoolFlag{Name: "rm", Usage: "remove intermediate containers after a successful build", Value: true},
			&cli.BoolFlag{Name: "force-rm", Usage: "always remove intermediate containers"},
			&cli.StringFlag{Name: "progress", Value: "auto", Usage: "set type of progress output (auto, plain, tty, quiet); skiff prints the classic builder's plain steps"},
			&cli.StringFlag{Name: "platform", Usage: "set platform if server is multi-platform capable (only this host's)"},
			&cli.GenericFlag{Name: "add-host", Value: &stringList{}, Usage: "add a custom host-to-IP mapping (host:ip) for RUN instructions"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return buildFailed(fmt.Errorf("\"build\" requires exactly 1 argument"))
			}
			o := engine.BuildOptions{
				Context: c.Args().First(), Stdin: os.Stdin, Dockerfile: c.String("file"),
				Tags: c.StringSlice("tag"), Target: c.String("target"), NoCache: c.Bool("no-cache"),
				Pull: c.Bool("pull"), Quiet: c.Bool("quiet"), Network: c.String("network"),
				IIDFile: c.String("iidfile"), Rm: c.Bool("rm"), ForceRm: c.Bool("force-rm"),
				BuildArgs: map[string]string{}, Labels: map[string]string{},
			}
			if c.App.Reader != nil {
				o.Stdin = c.App.Reader
			}
			if err := buildOutputOptions(c, &o); err != nil {
				return buildFailed(err)
			}
			for _, kv := range *c.Generic("build-arg").(*stringList) {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					// K alone takes its value from the environment, if set.
					if v, ok = os.LookupEnv(k); !ok {
						continue
					}
				}
				o.BuildArgs[k] = v
			}
			for _, kv := range *c.Generic("label").(*stringList) {
				k, v, _ := strings.Cut(kv, "=")
				o.Labels[k] = v
			}
			e, err := openEngine(c)
			if err != nil {
				return buildFailed(err)
			}
			ctx, cancel := imgInterruptible()
			defer cancel()
			_, err = e.Build(ctx, o)
			return buildFailed(err)
		},
	}
}

// buildOutputOptions reads --progress, --platform and --add-host.
func buildOutputOptions(c *cli.Context, o *engine.BuildOptions) error {
	switch p := c.String("progress"); p {
	case "auto", "plain", "tty", "rawjson":
	case "quiet":
		o.Quiet = true
	default:
		return store.Invalid("invalid progress mode %q: want auto, plain, tty or quiet", p)
	}
	if p := c.String("platform"); p != "" {
		host := runtime.GOOS + "/" + runtime.GOARCH
		if p != host && !strings.HasPrefix(p, host+"/") {
			return store.Invalid("building for platform %s is not supported: this host builds %s", p, host)
		}
	}
	for _, v := range *c.Generic("add-host").(*stringList) {
		h, err := container.ParseExtraHost(v)
		if err != nil {
			return err
		}
		o.ExtraHosts = append(o.ExtraHosts, h)
	}
	return nil
}

// buildFailed makes every build failure exit 1, as docker build does.
func buildFailed(err error) error {
	if err == nil {
		return nil
	}
	var ee *engine.ExitError
	if errors.As(err, &ee) {
		return &engine.ExitError{Code: 1, Message: ee.Error()}
	}
	return &engine.ExitError{Code: 1, Message: err.Error()}
}

func commitCommand() *cli.Command {
	return &cli.Command{
		Name:      "commit",
		Usage:     "Create a new image from a container's changes",
		ArgsUsage: "CONTAINER [REPOSITORY[:TAG]]",
		Flags: []cli.Flag{
			&cli.GenericFlag{Name: "change", Aliases: []string{"c"}, Value: &stringList{}, Usage: "apply Dockerfile instruction to the created image"},
			&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "commit message"},
			&cli.StringFlag{Name: "author", Aliases: []string{"a"}, Usage: "author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")"},
			&cli.BoolFlag{Name: "pause", Aliases: []string{"p"}, Usage: "pause container during commit", Value: true},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 || c.NArg() > 2 {
				return fmt.Errorf("\"commit\" requires at least 1 and at most 2 arguments")
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			ctx, cancel := imgInterruptible()
			defer cancel()
			img, err := e.Commit(ctx, c.Args().Get(0), c.Args().Get(1), engine.CommitOptions{
				Changes: *c.Generic("change").(*stringList), Message: c.String("message"),
				Author: c.String("author"), Pause: c.Bool("pause"),
			})
			if err != nil {
				return err
			}
			fmt.Fprintln(c.App.Writer, img.ID)
			return nil
		},
	}
}

func builderPruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "Remove build cache",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove all unused build cache, not just dangling ones"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
		},
		Action: func(c *cli.Context) error {
			if !c.Bool("force") {
				warn := "WARNING! This will remove all dangling build cache."
				if c.Bool("all") {
					warn = "WARNING! This will remove all build cache."
				}
				if !imgConfirm(c, warn) {
					return nil
				}
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			freed, err := e.BuilderPrune()
			fmt.Fprintf(c.App.Writer, "Total reclaimed space: %s\n", units.HumanSize(float64(freed)))
			return err
		},
	}
}
