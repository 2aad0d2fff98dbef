package main

import (
	"fmt"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/skiff-dev/skiff/engine"
	"github.com/skiff-dev/skiff/store"
)

// systemCommands: system prune/df/info, info, version.
func systemCommands() []*cli.Command {
	return []*cli.Command{
		{
			Name:  "system",
			Usage: "Manage skiff",
			Subcommands: []*cli.Command{
				systemPruneCommand(), systemDFCommand(), infoCommand(), eventsCommand(),
			},
		},
		infoCommand(), versionCommand(), eventsCommand(),
	}
}

func systemPruneCommand() *cli.Command {
	return &cli.Command{
		Name:                   "prune",
		Usage:                  "Remove unused data",
		UseShortOptionHandling: true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove all unused images not just dangling ones"},
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
			&cli.BoolFlag{Name: "volumes", Usage: "prune anonymous volumes"},
			ctrListFlag("filter", nil, "provide filter values (until=TIME, label=KEY[=VALUE], label!=KEY[=VALUE])"),
		},
		Action: func(c *cli.Context) error {
			o := engine.SystemPruneOptions{All: c.Bool("all"), Volumes: c.Bool("volumes")}
			var err error
			if o.Filter, err = engine.ParsePruneFilter(ctrValues(c, "filter"), engine.ContainerPruneKeys, time.Now()); err != nil {
				return err
			}
			if o.Volumes && !o.Filter.Until.IsZero() {
				return store.Invalid(`The "until" filter is not supported with "--volumes"`)
			}
			if !c.Bool("force") && !ctrConfirm(c, systemPruneWarning(o)) {
				return nil
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			r, err := e.SystemPrune(o)
			if r != nil {
				ctrPrintPrune(c.App.Writer, r)
			}
			return err
		},
	}
}

// systemPruneWarning is Docker's list of what will go.
func systemPruneWarning(o engine.SystemPruneOptions) string {
	lines := []string{"WARNING! This will remove:", "  - all stopped containers"}
	if o.Volumes {
		lines = append(lines, "  - all anonymous volumes not used by at least one container")
	}
	if o.All {
		lines = append(lines, "  - all images without at least one container associated to them")
	} else {
		lines = append(lines, "  - all dangling images")
	}
	return strings.Join(lines, "\n") + "\n"
}

func systemDFCommand() *cli.Command {
	return &cli.Command{
		Name:  "df",
		Usage: "Show disk usage",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Usage: "format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'"},
			&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "show detailed information on space usage"},
		},
		Action: func(c *cli.Context) error {
			if c.Bool("verbose") && c.String("format") != "" {
				return store.Invalid("--format is not supported with --verbose")
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			if c.Bool("verbose") {
				return printDFVerbose(c.App.Writer, e)
			}
			rows, err := e.SystemDF()
			if err != nil {
				return err
			}
			format := c.String("format")
			if format == "" || format == "table" {
				format = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}"
			}
			f, err := parseCtrFormat(format)
			if err != nil {
				return err
			}
			var out []any
			for _, r := range rows {
				d := dfRow{r: r}
				if f.json {
					out = append(out, map[string]string{
						"Type": d.Type(), "TotalCount": d.TotalCount(), "Active": d.Active(),
						"Size": d.Size(), "Reclaimable": d.Reclaimable(),
					})
				} else {
					out = append(out, d)
				}
			}
			return f.write(c.App.Writer, dfRow{header: true}, out)
		},
	}
}

// dfRow is one system df line (header: column titles).
type dfRow struct {
	r      engine.DFRow
	header bool
}

func (d dfRow) Type() string {
	if d.header {
		return "TYPE"
	}
	return d.r.Type
}

func (d dfRow) TotalCount() string {
	if d.header {
		return "TOTAL"
	}
	return fmt.Sprint(d.r.Total)
}

func (d dfRow) Active() string {
	if d.header {
		return "ACTIVE"
	}
	return fmt.Sprint(d.r.Active)
}

func (d dfRow) Size() string {
	if d.header {
		return "SIZE"
	}
	return units.HumanSize(float64(d.r.Size))
}

func (d dfRow) Reclaimable() string {
	if d.header {
		return "RECLAIMABLE"
	}
	s := units.HumanSize(float64(d.r.Reclaimable))
	if d.r.Size > 0 {
		s += fmt.Sprintf(" (%d%%)", d.r.Reclaimable*100/d.r.Size)
	}
	return s
}

func infoCommand() *cli.Command {
	return &cli.Command{
		Name:  "info",
		Usage: "Display system-wide information",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "format output using a Go `TEMPLATE` or 'json'"},
		},
		Action: func(c *cli.Context) error {
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			in, err := e.Info(version)
			if err != nil {
				return err
			}
			if format := c.String("format"); format != "" {
				return ctrWriteOne(c.App.Writer, format, in)
			}
			w := tabwriter.NewWriter(c.App.Writer, 0, 1, 1, ' ', 0)
			p := func(k string, v any) { fmt.Fprintf(w, " %s:\t%v\n", k, v) }
			fmt.Fprintln(w, "Server:")
			p("Containers", in.Containers)
			p("  Running", in.Running)
			p("  Paused", in.Paused)
			p("  Stopped", in.Stopped)
			p("Images", in.Images)
			p("Server Version", in.Version)
			p("Storage Driver", in.StorageDriver)
			for _, kv := range in.DriverStatus {
				p("  "+kv[0], kv[1])
			}
			p("Skiff Root Dir", in.Root)
			p("Skiff Run Root", in.RunRoot)
			p("Cgroup Version", in.CgroupVersion)
			cg := "available"
			if !in.Cgroups {
				cg = "unavailable"
			}
			if in.CgroupsNote != "" {
				cg += " (" + in.CgroupsNote + ")"
			}
			p("Cgroups", cg)
			p("Rootless", in.Rootless)
			if in.Rootless {
				p("UID Map", strings.Join(in.UIDMap, " "))
				p("GID Map", strings.Join(in.GIDMap, " "))
				if in.IDMapNote != "" {
					p("ID Map Note", in.IDMapNote)
				}
			}
			p("Kernel Version", in.Kernel)
			p("OSType", in.OS)
			p("Architecture", in.Arch)
			p("CPUs", in.CPUs)
			return w.Flush()
		},
	}
}

func versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "Show the skiff version information",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "format output using a Go `TEMPLATE` or 'json'"},
		},
		Action: func(c *cli.Context) error {
			v := versionInfo{
				Client: versionPart{Version: version, APIVersion: "1.41", GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH},
			}
			// No daemon: the "server" is this same binary, as with Podman.
			v.Server = v.Client
			if format := c.String("format"); format != "" {
				return ctrWriteOne(c.App.Writer, format, v)
			}
			w := tabwriter.NewWriter(c.App.Writer, 0, 1, 1, ' ', 0)
			for _, part := range []struct {
				title string
				p     versionPart
			}{{"Client", v.Client}, {"Server", v.Server}} {
				fmt.Fprintf(w, "%s:\n", part.title)
				fmt.Fprintf(w, " Version:\t%s\n API Version:\t%s\n Go Version:\t%s\n OS/Arch:\t%s/%s\n",
					part.p.Version, part.p.APIVersion, part.p.GoVersion, part.p.OS, part.p.Arch)
				if part.title == "Client" {
					fmt.Fprintln(w)
				}
			}
			return w.Flush()
		},
	}
}

type versionInfo struct {
	Client versionPart
	Server versionPart
}

type versionPart struct {
	Version    string
	APIVersion string `json:"ApiVersion"`
	GoVersion  string
	OS         string `json:"Os"`
	Arch       string
}
