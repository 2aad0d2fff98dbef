package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"text/template"

	"github.com/urfave/cli/v2"

	"github.com/skiff-dev/skiff/engine"
	"github.com/skiff-dev/skiff/store"
)

func eventsCommand() *cli.Command {
	return &cli.Command{
		Name:  "events",
		Usage: "Get real time events from the server",
		Flags: []cli.Flag{
			&cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter output based on conditions provided (container, event, image, label, type, volume)"},
			&cli.StringFlag{Name: "format", Usage: "format output using a custom template: 'json' prints in JSON format, 'TEMPLATE' prints output using the given Go template"},
			&cli.StringFlag{Name: "since", Usage: "show all events created since timestamp"},
			&cli.StringFlag{Name: "until", Usage: "stream events until this timestamp"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return imgArgsError(c, "no arguments")
			}
			printEvent, err := eventPrinter(c.App.Writer, c.String("format"))
			if err != nil {
				return err
			}
			e, err := openEngine(c)
			if err != nil {
				return err
			}
			done := make(chan struct{})
			sigs := make(chan os.Signal, 1)
			signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
			go func() { <-sigs; close(done) }()
			return e.Events(engine.EventsOptions{
				Since: c.String("since"), Until: c.String("until"), Filters: c.StringSlice("filter"),
				Print: printEvent, Done: done,
			})
		},
	}
}

// eventPrinter writes one event per line, flushed at once (a follower
// is often a pipe to grep or a script).
func eventPrinter(w io.Writer, format string) (func(store.Event) error, error) {
	if format == "" {
		return func(ev store.Event) error {
			_, err := io.WriteString(w, prettyEvent(ev))
			return err
		}, nil
	}
	if format == "json" {
		format = "{{json .}}"
	}
	format = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(format)
	t, err := template.New("format").Funcs(formatFuncs).Parse(format)
	if err != nil {
		return nil, fmt.Errorf("template parsing error: %w", err)
	}
	return func(ev store.Event) error {
		var b strings.Builder
		if err := t.Execute(&b, ev); err != nil {
			return err
		}
		b.WriteByte('\n')
		_, err := io.WriteString(w, b.String()) // one write per event
		return err
	}, nil
}

// prettyEvent is docker events' default line: local time with
// nanoseconds, type, action, actor, then the attributes sorted by key.
func prettyEvent(ev store.Event) string {
	var b strings.Builder
	b.WriteString(ev.When().Format("2006-01-02T15:04:05.000000000Z07:00"))
	fmt.Fprintf(&b, " %s %s %s", ev.Type, ev.Action, ev.Actor.ID)
	if len(ev.Actor.Attributes) > 0 {
		keys := make([]string, 0, len(ev.Actor.Attributes))
		for k := range ev.Actor.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for i, k := range keys {
			keys[i] = k + "=" + ev.Actor.Attributes[k]
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(keys, ", "))
	}
	b.WriteByte('\n')
	return b.String()
}
