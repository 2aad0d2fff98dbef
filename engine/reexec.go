package engine

import "github.com/skiff-dev/skiff/container"

// Reexec runs one of skiff's hidden re-exec entry points (the container's
// init stage, the supervisor) when os.Args names one, and reports whether it
// did. main calls it before parsing flags; engine only forwards, so main
// keeps importing engine alone. container.Reexec knows every entry point;
// reexecHook remains for hooks other engine files register.
func Reexec() bool { return container.Reexec() || reexecHook() }

var reexecHook = func() bool { return false }
