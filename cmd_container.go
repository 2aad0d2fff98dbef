package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/engine"
	"github.com/skiff-dev/skiff/image"
	"github.com/skiff-dev/skiff/store"
)

// containerCommands: create, ps, rm, rename, inspect, port, top, the
// `container` group (which also holds run's family from cmd_run.go) and
// the `volume` group.
func containerCommands() []*cli.Command {
	return []*cli.Command{
		createCommand(), psCommand("ps"), rmCommand("rm"), renameCommand(),
		inspectCommand(), portCommand(), topCommand(),
		containerGroupCommand(), volumeCommand(),
	}
}

func containerGroupCommand() *cli.Command {
	ls := psCommand("ls")
	ls.Aliases = []string{"ps", "list"}
	rm := rmCommand("rm")
	rm.Aliases = []string{"remove"}
	inspect := inspectCommand()
	inspect.Flags = inspect.Flags[:len(inspect.Flags)-1] // no --type under `container`
	inspect.Action = func(c *cli.Context) error { return ctrInspect(c, "container") }
	subs := []*cli.Command{
		createCommand(), ls, rm, renameCommand(), inspect, portCommand(), topCommand(),
		containerPruneCommand(),
	}
	subs = append(subs, limitsCommands()...) // stats, update (cmd_stats.go)
	// commit (cmd_image.go)
	subs = append(subs, containerGroupImageCommands()...)
	subs = append(subs, copyCommands()...) // cp, diff, export, pause, unpause (cmd_copy.go)
	subs = append(subs, runCommands()...)  // run sets HideHelp itself: -h is --hostname
	return &cli.Command{
		Name:        "container",
		Usage:       "Manage containers",
		Subcommands: subs,
	}
}

func createCommand() *cli.Command {
	return &cli.Command{
		Name:                   "create",
		Usage:                  "Create a new container",
		ArgsUsage:              "IMAGE [COMMAND] [ARG...]",
		Flags:                  append(runFlags(), ctrHelpFlag()),
		HideHelp:               true, // -h is --hostname, as in Docker
		UseShortOptionHandling: true,
		Action: func(c *cli.Context) error {
			if err := ctrArgs(c, 1, false); err != nil {
				return err
			}
			o, err := parseRunOptions(c)
			if err != nil {
				return err
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			ctr, err := e.Create(c.Context, o)
			if err != nil {
				return err
			}
			fmt.Fprintln(c.App.Writer, ctr.ID)
			return nil
		},
	}
}

// ctrHelpFlag is --help for commands whose -h means something else
// (urfave's checkHelp honours a flag named "help" even with HideHelp).
func ctrHelpFlag() cli.Flag {
	return &cli.BoolFlag{Name: "help", Usage: "show help"}
}

// ctrEach runs fn for every argument, printing each failure as Docker
// does and exiting 1 at the end if any failed.
func ctrEach(c *cli.Context, fn func(ref string) error) error {
	failed := false
	for _, ref := range c.Args().Slice() {
		if err := fn(ref); err != nil {
			fmt.Fprintf(c.App.ErrWriter, "Error: %s\n", err)
			failed = true
		}
	}
	if failed {
		return &engine.ExitError{Code: 1}
	}
	return nil
}

// daemonErr gives err exit code 1: the Docker CLI exits 1 with what its
// daemon refused (no such container, name in use, not running); only run
// and create use 125 for their own failures.
func daemonErr(err error) error {
	if err == nil {
		return nil
	}
	var exit *engine.ExitError
	if errors.As(err, &exit) {
		return err
	}
	return &engine.ExitError{Code: 1, Message: err.Error()}
}

func rmCommand(name string) *cli.Command {
	return &cli.Command{
		Name:                   name,
		Usage:                  "Remove one or more containers",
		ArgsUsage:              "CONTAINER [CONTAINER...]",
		UseShortOptionHandling: true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "force the removal of a running container (uses SIGKILL)"},
			&cli.BoolFlag{Name: "volumes", Aliases: []string{"v"}, Usage: "remove anonymous volumes associated with the container"},
		},
		Action: engineAction(1, false, func(c *cli.Context, e *engine.Engine) error {
			o := engine.RmOptions{Force: c.Bool("force"), Volumes: c.Bool("volumes")}
			return ctrEach(c, func(ref string) error {
				if err := e.Rm(ref, o); err != nil {
					if o.Force && errors.Is(err, store.ErrNotFound) {
						// Docker's rm -f says so but does not fail.
						fmt.Fprintf(c.App.ErrWriter, "Error: %s\n", err)
						return nil
					}
					return err
				}
				fmt.Fprintln(c.App.Writer, ref)
				return nil
			})
		}),
	}
}

