package main

import (
	"fmt"
	"strings"
	"time"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/engine"
	"github.com/skiff-dev/skiff/store"
)

// volumeCommand: volume create, ls, rm, prune, inspect.
func volumeCommand() *cli.Command {
	return &cli.Command{
		Name:  "volume",
		Usage: "Manage volumes",
		Subcommands: []*cli.Command{
			{
				Name:      "create",
				Usage:     "Create a volume",
				ArgsUsage: "[VOLUME]",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "name", Usage: "specify volume `NAME`"},
					&cli.StringFlag{Name: "driver", Aliases: []string{"d"}, Value: "local", Usage: "specify volume `DRIVER` name (local only)"},
					ctrListFlag("label", []string{"l"}, "set metadata for a volume (`KEY=VALUE`)"),
					ctrListFlag("opt", []string{"o"}, "set driver specific options (not supported)"),
				},
				Action: volumeCreate,
			},
			{
				Name:    "ls",
				Aliases: []string{"list"},
				Usage:   "List volumes",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only display volume names"},
					&cli.StringFlag{Name: "format", Usage: "format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'"},
					ctrListFlag("filter", []string{"f"}, "provide filter values (dangling=true|false, name=, label=)"),
				},
				Action: volumeList,
			},
			{
				Name:      "rm",
				Aliases:   []string{"remove"},
				Usage:     "Remove one or more volumes",
				ArgsUsage: "VOLUME [VOLUME...]",
				Flags:     []cli.Flag{&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not fail on a missing volume"}},
				Action: engineAction(1, false, func(c *cli.Context, e *engine.Engine) error {
					return ctrEach(c, func(name string) error {
						if err := e.VolumeRm(name, c.Bool("force")); err != nil {
							return err
						}
						fmt.Fprintln(c.App.Writer, name)
						return nil
					})
				}),
			},
			{
				Name:  "prune",
				Usage: "Remove unused local volumes",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
					&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "remove all unused volumes, not just anonymous ones"},
					ctrListFlag("filter", nil, "provide filter values (label=KEY[=VALUE], label!=KEY[=VALUE], all=true)"),
				},
				Action: func(c *cli.Context) error {
					f, err := engine.ParsePruneFilter(ctrValues(c, "filter"), engine.VolumePruneKeys, time.Now())
					if err != nil {
						return err
					}
					f.All = f.All || c.Bool("all")
					warn := "WARNING! This will remove anonymous local volumes not used by at least one container."
					if f.All {
						warn = "WARNING! This will remove all local volumes not used by at least one container."
					}
					if !c.Bool("force") && !ctrConfirm(c, warn) {
						return nil
					}
					e, err := openEngine(c)
					if err != nil {
						return err
					}
					r, err := e.VolumePrune(f)
					if err != nil {
						return err
					}
					ctrPrintPrune(c.App.Writer, r)
					return nil
				},
			},
			{
				Name:      "inspect",
				Usage:     "Display detailed information on one or more volumes",
				ArgsUsage: "VOLUME [VOLUME...]",
				Flags:     []cli.Flag{&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "format output using a Go `TEMPLATE`"}},
				Action:    volumeInspect,
			},
		},
	}
}

func volumeCreate(c *cli.Context) error {
	name := c.String("name")
	if c.NArg() > 1 || (name != "" && c.NArg() == 1 && c.Args().First() != name) {
		return store.Invalid("conflicting options: either specify --name or provide positional arg, not both")
	}
	if name == "" {
		name = c.Args().First()
	}
	if d := c.String("driver"); d != "local" {
		return store.NotFound("plugin %q not found", d)
	}
	labels, err := ctrLabels(nil, ctrValues(c, "label"))
	if err != nil {
		return err
	}
	e, err := openEngine(c)
	if err != nil {
		return err
	}
	v, err := e.VolumeCreate(name, labels)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, v.Name)
	return nil
}

// volumeRow is one volume ls line (header: column titles).
type volumeRow struct {
	v      *container.Volume
	header bool
}

func (r volumeRow) Driver() string {
	if r.header {
		return "DRIVER"
	}
	return r.v.Driver
}

func (r volumeRow) Name() string {
	if r.header {
		return "VOLUME NAME"
	}
	return r.v.Name
}

func (r volumeRow) Mountpoint() string {
	if r.header {
		return "MOUNTPOINT"
	}
	return r.v.Mountpoint
}

func (r volumeRow) Scope() string {
	if r.header {
		return "SCOPE"
	}
	return r.v.Scope
}

func (r volumeRow) Labels() string {
	if r.header {
		return "LABELS"
	}
	var kv []string
	for k, v := range r.v.Labels {
		kv = append(kv, k+"="+v)
	}
	return strings.Join(kv, ",")
}

func (r volumeRow) Size() string {
	if r.header {
		return "SIZE"
	}
	return units.HumanSize(float64(container.DirSize(r.v.Mountpoint)))
}

func volumeList(c *cli.Context) error {
	e, err := openEngine(c)
	if err != nil {
		return err
	}
	vols, err := e.Volumes()
	if err != nil {
		return err
	}
	keep, err := volumeFilter(e, ctrValues(c, "filter"))
	if err != nil {
		return err
	}
	format := c.String("format")
	if format == "" || format == "table" {
		format = "table {{.Driver}}\t{{.Name}}"
	}
	if c.Bool("quiet") {
		format = "{{.Name}}"
	}
	f, err := parseCtrFormat(format)
	if err != nil {
		return err
	}
	var rows []any
	for _, v := range vols {
		if !keep(v) {
			continue
		}
		if f.json {
			rows = append(rows, v)
		} else {
			rows = append(rows, volumeRow{v: v})
		}
	}
	return f.write(c.App.Writer, volumeRow{header: true}, rows)
}

// volumeFilter supports dangling=, name= and label= (Docker's common ones).
func volumeFilter(e *engine.Engine, filters []string) (func(*container.Volume) bool, error) {
	var used map[string]bool
	var checks []func(*container.Volume) bool
	for _, f := range filters {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, store.Invalid("bad format of filter (expected name=value)")
		}
		switch k {
		case "dangling":
			if used == nil {
				used = map[string]bool{}
				cs, err := e.Containers()
				if err != nil {
					return nil, err
				}
				list, err := cs.List()
				if err != nil {
					return nil, err
				}
				for _, ctr := range list {
					for _, m := range ctr.Mounts {
						used[m.Name] = true
					}
				}
			}
			want := v == "true" || v == "1"
			checks = append(checks, func(vol *container.Volume) bool { return !used[vol.Name] == want })
		case "name":
			checks = append(checks, func(vol *container.Volume) bool { return strings.Contains(vol.Name, v) })
		case "label":
			lk, lv, hasVal := strings.Cut(v, "=")
			checks = append(checks, func(vol *container.Volume) bool {
				got, ok := vol.Labels[lk]
				return ok && (!hasVal || got == lv)
			})
		default:
			return nil, store.Invalid("invalid filter '%s'", k)
		}
	}
	return func(vol *container.Volume) bool {
		for _, c := range checks {
			if !c(vol) {
				return false
			}
		}
		return true
	}, nil
}

func volumeInspect(c *cli.Context) error {
	if err := ctrArgs(c, 1, false); err != nil {
		return err
	}
	e, err := openEngine(c)
	if err != nil {
		return err
	}
	return ctrInspectEach(c, func(name string) (any, error) { return e.VolumeInspect(name) })
}
