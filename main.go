// Command skiff is a daemonless, single-binary container engine with Docker's
// command line. This file holds only the CLI table's root: global flags, the
// command list (one file per command family: cmd_*.go), and the one place
// where errors become exit codes.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/urfave/cli/v2"

	"github.com/skiff-dev/skiff/engine"
	"github.com/skiff-dev/skiff/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// Exit codes as Docker documents them for `docker run`.
const (
	exitEngine = 125 // skiff's own error
)

func main() {
	// Hidden re-exec entry points (container init stage, supervisor) run
	// before any CLI parsing: they are not commands a user types.
	if reexec() {
		return
	}
	lazyGC()
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// lazyGC starts the collector at a 16 MB heap instead of 4 MB: most CLI
// calls live a few milliseconds, and ps -a over a thousand containers
// otherwise spends a collection on garbage the exit frees anyway. The
// goal stays proportional to the live heap (GOGC=400), so a long attached
// client or a big pull still collects. A user's GOGC wins. The
// supervisor and init stages (reexec) keep their own settings.
func lazyGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
}

func run(args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	cliArgs := interspersedArgs(app, args)
	fixedNames(app, cliArgs) // flag lookups without a regexp each (cmd_flagnames.go)
	err := app.Run(cliArgs)
	if err == nil {
		return 0
	}
	if engine.NeedsUserNS(err) { // a rootless create that must pull or fill a volume: nothing done yet
		return engine.RunInUserNS(args)
	}
	code, msg := exitCode(err)
	if msg != "" {
		fmt.Fprintf(stderr, "Error: %s\n", msg)
	}
	return code
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:                   "skiff",
		Usage:                  "a daemonless container engine with Docker's command line",
		Version:                version,
		Writer:                 stdout,
		ErrWriter:              stderr,
		EnableBashCompletion:   true,
		UseShortOptionHandling: true,
		// Docker never splits a flag's value on commas (-e A=1,2,
		// --filter label=a=b,c, --mount type=bind,src=...).
		DisableSliceFlagSeparator: true,
		HideHelpCommand:           false,
		Suggest:                   true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "root", Usage: "persistent storage `DIR`", EnvVars: []string{"SKIFF_ROOT"}, Value: store.DefaultRoot()},
			&cli.StringFlag{Name: "runroot", Usage: "runtime state `DIR` (sockets, mounts)", EnvVars: []string{"SKIFF_RUNROOT"}, Value: store.DefaultRunRoot()},
			&cli.StringFlag{Name: "storage-driver", Usage: "rootfs `DRIVER` of new containers: overlay, fuse-overlayfs, vfs (default: the first that works)", EnvVars: []string{"SKIFF_STORAGE_DRIVER"}},
			&cli.StringFlag{Name: "log-level", Usage: "log `LEVEL`: debug, info, warn, error", EnvVars: []string{"SKIFF_LOG_LEVEL"}, Value: "warn"},
		},
		ExitErrHandler: func(*cli.Context, error) {}, // exit codes are decided in run()
	}
	app.Commands = append(app.Commands, imageCommands()...)
	app.Commands = append(app.Commands, transferCommands()...)
	app.Commands = append(app.Commands, containerCommands()...)
	app.Commands = append(app.Commands, runCommands()...)
	app.Commands = append(app.Commands, systemCommands()...)
	app.Commands = append(app.Commands, buildCommands()...)
	app.Commands = append(app.Commands, limitsCommands()...)
	app.Commands = append(app.Commands, unshareCommand())
	app.Commands = append(app.Commands, copyCommands()...) // cp, diff, export, pause, unpause
	app.Commands = append(app.Commands, completionCommand())
	categorize(app) // Docker's help groups (cmd_help.go)
	return app
}

// openEngine builds the engine from the global flags. Commands call it lazily
// so `--help` and completion never touch the store.
func openEngine(c *cli.Context) (*engine.Engine, error) {
	return engine.Open(engine.Options{
		Root:          c.String("root"),
		RunRoot:       c.String("runroot"),
		LogLevel:      c.String("log-level"),
		StorageDriver: c.String("storage-driver"),
		Stdout:        c.App.Writer,
		Stderr:        c.App.ErrWriter,
	})
}

// exitCode maps an error to the process exit code and the message to print
// (empty when nothing should be printed, e.g. the container's own status).
func exitCode(err error) (int, string) {
	var exit *engine.ExitError
	if errors.As(err, &exit) {
		return exit.Code, exit.Message
	}
	var ce cli.ExitCoder
	if errors.As(err, &ce) && ce.ExitCode() != 0 {
		return ce.ExitCode(), err.Error()
	}
	return exitEngine, err.Error()
}