func renameCommand() *cli.Command {
	return &cli.Command{
		Name:      "rename",
		Usage:     "Rename a container",
		ArgsUsage: "CONTAINER NEW_NAME",
		Action: engineAction(2, true, func(c *cli.Context, e *engine.Engine) error {
			return daemonErr(e.Rename(c.Args().Get(0), c.Args().Get(1)))
		}),
	}
}

func containerPruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "Remove all stopped containers",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "do not prompt for confirmation"},
			ctrListFlag("filter", nil, "provide filter values (until=TIME, label=KEY[=VALUE], label!=KEY[=VALUE])"),
		},
		Action: func(c *cli.Context) error {
			f, err := engine.ParsePruneFilter(ctrValues(c, "filter"), engine.ContainerPruneKeys, time.Now())
			if err != nil {
				return err
			}
			if !c.Bool("force") && !ctrConfirm(c, "WARNING! This will remove all stopped containers.") {
				return nil
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			r, err := e.ContainerPrune(f)
			if err != nil {
				return err
			}
			ctrPrintPrune(c.App.Writer, r)
			return nil
		},
	}
}

// ctrConfirm prints warning and Docker's prompt; only "y" or "yes" agrees.
func ctrConfirm(c *cli.Context, warning string) bool {
	fmt.Fprintf(c.App.Writer, "%s\nAre you sure you want to continue? [y/N] ", warning)
	var in io.Reader = os.Stdin
	if c.App.Reader != nil {
		in = c.App.Reader
	}
	line, _ := bufio.NewReader(in).ReadString('\n')
	line = strings.ToLower(strings.TrimSpace(line))
	if line != "y" && line != "yes" {
		fmt.Fprintln(c.App.Writer)
		return false
	}
	return true
}

// ctrPrintPrune prints a prune report in Docker's words.
func ctrPrintPrune(w io.Writer, r *engine.PruneReport) {
	if len(r.Containers) > 0 {
		fmt.Fprintln(w, "Deleted Containers:")
		for _, id := range r.Containers {
			fmt.Fprintln(w, id)
		}
		fmt.Fprintln(w)
	}
	if len(r.Volumes) > 0 {
		fmt.Fprintln(w, "Deleted Volumes:")
		for _, v := range r.Volumes {
			fmt.Fprintln(w, v)
		}
		fmt.Fprintln(w)
	}
	if len(r.Images) > 0 {
		fmt.Fprintln(w, "Deleted Images:")
		for _, l := range r.Images {
			fmt.Fprintln(w, l)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "Total reclaimed space: %s\n", units.HumanSize(float64(r.Space)))
}

func psCommand(name string) *cli.Command {
	return &cli.Command{
		Name:                   name,
		Usage:                  "List containers",
		UseShortOptionHandling: true,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show all containers (default shows just running)"},
			&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "only display container IDs"},
			&cli.BoolFlag{Name: "latest", Aliases: []string{"l"}, Usage: "show the latest created container (includes all states)"},
			&cli.IntFlag{Name: "last", Aliases: []string{"n"}, Value: -1, Usage: "show `N` last created containers (includes all states)"},
			&cli.BoolFlag{Name: "size", Aliases: []string{"s"}, Usage: "display total file sizes"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "don't truncate output"},
			ctrListFlag("filter", []string{"f"}, "filter output based on conditions provided (`FILTER`)"),
			&cli.StringFlag{Name: "format", Usage: "format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'"},
		},
		Action: ctrPs,
	}
}

const psDefaultFormat = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

func ctrPs(c *cli.Context) error {
	if c.NArg() > 0 {
		return store.Invalid("\"skiff ps\" accepts no arguments.\nSee 'skiff ps --help'.")
	}
	e, err := openEngine(c)
	if err != nil {
		return err
	}
	o := engine.PsOptions{All: c.Bool("all"), Filters: ctrValues(c, "filter"), Size: c.Bool("size")}
	if n := c.Int("last"); n > 0 {
		o.Last = n
	}
	if c.Bool("latest") {
		o.Last = 1
	}
	format := c.String("format")
	if format == "" || format == "table" {
		format = psDefaultFormat
		if c.Bool("size") {
			format += "\t{{.Size}}"
		}
	}
	if c.Bool("quiet") {
		format = "{{.ID}}"
	}
	o.Size = o.Size || strings.Contains(format, ".Size") || format == "json"
	list, err := e.Ps(o)
	if err != nil {
		return err
	}
	f, err := parseCtrFormat(format)
	if err != nil {
		return err
	}
	f.direct = psDirect(format)
	now := time.Now()
	rows := make([]any, len(list))
	for i, p := range list {
		r := psRow{p: p, trunc: !c.Bool("no-trunc"), now: now}
		if f.json {
			rows[i] = r.jsonMap()
		} else {
			rows[i] = r
		}
	}
	return f.write(c.App.Writer, psRow{header: true}, rows)
}

