package main

import (
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/urfave/cli/v2"
)

// Every flag of every command must be of a type wrapFlag knows: an
// unwrapped one is still correct but makes each lookup of an unset flag
// run urfave's regexp again (cmd_flagnames.go), which once went unseen
// for a release when duration flags arrived.
func TestEveryFlagGetsFixedNames(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	var walk func(path string, flags []cli.Flag, cmds []*cli.Command)
	walk = func(path string, flags []cli.Flag, cmds []*cli.Command) {
		for _, f := range flags {
			w := wrapFlag(f)
			if _, aliased := f.(*aliasedFlag); !aliased && fmt.Sprintf("%T", w) == fmt.Sprintf("%T", f) {
				t.Errorf("%s: flag %q is a %T, which wrapFlag leaves unwrapped", path, f.Names()[0], f)
				continue
			}
			if want := f.Names(); !slices.Equal(w.Names(), want) || flagName(f) != want[0] {
				t.Errorf("%s: flag %q: fixed names %v / %q, urfave's %v", path, f.Names()[0], w.Names(), flagName(f), want)
			}
		}
		for _, c := range cmds {
			walk(path+" "+c.Name, c.Flags, c.Subcommands)
		}
	}
	walk("skiff", app.Flags, app.Commands)
}
