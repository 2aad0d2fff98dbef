// Package isolate turns an OCI runtime spec into a running process:
// namespaces, id maps, mounts, pivot_root, cgroups v1/v2, capabilities,
// seccomp, rlimits and exec; and joins a running container for exec. It is in
// effect a small OCI runtime and imports nothing of skiff's.
//
// Start re-executes the binary (/proc/self/exe InitArg) with clone flags
// for the spec's namespaces (and, on cgroup v2, into its cgroup); while the
// child starts up, the parent writes id maps, makes the cgroup and sets its
// limits, runs the caller's Prepare hook, then sends the spec over a pipe
// and runs the caller's Started hook while the child works;
// the child (Init, on one locked thread) enters its v1 cgroups, builds the
// root filesystem, pivots into it, sets up
// hostname, loopback, rlimits, and finally credentials, capabilities and
// seccomp on the thread that calls execve. Errors come back over a
// close-on-exec pipe, so Start returns once execve succeeded. Exec (exec.go)
// enters a running container without cgo; see there for what the caller
// must provide. A process with a terminal gets a pty from the container's
// own devpts, its master handed back as Process.Console (console.go).
package isolate
