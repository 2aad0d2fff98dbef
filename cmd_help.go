package main

import (
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// Docker's help groups. urfave prints categories sorted by name, which
// would put "Commands" before "Common Commands", so appHelpTemplate names
// each group in Docker's order instead.
const (
	catCommon     = "Common Commands"
	catManagement = "Management Commands"
	catOther      = "Commands"
)

// commonCommands are Docker's "Common Commands", in Docker's order.
var commonCommands = []string{"run", "exec", "ps", "build", "pull", "push", "images", "login", "logout", "version", "info"}

// categorize sorts the top-level commands into Docker's groups (groups of
// subcommands are "Management Commands") and orders them as Docker's help
// does: common ones as listed above, the others by name.
func categorize(app *cli.App) {
	// Ranks are computed once, not in every comparison of the sort: this
	// runs in every skiff call.
	ranks := make(map[*cli.Command]int, len(app.Commands))
	for _, c := range app.Commands {
		helpBeforeArgs(c)
		ranks[c] = len(commonCommands)
		if i := slices.Index(commonCommands, c.Name); i >= 0 {
			ranks[c] = i
		}
		switch {
		case ranks[c] < len(commonCommands):
			c.Category = catCommon
		case len(c.Subcommands) > 0:
			c.Category = catManagement
		default:
			c.Category = catOther
		}
	}
	slices.SortStableFunc(app.Commands, func(a, b *cli.Command) int {
		if ra, rb := ranks[a], ranks[b]; ra != rb {
			return ra - rb
		}
		return strings.Compare(a.Name, b.Name)
	})
	app.CustomAppHelpTemplate = appHelpTemplate
}

// helpBeforeArgs makes `skiff CMD --help` print CMD's help when CMD takes
// its arguments unparsed (unshare), as Podman's does; a later --help is
// still the arguments' own (`skiff unshare ls --help`).
func helpBeforeArgs(c *cli.Command) {
	if !c.SkipFlagParsing || c.Action == nil {
		return
	}
	act := c.Action
	c.Action = func(ctx *cli.Context) error {
		if first := ctx.Args().First(); first == "--help" || first == "-h" {
			return cli.ShowCommandHelp(ctx.Lineage()[1], c.Name)
		}
		return act(ctx)
	}
}

// appHelpTemplate is `skiff --help` laid out as `docker --help`; urfave's
// own help command has no category and is listed with the other commands.
var appHelpTemplate = `Usage:  {{.HelpName}} [OPTIONS] COMMAND

{{.Usage}}
` + helpGroup(catCommon, "\n") + helpGroup(catManagement, "\n") + helpGroup(catOther, "") +
	`{{range .VisibleCategories}}{{if not .Name}}{{range .VisibleCommands}}` + helpLine + `{{end}}{{end}}{{end}}` + `

Global Options:{{range .VisibleFlags}}
  {{.}}{{end}}

Run '{{.HelpName}} COMMAND --help' for more information on a command.
`

// helpGroup is the template of one titled group of commands, followed
// by end.
func helpGroup(name, end string) string {
	return `{{range .VisibleCategories}}{{if eq .Name "` + name + `"}}` + "\n" + name + ":" +
		`{{range .VisibleCommands}}` + helpLine + `{{end}}` + end + `{{end}}{{end}}`
}

// helpLine is one command's line.
const helpLine = "\n  " + `{{join .Names ", "}}{{"\t"}}{{.Usage}}`
