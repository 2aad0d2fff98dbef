package container

import (
	"os"

	"github.com/skiff-dev/skiff/isolate"
)

// Reexec runs the hidden entry point named by os.Args[1], if any: the
// container's init stage (isolate.InitArg, never returns) or the
// supervisor (SuperviseArg, exits with its status). It reports false for
// an ordinary CLI invocation.
func Reexec() bool {
	if isInit() {
		os.Exit(RunInit(os.Args[1:]))
	}
	if len(os.Args) < 2 {
		return false
	}
	switch os.Args[1] {
	case isolate.InitArg:
		isolate.Init()
		os.Exit(125) // Init never returns; be explicit if it ever does
	case SuperviseArg:
		os.Exit(Supervise(os.Args[2:]))
	}
	return false
}
