package engine

// Reexec runs one of skiff's hidden re-exec entry points (the container's
// init stage, the supervisor) when os.Args names one, and reports whether it
// did. main calls it before parsing flags. The entry points are registered
// by the packages that own them; engine only forwards, so main keeps
// importing engine alone.
func Reexec() bool { return reexecHook() }

// reexecHook is replaced as the container package gains its entry points.
var reexecHook = func() bool { return false }
