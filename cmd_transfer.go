package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/skiff-dev/skiff/engine"
	"github.com/skiff-dev/skiff/store"
)

// transferCommands: save, load, import, push, login, logout (and their
// `image` group spellings).
func transferCommands() []*cli.Command {
	return []*cli.Command{
		saveCommand(), loadCommand(), importCommand(), pushCommand(),
		loginCommand(), logoutCommand(),
	}
}

func saveCommand() *cli.Command {
	return &cli.Command{
		Name:      "save",
		Usage:     "Save one or more images to a tar archive (streamed to STDOUT by default)",
		ArgsUsage: "IMAGE [IMAGE...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write to a `file`, instead of STDOUT"},
			&cli.StringFlag{Name: "format", Value: "docker-archive", Usage: "archive `format`: docker-archive or oci-archive"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return transferArgs(c, "at least 1 argument")
			}
			out := c.String("output")
			if out == "" && writesToTerminal(c.App.Writer) {
				return store.Invalid("cowardly refusing to save to a terminal. Use the -o flag or redirect")
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			ctx, cancel := transferContext()
			defer cancel()
			return e.Save(ctx, c.Args().Slice(), engine.SaveOptions{
				Output: out, Stdout: c.App.Writer, Format: c.String("format")})
		},
	}
}

func loadCommand() *cli.Command {
	return &cli.Command{
		Name:  "load",
		Usage: "Load an image from a tar archive or STDIN",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "input", Aliases: []string{"i"}, Usage: "read from tar archive `file`, instead of STDIN"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress the load output"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 0 {
				return transferArgs(c, "no arguments")
			}
			var in io.Reader = os.Stdin
			if p := c.String("input"); p != "" {
				f, err := os.Open(p)
				if errors.Is(err, os.ErrNotExist) {
					return store.NotFound("open %s: no such file or directory", p)
				}
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			} else if term.IsTerminal(int(os.Stdin.Fd())) {
				return store.Invalid("requested load from stdin, but stdin is empty")
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			ctx, cancel := transferContext()
			defer cancel()
			lines, err := e.Load(ctx, in)
			for _, l := range lines {
				fmt.Fprintln(c.App.Writer, l)
			}
			return err
		},
	}
}

func importCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "Import the contents from a tarball to create a filesystem image",
		ArgsUsage: "file|URL|- [REPOSITORY[:TAG]]",
		Flags: []cli.Flag{
			&cli.GenericFlag{Name: "change", Aliases: []string{"c"}, Value: &stringList{},
				Usage: "apply a Dockerfile `instruction` to the created image (repeatable)"},
			&cli.StringFlag{Name: "message", Aliases: []string{"m"}, Usage: "set commit `message` for the imported image"},
			&cli.StringFlag{Name: "platform", Usage: "set `os/arch[/variant]` of the image"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 || c.NArg() > 2 {
				return transferArgs(c, "at least 1 and at most 2 arguments")
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			ctx, cancel := transferContext()
			defer cancel()
			id, err := e.Import(ctx, c.Args().Get(0), c.Args().Get(1), engine.ImportOptions{
				Changes: *c.Generic("change").(*stringList), Message: c.String("message"),
				Platform: c.String("platform"), Stdin: os.Stdin})
			if err != nil {
				return err
			}
			fmt.Fprintln(c.App.Writer, id)
			return nil
		},
	}
}

// transferArgs is Docker's message for a wrong argument count.
func transferArgs(c *cli.Context, want string) error {
	return cli.Exit(fmt.Sprintf("\"%s\" requires %s.\nSee '%s --help'.", c.Command.FullName(), want, c.Command.HelpName), 125)
}

func writesToTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// transferContext is cancelled by SIGINT/SIGTERM, so an interrupted load or
// push stops cleanly and removes its scratch files.
func transferContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// stringList is a repeatable string flag that, unlike cli.StringSlice, never
// splits a value at commas (a change like CMD ["a","b"] has them).
type stringList []string

