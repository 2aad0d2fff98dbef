package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/skiff-dev/skiff/engine"
	"github.com/skiff-dev/skiff/store"
)

// runCommands: run, start, attach, logs, stop, kill, wait, restart, exec —
// the verbs that start, stream or signal a container's processes.
func runCommands() []*cli.Command {
	return []*cli.Command{
		runCommand(), startCommand(), attachCommand(), logsCommand(),
		stopCommand(), killCommand(), waitCommand(), restartCommand(),
		execCommand(),
	}
}

var (
	runDetachKeysFlag = &cli.StringFlag{Name: "detach-keys", Usage: "override the key `SEQUENCE` for detaching a container"}
	runSigProxyFlag   = &cli.BoolFlag{Name: "sig-proxy", Value: true, Usage: "proxy received signals to the process"}
)

func runAttachFlags(c *cli.Context) engine.AttachFlags {
	return engine.AttachFlags{Stdin: os.Stdin, DetachKeys: c.String("detach-keys"), SigProxy: c.Bool("sig-proxy")}
}

// runArgsMin and runArgsExact check the argument count with Docker's
// message (the same text as create's).
func runArgsMin(c *cli.Context, n int) error { return runArgs(c, n, "at least", c.NArg() < n) }

func runArgsExact(c *cli.Context, n int) error { return runArgs(c, n, "exactly", c.NArg() != n) }

func runArgs(c *cli.Context, n int, kind string, bad bool) error {
	if !bad {
		return nil
	}
	plural := "s"
	if n == 1 {
		plural = ""
	}
	name := c.Command.FullName()
	return store.Invalid("\"skiff %s\" requires %s %d argument%s.\nSee 'skiff %s --help'.", name, kind, n, plural, name)
}

func runCommand() *cli.Command {
	flags := append(runFlags(),
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "run the container in the background and print its ID"},
		runSigProxyFlag, runDetachKeysFlag,
		// -h is --hostname here, as in Docker, so help is --help only.
		&cli.BoolFlag{Name: "help", Usage: "show help"},
	)
	return &cli.Command{
		Name:                   "run",
		Usage:                  "Create and run a new container from an image",
		ArgsUsage:              "IMAGE [COMMAND] [ARG...]",
		Flags:                  flags,
		HideHelp:               true,
		UseShortOptionHandling: true,
		Action: func(c *cli.Context) error {
			if c.Bool("help") {
				return cli.ShowCommandHelp(c, c.Command.Name)
			}
			if err := runArgsMin(c, 1); err != nil {
				return err
			}
			create, err := parseRunOptions(c)
			if err != nil {
				return err
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			return e.Run(c.Context, engine.RunOptions{
				Create:      create,
				Detach:      c.Bool("detach"),
				Attach:      c.StringSlice("attach"),
				AttachFlags: runAttachFlags(c),
			})
		},
	}
}

func startCommand() *cli.Command {
	return &cli.Command{
		Name:      "start",
		Usage:     "Start one or more stopped containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "attach", Aliases: []string{"a"}, Usage: "attach STDOUT/STDERR and forward signals"},
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "attach the container's STDIN"},
			runDetachKeysFlag,
		},
		Action: func(c *cli.Context) error {
			if err := runArgsMin(c, 1); err != nil {
				return err
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			f := runAttachFlags(c)
			f.SigProxy = true // start -a proxies signals, as Docker's start does
			return e.Start(c.Args().Slice(), engine.StartOptions{
				Attach: c.Bool("attach"), Interactive: c.Bool("interactive"), AttachFlags: f,
			})
		},
	}
}

func attachCommand() *cli.Command {
	return &cli.Command{
		Name:      "attach",
		Usage:     "Attach local standard input, output, and error streams to a running container",
		ArgsUsage: "CONTAINER",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "no-stdin", Usage: "do not attach STDIN"},
			runSigProxyFlag, runDetachKeysFlag,
		},
		Action: func(c *cli.Context) error {
			if err := runArgsExact(c, 1); err != nil {
				return err
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			return e.Attach(c.Args().First(), engine.AttachOptions{NoStdin: c.Bool("no-stdin"), AttachFlags: runAttachFlags(c)})
		},
	}
}

