package main

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

const bashCompletion = `_skiff_complete() {
  local cur words
  cur="${COMP_WORDS[COMP_CWORD]}"
  words=$("${COMP_WORDS[0]}" "${COMP_WORDS[@]:1:$COMP_CWORD-1}" --generate-bash-completion 2>/dev/null)
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _skiff_complete skiff
`

const zshCompletion = `#compdef skiff
autoload -U bashcompinit && bashcompinit
` + bashCompletion

func completionCommand() *cli.Command {
	return &cli.Command{
		Name:      "completion",
		Usage:     "Print a shell completion script (bash, zsh, fish)",
		ArgsUsage: "SHELL",
		Action: func(c *cli.Context) error {
			switch sh := c.Args().First(); sh {
			case "", "bash":
				fmt.Fprint(c.App.Writer, bashCompletion)
			case "zsh":
				fmt.Fprint(c.App.Writer, zshCompletion)
			case "fish":
				s, err := c.App.ToFishCompletion()
				if err != nil {
					return err
				}
				fmt.Fprint(c.App.Writer, s)
			default:
				return fmt.Errorf("completion: unsupported shell %q (bash, zsh, fish)", sh)
			}
			return nil
		},
	}
}
