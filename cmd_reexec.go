package main

import "github.com/skiff-dev/skiff/engine"

func reexec() bool { return engine.Reexec() }