// psDirect renders the default and quiet formats without text/template
// (same output), or returns nil for any other format.
func psDirect(format string) func(v any) string {
	switch format {
	case psDefaultFormat:
		return func(v any) string {
			r := v.(psRow)
			return strings.Join([]string{r.ID(), r.Image(), r.Command(), r.RunningFor(), r.Status(), r.Ports(), r.Names()}, "\t")
		}
	case "{{.ID}}":
		return func(v any) string { return v.(psRow).ID() }
	}
	return nil
}

// psRow is one ps line; with header set, every field is its column title
// (so a "table" template renders its own header).
type psRow struct {
	p      engine.PsEntry
	header bool
	trunc  bool
	now    time.Time
}

func (r psRow) ID() string {
	if r.header {
		return "CONTAINER ID"
	}
	if r.trunc {
		return container.ShortID(r.p.ID)
	}
	return r.p.ID
}

func (r psRow) Image() string {
	if r.header {
		return "IMAGE"
	}
	if r.p.Config.Image != "" {
		return r.p.Config.Image
	}
	return image.FamiliarName(r.p.Container.Image)
}

func (r psRow) Command() string {
	if r.header {
		return "COMMAND"
	}
	cmd := strings.Join(r.p.Config.Args(), " ")
	if r.trunc {
		cmd = ctrEllipsis(cmd, 20)
	}
	return strconv.Quote(cmd)
}

func (r psRow) CreatedAt() string {
	if r.header {
		return "CREATED AT"
	}
	return r.p.Created.Local().Format("2006-01-02 15:04:05 -0700 MST")
}

func (r psRow) RunningFor() string {
	if r.header {
		return "CREATED"
	}
	return units.HumanDuration(r.now.Sub(r.p.Created)) + " ago"
}

func (r psRow) Ports() string {
	if r.header {
		return "PORTS"
	}
	return ctrPortsString(r.p.Container)
}

func (r psRow) State() string {
	if r.header {
		return "STATE"
	}
	return string(r.p.State.Status)
}

func (r psRow) Status() string {
	if r.header {
		return "STATUS"
	}
	return ctrStatus(r.p.Container, r.now)
}

func (r psRow) Size() string {
	if r.header {
		return "SIZE"
	}
	return fmt.Sprintf("%s (virtual %s)", units.HumanSizeWithPrecision(float64(r.p.SizeRw), 3),
		units.HumanSizeWithPrecision(float64(r.p.SizeRootFs), 3))
}

func (r psRow) Names() string {
	if r.header {
		return "NAMES"
	}
	return r.p.Name
}

func (r psRow) Labels() string {
	if r.header {
		return "LABELS"
	}
	var kv []string
	for k, v := range r.p.Config.Labels {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

// Label returns one label's value (Docker's {{.Label "key"}}).
func (r psRow) Label(name string) string {
	if r.header {
		return strings.ToUpper(name)
	}
	return r.p.Config.Labels[name]
}

func (r psRow) Mounts() string {
	if r.header {
		return "MOUNTS"
	}
	var m []string
	for _, mt := range r.p.Mounts {
		n := mt.Name
		if n == "" {
			n = mt.Source
		}
		if r.trunc {
			n = ctrEllipsis(n, 15)
		}
		m = append(m, n)
	}
	return strings.Join(m, ",")
}

func (r psRow) LocalVolumes() string {
	if r.header {
		return "LOCAL VOLUMES"
	}
	n := 0
	for _, m := range r.p.Mounts {
		if m.Type == container.MountVolume {
			n++
		}
	}
	return strconv.Itoa(n)
}

func (r psRow) Networks() string {
	if r.header {
		return "NETWORKS"
	}
	return r.p.HostConfig.NetworkMode
}

func (r psRow) jsonMap() map[string]string {
	return map[string]string{
		"Command": r.Command(), "CreatedAt": r.CreatedAt(), "ID": r.ID(), "Image": r.Image(),
		"Labels": r.Labels(), "LocalVolumes": r.LocalVolumes(), "Mounts": r.Mounts(),
		"Names": r.Names(), "Networks": r.Networks(), "Ports": r.Ports(),
		"RunningFor": r.RunningFor(), "Size": r.Size(), "State": r.State(), "Status": r.Status(),
	}
}

// ctrStatus is Docker's human status: "Up 3 seconds", "Exited (0) 52
// seconds ago", "Created".
func ctrStatus(c *container.Container, now time.Time) string {
	switch c.State.Status {
	case container.StatusRunning:
		return "Up " + units.HumanDuration(now.Sub(c.State.StartedAt)) + container.HealthSuffix(c)
	case container.StatusPaused:
		return "Up " + units.HumanDuration(now.Sub(c.State.StartedAt)) + " (Paused)"
	case container.StatusRestarting:
		return fmt.Sprintf("Restarting (%d) %s ago", c.State.ExitCode, units.HumanDuration(now.Sub(c.State.FinishedAt)))
	case container.StatusExited:
		if c.State.FinishedAt.IsZero() {
			return fmt.Sprintf("Exited (%d)", c.State.ExitCode)
		}
		return fmt.Sprintf("Exited (%d) %s ago", c.State.ExitCode, units.HumanDuration(now.Sub(c.State.FinishedAt)))
	case container.StatusRemoving:
		return "Removal In Progress"
	case container.StatusDead:
		return "Dead"
	}
	return "Created"
}

func inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "Return low-level information on containers or images",
		ArgsUsage: "NAME|ID [NAME|ID...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "format output using a Go `TEMPLATE` or 'json'"},
			&cli.BoolFlag{Name: "size", Aliases: []string{"s"}, Usage: "display total file sizes"},
			&cli.StringFlag{Name: "type", Usage: "only inspect objects of the given `TYPE` (container, image)"},
		},
		Action: func(c *cli.Context) error { return ctrInspect(c, c.String("type")) },
	}
}

