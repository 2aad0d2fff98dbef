package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"text/tabwriter"
	"text/template"
	"time"

	"github.com/docker/go-units"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/skiff-dev/skiff/engine"
)

// imageCommands: pull, images, rmi, tag, history and the `image` group
// (which also spells save, load, import and push from cmd_transfer.go).
func imageCommands() []*cli.Command {
	cmds := []*cli.Command{
		pullCommand("pull"),
		imagesCommand("images", nil),
		rmiCommand("rmi", nil),
		tagCommand(),
		historyCommand(),
		{
			Name:  "image",
			Usage: "Manage images",
			Subcommands: []*cli.Command{
				pullCommand("pull"),
				imagesCommand("ls", []string{"list"}),
				rmiCommand("rm", []string{"remove"}),
				tagCommand(),
				historyCommand(),
				imageInspectCommand(),
				imagePruneCommand(),
				buildCommand(), // cmd_build.go
			},
		},
	}
	group := cmds[len(cmds)-1]
	for _, t := range transferCommands() { // fresh instances for the group
		switch t.Name {
		case "save", "load", "import", "push":
			group.Subcommands = append(group.Subcommands, t)
		}
	}
	return cmds // main.go adds the top-level transfer commands itself
}

// containerGroupImageCommands are the image-making verbs Docker also spells
// under `container`: `container commit` (cmd_build.go's commit).
func containerGroupImageCommands() []*cli.Command {
	return []*cli.Command{commitCommand()}
}

// interruptible returns a context cancelled by SIGINT/SIGTERM, so a pull
// stops cleanly and removes its temp files.
func imgInterruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func imgIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false
	}
	// A pty with no size (a script(1) without a terminal) cannot show bars.
	cols, rows, err := term.GetSize(int(f.Fd()))
	return err == nil && cols > 0 && rows > 0
}

func pullCommand(name string) *cli.Command {
	return &cli.Command{
		Name:      name,
		Usage:     "Download an image from a registry",
		ArgsUsage: "NAME[:TAG|@DIGEST]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "suppress verbose output"},
			&cli.StringFlag{Name: "platform", Usage: "pull for `os/arch[/variant]` instead of the host's"},
			&cli.BoolFlag{Name: "all-tags", Aliases: []string{"a"}, Usage: "download all tagged images in the repository"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return imgArgsError(c, "exactly 1 argument")
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			ctx, cancel := imgInterruptible()
			defer cancel()
			_, err = e.Pull(ctx, c.Args().First(), engine.PullOptions{
				Platform: c.String("platform"), Quiet: c.Bool("quiet"), AllTags: c.Bool("all-tags"), Terminal: imgIsTerminal(c.App.Writer)})
			return err
		},
	}
}

// argsError is Docker's message for a wrong argument count.
func imgArgsError(c *cli.Context, want string) error {
	return cli.Exit(fmt.Sprintf("\"%s\" requires %s.\nSee '%s --help'.", c.Command.FullName(), want, c.Command.HelpName), 125)
}

// imageRowView is what `images --format` templates see; the JSON keys are
// Docker's.
type imageRowView struct {
	Containers   string
	CreatedAt    string
	CreatedSince string
	Digest       string
	ID           string
	Repository   string
	SharedSize   string
	Size         string
	Tag          string
	UniqueSize   string
	VirtualSize  string
}

var imageHeaders = map[string]string{
	"Containers": "CONTAINERS", "CreatedAt": "CREATED AT", "CreatedSince": "CREATED", "Digest": "DIGEST",
	"ID": "IMAGE ID", "Repository": "REPOSITORY", "SharedSize": "SHARED SIZE", "Size": "SIZE",
	"Tag": "TAG", "UniqueSize": "UNIQUE SIZE", "VirtualSize": "VIRTUAL SIZE",
}

func imagesCommand(name string, aliases []string) *cli.Command {
	return &cli.Command{
		Name:      name,
		Aliases:   aliases,
		Usage:     "List images",
		ArgsUsage: "[REPOSITORY[:TAG]]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show all images (default hides intermediate images)"},
			&cli.BoolFlag{Name: "digests", Usage: "show digests"},
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter output based on conditions provided (dangling=true, reference=PATTERN, label=KEY[=VALUE])"},
			&cli.StringFlag{Name: "format", Usage: "format output using a custom template: 'table', 'table TEMPLATE', 'json', or a Go template"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "don't truncate output"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only show image IDs"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return imgArgsError(c, "at most 1 argument")
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			rows, err := e.ImageList(engine.ImageListOptions{All: c.Bool("all"), Filters: c.StringSlice("filter"), Reference: c.Args().First()})
			if err != nil {
				return err
			}
			return printImages(c.App.Writer, rows, c.Bool("quiet"), c.Bool("no-trunc"), c.Bool("digests"), c.String("format"))
		},
	}
}