func logsCommand() *cli.Command {
	return &cli.Command{
		Name:      "logs",
		Usage:     "Fetch the logs of a container",
		ArgsUsage: "CONTAINER",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "follow log output"},
			&cli.BoolFlag{Name: "timestamps", Aliases: []string{"t"}, Usage: "show timestamps"},
			&cli.StringFlag{Name: "tail", Aliases: []string{"n"}, Value: "all", Usage: "number of `LINES` to show from the end of the logs"},
			&cli.StringFlag{Name: "since", Usage: "show logs since `TIME` (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)"},
			&cli.StringFlag{Name: "until", Usage: "show logs before `TIME` (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m)"},
			&cli.BoolFlag{Name: "details", Usage: "show extra details provided to logs (none are recorded)"},
		},
		Action: func(c *cli.Context) error {
			if err := runArgsExact(c, 1); err != nil {
				return err
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			return e.Logs(c.Args().First(), engine.LogsOptions{
				Follow: c.Bool("follow"), Timestamps: c.Bool("timestamps"),
				Tail: c.String("tail"), Since: c.String("since"), Until: c.String("until"),
			})
		},
	}
}

func stopFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "time", Aliases: []string{"t"}, Usage: "`SECONDS` to wait before killing the container"},
		&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Usage: "`SIGNAL` to send to the container"},
	}
}

func stopOptions(c *cli.Context) engine.StopOptions {
	o := engine.StopOptions{Signal: c.String("signal")}
	if c.IsSet("time") {
		t := c.Int("time")
		o.Timeout = &t
	}
	return o
}

func stopCommand() *cli.Command {
	return &cli.Command{
		Name:      "stop",
		Usage:     "Stop one or more running containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags:     stopFlags(),
		Action: func(c *cli.Context) error {
			if err := runArgsMin(c, 1); err != nil {
				return err
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			return e.Stop(c.Args().Slice(), stopOptions(c))
		},
	}
}

func restartCommand() *cli.Command {
	return &cli.Command{
		Name:      "restart",
		Usage:     "Restart one or more containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags:     stopFlags(),
		Action: func(c *cli.Context) error {
			if err := runArgsMin(c, 1); err != nil {
				return err
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			return e.Restart(c.Args().Slice(), stopOptions(c))
		},
	}
}

func killCommand() *cli.Command {
	return &cli.Command{
		Name:      "kill",
		Usage:     "Kill one or more running containers",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Value: "KILL", Usage: "`SIGNAL` to send to the container"},
		},
		Action: func(c *cli.Context) error {
			if err := runArgsMin(c, 1); err != nil {
				return err
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			return e.Kill(c.Args().Slice(), c.String("signal"))
		},
	}
}

func waitCommand() *cli.Command {
	return &cli.Command{
		Name:      "wait",
		Usage:     "Block until one or more containers stop, then print their exit codes",
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Action: func(c *cli.Context) error {
			if err := runArgsMin(c, 1); err != nil {
				return err
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			return e.Wait(c.Args().Slice())
		},
	}
}

func execCommand() *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "Execute a command in a running container",
		ArgsUsage: "CONTAINER COMMAND [ARG...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detached mode: run command in the background"},
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "keep STDIN open even if not attached"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-TTY"},
			ctrListFlag("env", []string{"e"}, "set environment variables (`KEY=VALUE`)"),
			ctrListFlag("env-file", nil, "read in a `FILE` of environment variables"),
			&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working `DIR` inside the container"},
			&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "`USER[:GROUP]` name or id"},
			&cli.BoolFlag{Name: "privileged", Usage: "give extended privileges to the command"},
			runDetachKeysFlag,
		},
		UseShortOptionHandling: true,
		Action: func(c *cli.Context) error {
			if err := runArgsMin(c, 2); err != nil {
				return err
			}
			env, err := ctrEnv(ctrValues(c, "env-file"), ctrValues(c, "env"))
			if err != nil {
				return err
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			return e.Exec(c.Args().First(), c.Args().Tail(), engine.ExecOptions{
				Detach: c.Bool("detach"), Interactive: c.Bool("interactive"), Tty: c.Bool("tty"),
				Privileged: c.Bool("privileged"), Env: env,
				WorkingDir: c.String("workdir"), User: c.String("user"),
				AttachFlags: runAttachFlags(c),
			})
		},
	}
}