func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }
func (l *stringList) String() string     { return strings.Join(*l, "\n") }

func pushCommand() *cli.Command {
	return &cli.Command{
		Name:      "push",
		Usage:     "Upload an image to a registry",
		ArgsUsage: "NAME[:TAG]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress verbose output"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return transferArgs(c, "exactly 1 argument")
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			ctx, cancel := transferContext()
			defer cancel()
			ref := c.Args().First()
			if !c.Bool("quiet") && !strings.ContainsAny(ref[strings.LastIndex(ref, "/")+1:], ":@") {
				fmt.Fprintln(c.App.Writer, "Using default tag: latest")
			}
			return e.Push(ctx, ref, engine.PushOptions{Quiet: c.Bool("quiet")})
		},
	}
}

func loginCommand() *cli.Command {
	return &cli.Command{
		Name:      "login",
		Usage:     "Log in to a registry",
		ArgsUsage: "[SERVER]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "username", Aliases: []string{"u"}, Usage: "`username`"},
			&cli.StringFlag{Name: "password", Aliases: []string{"p"}, Usage: "`password`"},
			&cli.BoolFlag{Name: "password-stdin", Usage: "take the password from stdin"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return transferArgs(c, "at most 1 argument")
			}
			o, err := loginOptions(c)
			if err != nil {
				return err
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			ctx, cancel := transferContext()
			defer cancel()
			file, err := e.Login(ctx, o)
			if errors.Is(err, engine.ErrNoCredentials) {
				if o, err = promptLogin(c, o); err != nil {
					return err
				}
				file, err = e.Login(ctx, o)
			}
			if err != nil {
				return err
			}
			if file != "" {
				fmt.Fprintf(c.App.ErrWriter, "WARNING! Your password will be stored unencrypted in %s.\n", file)
			}
			fmt.Fprintln(c.App.Writer, "Login Succeeded")
			return nil
		},
	}
}

// loginOptions reads the flags and, with --password-stdin, the password,
// prompting for what is missing when the user gave a name but no password.
func loginOptions(c *cli.Context) (engine.LoginOptions, error) {
	o := engine.LoginOptions{Server: c.Args().First(), Username: c.String("username"), Password: c.String("password")}
	if c.Bool("password-stdin") {
		if o.Password != "" {
			return o, store.Invalid("--password and --password-stdin are mutually exclusive")
		}
		if o.Username == "" {
			return o, store.Invalid("Must provide --username with --password-stdin")
		}
		data, err := io.ReadAll(os.Stdin)
		if err != nil {
			return o, err
		}
		o.Password = strings.TrimRight(string(data), "\r\n")
	} else if o.Password != "" {
		fmt.Fprintln(c.App.ErrWriter, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.")
	}
	if o.Username != "" && o.Password == "" {
		return promptLogin(c, o)
	}
	return o, nil
}

// promptLogin asks for a username and password on the terminal, as Docker
// does; without one there is nobody to ask.
func promptLogin(c *cli.Context, o engine.LoginOptions) (engine.LoginOptions, error) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return o, store.Invalid("Cannot perform an interactive login from a non TTY device")
	}
	if o.Username == "" {
		fmt.Fprint(c.App.Writer, "Username: ")
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil {
			return o, err
		}
		o.Username = strings.TrimSpace(line)
	}
	fmt.Fprint(c.App.Writer, "Password: ")
	pw, err := term.ReadPassword(fd)
	fmt.Fprintln(c.App.Writer)
	if err != nil {
		return o, err
	}
	o.Password = string(pw)
	return o, nil
}

func logoutCommand() *cli.Command {
	return &cli.Command{
		Name:      "logout",
		Usage:     "Log out from a registry",
		ArgsUsage: "[SERVER]",
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return transferArgs(c, "at most 1 argument")
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			line, err := e.Logout(c.Args().First())
			if err != nil {
				return err
			}
			fmt.Fprintln(c.App.Writer, line)
			return nil
		},
	}
}