// ctrInspect prints containers (and, for the top-level command, images)
// as a JSON array or through --format, one line per object.
func ctrInspect(c *cli.Context, typ string) error {
	if err := ctrArgs(c, 1, false); err != nil {
		return err
	}
	switch typ {
	case "", "container", "image":
	default:
		return store.Invalid("%q is not a valid value for --type", typ)
	}
	e, err := openEngine(c)
	if err != nil {
		return err
	}
	return ctrInspectEach(c, func(ref string) (any, error) { return ctrInspectOne(e, ref, typ, c.Bool("size")) })
}

// ctrInspectEach is Docker's inspect over several targets: every object
// found is printed (--format or a JSON array), then every failure, the
// last one as the command's error (exit 1).
func ctrInspectEach(c *cli.Context, get func(ref string) (any, error)) error {
	var objs []any
	var errs []error
	for _, ref := range c.Args().Slice() {
		obj, err := get(ref)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		objs = append(objs, obj)
	}
	if err := ctrWriteObjects(c.App.Writer, c.String("format"), objs); err != nil {
		return err
	}
	if len(errs) == 0 {
		return nil
	}
	for _, err := range errs[:len(errs)-1] {
		fmt.Fprintf(c.App.ErrWriter, "Error: %s\n", err)
	}
	return &engine.ExitError{Code: 1, Message: errs[len(errs)-1].Error()}
}

func ctrInspectOne(e *engine.Engine, ref, typ string, size bool) (any, error) {
	if typ != "image" {
		ctr, err := e.LookupContainer(ref)
		if err == nil {
			return engine.InspectContainer(ctr, size), nil
		}
		if !errors.Is(err, store.ErrNotFound) || typ == "container" {
			return nil, err
		}
	}
	obj, err := ctrInspectImage(e, ref)
	if err != nil && errors.Is(err, store.ErrNotFound) && typ == "" {
		return nil, store.NotFound("No such object: %s", ref)
	}
	return obj, err
}

func topCommand() *cli.Command {
	return &cli.Command{
		Name:      "top",
		Usage:     "Display the running processes of a container",
		ArgsUsage: "CONTAINER [ps OPTIONS]",
		Action: engineAction(1, false, func(c *cli.Context, e *engine.Engine) error {
			r, err := e.Top(c.Args().First(), c.Args().Tail())
			if err != nil {
				return daemonErr(err)
			}
			w := tabwriter.NewWriter(c.App.Writer, 20, 1, 3, ' ', 0) // Docker's top layout
			fmt.Fprintln(w, strings.Join(r.Titles, "\t"))
			for _, p := range r.Processes {
				fmt.Fprintln(w, strings.Join(p, "\t"))
			}
			return w.Flush()
		}),
	}
}

// ctrInspectImage is one image's inspect object, from image-core's engine verb.
func ctrInspectImage(e *engine.Engine, ref string) (any, error) {
	objs, err := e.InspectImages([]string{ref})
	if err != nil {
		return nil, err
	}
	if len(objs) == 0 {
		return nil, store.NotFound("No such image: %s", ref)
	}
	return objs[0], nil
}
