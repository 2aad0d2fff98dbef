// Package isolate turns an OCI runtime spec into a running process:
// namespaces, id maps, mounts, pivot_root, cgroups v1/v2, capabilities,
// seccomp, rlimits and exec; and joins a running container for exec. It is in
// effect a small OCI runtime and imports nothing of skiff's.
package isolate
