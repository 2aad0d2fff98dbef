package main

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestHelpEveryCommand runs `skiff <cmd> [<sub>] --help` for every command
// and subcommand: each exits 0 and prints its own usage, nothing on stderr.
func TestHelpEveryCommand(t *testing.T) {
	t.Setenv("SKIFF_ROOT", t.TempDir()) // help must not need a store; if it opens one, not the host's
	t.Setenv("SKIFF_RUNROOT", t.TempDir())
	var walk func(path []string, cmds []*cli.Command)
	n := 0
	walk = func(path []string, cmds []*cli.Command) {
		for _, c := range cmds {
			p := append(append([]string{}, path...), c.Name)
			n++
			t.Run(strings.Join(p, "_"), func(t *testing.T) {
				var out, errs bytes.Buffer
				args := append(append([]string{"skiff"}, p...), "--help")
				if code := run(args, &out, &errs); code != 0 {
					t.Fatalf("%s: exit %d, stderr %q", strings.Join(args, " "), code, errs.String())
				}
				if errs.Len() != 0 {
					t.Errorf("%s: stderr %q", strings.Join(args, " "), errs.String())
				}
				if !strings.Contains(out.String(), "skiff "+strings.Join(p, " ")) || !strings.Contains(out.String(), c.Usage) {
					t.Errorf("%s: no usage of %q:\n%s", strings.Join(args, " "), strings.Join(p, " "), out.String())
				}
			})
			walk(p, c.Subcommands)
		}
	}
	walk(nil, newApp(io.Discard, io.Discard).Commands)
	if n < 60 {
		t.Errorf("walked %d commands, the CLI has far more", n)
	}
}

// TestHelpListsEveryCommand: `skiff --help` names every top-level command
// with its one-line description under one of Docker's groups, common
// commands first.
func TestHelpListsEveryCommand(t *testing.T) {
	var out, errs bytes.Buffer
	if code := run([]string{"skiff", "--help"}, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	help := out.String()
	for _, c := range newApp(io.Discard, io.Discard).Commands {
		if c.Hidden {
			continue
		}
		if c.Usage == "" {
			t.Errorf("%s has no one-line description", c.Name)
		}
		line := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(c.Name) + `(, \w+)*\s+` + regexp.QuoteMeta(c.Usage) + `$`)
		if !line.MatchString(help) {
			t.Errorf("skiff --help lacks %q with %q:\n%s", c.Name, c.Usage, help)
		}
	}
	order := []string{"\nCommon Commands:\n  run ", "\nManagement Commands:\n", "\nCommands:\n", "\nGlobal Options:\n"}
	last := -1
	for _, s := range order {
		i := strings.Index(help, s)
		if i < last {
			t.Errorf("%q missing or out of Docker's order in:\n%s", s, help)
		}
		last = i
	}
}