func printImages(w io.Writer, rows []engine.ImageRow, quiet, noTrunc, digests bool, format string) error {
	if quiet {
		seen := map[string]bool{}
		for _, r := range rows {
			id := imgID(r.Image.ID, noTrunc)
			if !seen[id] {
				seen[id] = true
				fmt.Fprintln(w, id)
			}
		}
		return nil
	}
	if format == "" || format == "table" {
		format = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
		if digests {
			format = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
		}
	}
	views := make([]any, len(rows))
	for i, r := range rows {
		size := units.HumanSizeWithPrecision(float64(r.Image.Size), 3)
		views[i] = imageRowView{
			Containers: "N/A", CreatedAt: r.Image.Created.Local().Format("2006-01-02 15:04:05 -0700 MST"),
			CreatedSince: imgSince(r.Image.Created), Digest: r.Digest, ID: imgID(r.Image.ID, noTrunc),
			Repository: r.Repository, SharedSize: "N/A", Size: size, Tag: r.Tag, UniqueSize: "N/A", VirtualSize: size,
		}
	}
	return renderFormat(w, format, imageHeaders, views)
}

func imgID(id string, noTrunc bool) string {
	if noTrunc {
		return id
	}
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		id = id[:12]
	}
	return id
}

// since is Docker's "2 hours ago".
func imgSince(t time.Time) string {
	if t.IsZero() {
		return "N/A"
	}
	return units.HumanDuration(time.Now().UTC().Sub(t)) + " ago"
}

// renderFormat prints items with a Docker --format value: "json" (one JSON
// object per line), "table TEMPLATE" (a header row derived from headers,
// columns aligned), or a plain Go template per item.
func renderFormat(w io.Writer, format string, headers map[string]string, items []any) error {
	if format == "json" {
		for _, it := range items {
			if err := imgJSONLine(w, it); err != nil {
				return err
			}
		}
		return nil
	}
	body, table := strings.CutPrefix(format, "table")
	if table {
		body = strings.TrimLeft(body, " ")
	} else {
		body = format
	}
	body = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(body)
	tmpl, err := parseTemplate(body)
	if err != nil {
		return err
	}
	out := w
	var tw *tabwriter.Writer
	if table {
		tw = tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
		out = tw
		if err := imgWriteHeader(out, body, headers); err != nil {
			return err
		}
	}
	for _, it := range items {
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, it); err != nil {
			return fmt.Errorf("template: %w", err)
		}
		fmt.Fprintln(out, strings.TrimRight(buf.String(), "\n"))
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}

var imgFieldRef = regexp.MustCompile(`\{\{[^}]*?\.(\w+)[^}]*\}\}`)

// writeHeader renders the table header: each {{...Field...}} action becomes
// the field's column title.
func imgWriteHeader(w io.Writer, body string, headers map[string]string) error {
	h := imgFieldRef.ReplaceAllStringFunc(body, func(m string) string {
		f := imgFieldRef.FindStringSubmatch(m)[1]
		if t, ok := headers[f]; ok {
			return t
		}
		return strings.ToUpper(f)
	})
	_, err := fmt.Fprintln(w, h)
	return err
}

func imgJSONLine(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// parseTemplate parses a --format template with Docker's helper functions.
func parseTemplate(text string) (*template.Template, error) {
	t, err := template.New("format").Funcs(formatFuncs).Parse(text)
	if err != nil {
		return nil, cli.Exit("template parsing error: "+err.Error(), 125)
	}
	return t, nil
}

func rmiCommand(name string, aliases []string) *cli.Command {
	return &cli.Command{
		Name:      name,
		Aliases:   aliases,
		Usage:     "Remove one or more images",
		ArgsUsage: "IMAGE [IMAGE...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "force removal of the image"},
			&cli.BoolFlag{Name: "no-prune", Usage: "do not delete untagged parents"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return imgArgsError(c, "at least 1 argument")
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			lines, err := e.Rmi(c.Args().Slice(), engine.RmiOptions{Force: c.Bool("force"), NoPrune: c.Bool("no-prune")})
			for _, l := range lines {
				fmt.Fprintln(c.App.Writer, l)
			}
			return err
		},
	}
}

func tagCommand() *cli.Command {
	return &cli.Command{
		Name:      "tag",
		Usage:     "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
		ArgsUsage: "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return imgArgsError(c, "exactly 2 arguments")
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			return e.TagImage(c.Args().Get(0), c.Args().Get(1))
		},
	}
}

func imageInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "Display detailed information on one or more images",
		ArgsUsage: "IMAGE [IMAGE...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "format output using a custom template ('json' or a Go template)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() < 1 {
				return imgArgsError(c, "at least 1 argument")
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			items, err := e.InspectImages(c.Args().Slice())
			if perr := printInspect(c.App.Writer, items, c.String("format")); perr != nil {
				return perr
			}
			return err
		},
	}
}

// printInspect prints inspect results as Docker does: an indented JSON
// array, or the template once per item. Shared with the top-level inspect.
func printInspect(w io.Writer, items []any, format string) error {
	if format == "" || format == "json" {
		if items == nil {
			items = []any{}
		}
		data, err := json.MarshalIndent(items, "", "    ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", data)
		return err
	}
	return renderFormat(w, format, nil, items)
}

// historyView is what `history --format` templates see.
type historyView struct {
	Comment      string
	CreatedAt    string
	CreatedBy    string
	CreatedSince string
	ID           string
	Size         string
}

var historyHeaders = map[string]string{"Comment": "COMMENT", "CreatedAt": "CREATED AT", "CreatedBy": "CREATED BY",
	"CreatedSince": "CREATED", "ID": "IMAGE", "Size": "SIZE"}

func historyCommand() *cli.Command {
	return &cli.Command{
		Name:      "history",
		Usage:     "Show the history of an image",
		ArgsUsage: "IMAGE",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Usage: "format output using a custom template"},
			&cli.BoolFlag{Name: "human", Aliases: []string{"H"}, Value: true, Usage: "print sizes and dates in human readable format"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "don't truncate output"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only show image IDs"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return imgArgsError(c, "exactly 1 argument")
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			hist, err := e.History(c.Args().First())
			if err != nil {
				return err
			}
			noTrunc, human := c.Bool("no-trunc"), c.Bool("human")
			if c.Bool("quiet") {
				for _, h := range hist {
					fmt.Fprintln(c.App.Writer, historyID(h.ID, noTrunc))
				}
				return nil
			}
			views := make([]any, len(hist))
			for i, h := range hist {
				v := historyView{Comment: h.Comment, CreatedBy: h.CreatedBy, ID: historyID(h.ID, noTrunc),
					CreatedAt: h.Created.Format(time.RFC3339), CreatedSince: imgSince(h.Created),
					Size: units.HumanSizeWithPrecision(float64(h.Size), 3)}
				if !human {
					v.CreatedSince, v.Size = v.CreatedAt, fmt.Sprint(h.Size)
				}
				if !noTrunc {
					v.CreatedBy = imgEllipsis(strings.ReplaceAll(v.CreatedBy, "\t", " "), 45)
				}
				views[i] = v
			}
			format := c.String("format")
			if format == "" || format == "table" {
				format = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
			}
			return renderFormat(c.App.Writer, format, historyHeaders, views)
		},
	}
}

func historyID(id string, noTrunc bool) string {
	if id == "<missing>" {
		return id
	}
	return imgID(id, noTrunc)
}

func imgEllipsis(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func imagePruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "Remove unused images",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove all unused images, not just dangling ones"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
			&cli.StringSliceFlag{Name: "filter", Usage: "provide filter values (until=TIME, label=KEY[=VALUE], label!=KEY[=VALUE], dangling=false)"},
		},
		Action: func(c *cli.Context) error {
			f, err := engine.ParsePruneFilter(c.StringSlice("filter"), engine.ImagePruneKeys, time.Now())
			if err != nil {
				return err
			}
			all := c.Bool("all") || f.All // Docker's -a is dangling=false
			if !c.Bool("force") {
				warn := "WARNING! This will remove all dangling images."
				if all {
					warn = "WARNING! This will remove all images without at least one container associated to them."
				}
				if !imgConfirm(c, warn) {
					return nil
				}
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			report, reclaimed, err := e.ImagePrune(all, f)
			w := c.App.Writer
			if len(report) > 0 {
				fmt.Fprintln(w, "Deleted Images:")
				for _, l := range report {
					fmt.Fprintln(w, l)
				}
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "Total reclaimed space: %s\n", units.HumanSize(float64(reclaimed)))
			return err
		},
	}
}

// confirm asks Docker's "[y/N]" question on stdin.
func imgConfirm(c *cli.Context, warning string) bool {
	fmt.Fprintf(c.App.Writer, "%s\nAre you sure you want to continue? [y/N] ", warning)
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	line = strings.ToLower(strings.TrimSpace(line))
	return line == "y" || line == "yes"
}
