package main

import (
	"os"

	"github.com/urfave/cli/v2"

	"github.com/skiff-dev/skiff/engine"
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

// engineAction is the Action shared by the commands here and in
// cmd_container*.go: check the argument count (at least min, or exactly
// min), open the engine, act. What act returns is returned as it is: an
// act whose failures are the daemon's answer wraps them in daemonErr.
func engineAction(min int, exact bool, act func(c *cli.Context, e *engine.Engine) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		if err := ctrArgs(c, min, exact); err != nil {
			return err
		}
		e, err := openEngine(c)
		if err != nil {
			return err
		}
		return act(c, e)
	}
}

func runCommand() *cli.Command {
	flags := append(runFlags(),
		&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "run the container in the background and print its ID"},
		runSigProxyFlag, runDetachKeysFlag,
		// -h is --hostname here, as in Docker, so help is --help only.
		ctrHelpFlag(),
	)
	run := engineAction(1, false, func(c *cli.Context, e *engine.Engine) error {
		create, err := parseRunOptions(c)
		if err != nil {
			return err
		}
		return e.Run(c.Context, engine.RunOptions{
			Create:      create,
			Detach:      c.Bool("detach"),
			Attach:      c.StringSlice("attach"),
			AttachFlags: runAttachFlags(c),
		})
	})
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
			return run(c)
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
		Action: engineAction(1, false, func(c *cli.Context, e *engine.Engine) error {
			f := runAttachFlags(c)
			f.SigProxy = true // start -a proxies signals, as Docker's start does
			return e.Start(c.Args().Slice(), engine.StartOptions{
				Attach: c.Bool("attach"), Interactive: c.Bool("interactive"), AttachFlags: f,
			})
		}),
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
		Action: engineAction(1, true, func(c *cli.Context, e *engine.Engine) error {
			return e.Attach(c.Args().First(), engine.AttachOptions{NoStdin: c.Bool("no-stdin"), AttachFlags: runAttachFlags(c)})
		}),
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
		Action: engineAction(1, true, func(c *cli.Context, e *engine.Engine) error {
			// Docker's logs exits 1 for what its daemon refuses (no such
			// container, a bad --tail or --since).
			return daemonErr(e.Logs(c.Args().First(), engine.LogsOptions{
				Follow: c.Bool("follow"), Timestamps: c.Bool("timestamps"),
				Tail: c.String("tail"), Since: c.String("since"), Until: c.String("until"),
			}))
		}),
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

// refsCommand is a verb over one or more containers that takes no more
// than the references and its flags (stop, restart, kill, wait).
func refsCommand(name, usage string, flags []cli.Flag, act func(c *cli.Context, e *engine.Engine, refs []string) error) *cli.Command {
	return &cli.Command{
		Name:      name,
		Usage:     usage,
		ArgsUsage: "CONTAINER [CONTAINER...]",
		Flags:     flags,
		Action: engineAction(1, false, func(c *cli.Context, e *engine.Engine) error {
			return act(c, e, c.Args().Slice())
		}),
	}
}

func stopCommand() *cli.Command {
	return refsCommand("stop", "Stop one or more running containers", stopFlags(),
		func(c *cli.Context, e *engine.Engine, refs []string) error { return e.Stop(refs, stopOptions(c)) })
}

func restartCommand() *cli.Command {
	return refsCommand("restart", "Restart one or more containers", stopFlags(),
		func(c *cli.Context, e *engine.Engine, refs []string) error { return e.Restart(refs, stopOptions(c)) })
}

func killCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Value: "KILL", Usage: "`SIGNAL` to send to the container"},
	}
	return refsCommand("kill", "Kill one or more running containers", flags,
		func(c *cli.Context, e *engine.Engine, refs []string) error { return e.Kill(refs, c.String("signal")) })
}

func waitCommand() *cli.Command {
	return refsCommand("wait", "Block until one or more containers stop, then print their exit codes", nil,
		func(c *cli.Context, e *engine.Engine, refs []string) error { return e.Wait(refs) })
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
			if err := ctrArgs(c, 2, false); err != nil {
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
