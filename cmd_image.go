package main

import "github.com/urfave/cli/v2"

// imageCommands: pull, push, images, rmi, tag, image..., save, load, import,
// login, logout, history.
func imageCommands() []*cli.Command { return nil }
