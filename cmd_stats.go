package main

import (
	"bufio"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	units "github.com/docker/go-units"
	"github.com/urfave/cli/v2"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/engine"
	"github.com/skiff-dev/skiff/store"
)

// limitsCommands are `stats` and `update`.
func limitsCommands() []*cli.Command {
	return []*cli.Command{statsCommand(), updateCommand()}
}

const statsDefaultFormat = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"

func statsCommand() *cli.Command {
	return &cli.Command{
		Name:      "stats",
		Usage:     "Display a live stream of container(s) resource usage statistics",
		ArgsUsage: "[CONTAINER...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "show all containers (default shows just running)"},
			&cli.BoolFlag{Name: "no-stream", Usage: "disable streaming stats and only pull the first result"},
			&cli.BoolFlag{Name: "no-trunc", Usage: "do not truncate output"},
			&cli.StringFlag{Name: "format", Usage: "format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'"},
		},
		Action: ctrStats,
	}
}

func ctrStats(c *cli.Context) error {
	e, err := openEngine(c)
	if err != nil {
		return err
	}
	format := c.String("format")
	if format == "" || format == "table" {
		format = statsDefaultFormat
	}
	f, err := parseCtrFormat(format)
	if err != nil {
		return err
	}
	refs := c.Args().Slice()
	stream := !c.Bool("no-stream")
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(stop)
	for {
		list, err := e.StatsTargets(refs, c.Bool("all"))
		if err != nil {
			return err
		}
		entries := e.Stats(list, time.Second)
		rows := make([]any, 0, len(entries))
		for _, s := range entries {
			if s.Err != nil {
				if len(refs) > 0 || !stream {
					return s.Err
				}
				continue // it stopped between listing and reading
			}
			r := statsRow{s: s, trunc: !c.Bool("no-trunc"), given: ""}
			if len(refs) > 0 {
				r.given = refs[len(rows)]
			}
			if f.json {
				rows = append(rows, r.jsonMap())
			} else {
				rows = append(rows, r)
			}
		}
		w := bufio.NewWriter(c.App.Writer)
		if stream {
			fmt.Fprint(w, "\033[2J\033[H") // redraw in place, as docker stats does
		}
		if err := f.write(w, statsRow{header: true}, rows); err != nil {
			return err
		}
		if err := w.Flush(); err != nil || !stream {
			return err
		}
		select {
		case <-stop:
			return nil
		default:
		}
	}
}

// statsRow is one stats line, with Docker's --format placeholders; with
// header set every field is its column title. A container that is not
// running reads all zeros, as in docker stats -a.
type statsRow struct {
	s      engine.StatsEntry
	header bool
	trunc  bool
	given  string // the name or id the user typed, for {{.Container}}
}

func (r statsRow) Container() string {
	if r.header {
		return "CONTAINER"
	}
	if r.given != "" {
		return r.given
	}
	return r.ID()
}

func (r statsRow) ID() string {
	if r.header {
		return "CONTAINER ID"
	}
	if r.trunc {
		return container.ShortID(r.s.ID)
	}
	return r.s.ID
}

func (r statsRow) Name() string {
	if r.header {
		return "NAME"
	}
	return r.s.Name
}

func (r statsRow) CPUPerc() string {
	if r.header {
		return "CPU %"
	}
	return fmt.Sprintf("%.2f%%", r.s.CPUPercent)
}

func (r statsRow) MemUsage() string {
	if r.header {
		return "MEM USAGE / LIMIT"
	}
	return units.BytesSize(float64(r.s.MemUsage)) + " / " + units.BytesSize(float64(r.s.MemLimit))
}

func (r statsRow) MemPerc() string {
	if r.header {
		return "MEM %"
	}
	return fmt.Sprintf("%.2f%%", r.s.MemPercent)
}

func (r statsRow) NetIO() string {
	if r.header {
		return "NET I/O"
	}
	return decimalSize(r.s.NetRx) + " / " + decimalSize(r.s.NetTx)
}

func (r statsRow) BlockIO() string {
	if r.header {
		return "BLOCK I/O"
	}
	return decimalSize(r.s.BlockRead) + " / " + decimalSize(r.s.BlockWrite)
}

func (r statsRow) PIDs() string {
	if r.header {
		return "PIDS"
	}
	return fmt.Sprint(r.s.Pids)
}

// decimalSize is Docker's I/O column unit: 3 significant digits, kB/MB.
func decimalSize(n uint64) string {
	return units.HumanSizeWithPrecision(float64(n), 3)
}

func (r statsRow) jsonMap() map[string]string {
	return map[string]string{
		"BlockIO": r.BlockIO(), "CPUPerc": r.CPUPerc(), "Container": r.Container(),
		"ID": r.ID(), "MemPerc": r.MemPerc(), "MemUsage": r.MemUsage(), "Name": r.Name(),
		"NetIO": r.NetIO(), "PIDs": r.PIDs(),
	}
}

// updateFlagNames are the run flags `update` takes (Docker's set, less
// the realtime ones skiff does not support).
var updateFlagNames = []string{
	"memory", "memory-swap", "memory-reservation", "cpus", "cpu-shares", "cpu-period",
	"cpu-quota", "cpuset-cpus", "cpuset-mems", "pids-limit", "blkio-weight", "restart",
}

func updateCommand() *cli.Command {
	var flags []cli.Flag
	for _, f := range runFlags() {
		for _, n := range updateFlagNames {
			if flagName(f) == n {
				flags = append(flags, f)
			}
		}
	}
	return &cli.Command{
		Name:                   "update",
		Usage:                  "Update configuration of one or more containers",
		ArgsUsage:              "CONTAINER [CONTAINER...]",
		UseShortOptionHandling: true,
		Flags:                  flags,
		Action: func(c *cli.Context) error {
			if err := ctrArgs(c, 1, false); err != nil {
				return err
			}
			o, err := updateOptions(c)
			if err != nil {
				return err
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			var failed []string
			for _, ref := range c.Args().Slice() {
				if err := e.Update(ref, o); err != nil {
					fmt.Fprintf(c.App.ErrWriter, "Error: %v\n", err)
					failed = append(failed, ref)
					continue
				}
				fmt.Fprintln(c.App.Writer, ref)
			}
			if len(failed) > 0 {
				return &engine.ExitError{Code: 125}
			}
			return nil
		},
	}
}

// updateOptions reads update's flags with run's parser and rules.
func updateOptions(c *cli.Context) (engine.UpdateOptions, error) {
	var o engine.UpdateOptions
	res, err := ctrResources(c)
	if err != nil {
		return o, err
	}
	if res != nil && res.CPU != nil && c.IsSet("cpus") {
		res.CPU.Quota, res.CPU.Period = nil, nil // NanoCpus carries it
		if res.CPU.Shares == nil && res.CPU.Cpus == "" && res.CPU.Mems == "" {
			res.CPU = nil
		}
	}
	o.Resources = res
	if c.IsSet("cpus") {
		var l container.Limits
		if err := cpusFlag(c, &l); err != nil {
			return o, err
		}
		o.NanoCpus = &l.NanoCpus
	}
	if c.IsSet("restart") {
		p, err := container.ParseRestartPolicy(c.String("restart"))
		if err != nil {
			return o, err
		}
		o.RestartPolicy = &p
	}
	if o.Resources == nil && o.NanoCpus == nil && o.RestartPolicy == nil {
		return o, store.Invalid("you must provide one or more flags when using this command")
	}
	return o, nil
}
