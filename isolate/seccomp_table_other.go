//go:build !amd64 && !arm64

package isolate

// No syscall table for this architecture: seccomp profiles are refused.
const syscallTable = ""

const auditArch = 0
