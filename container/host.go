package container

import "github.com/skiff-dev/skiff/isolate"

// CgroupsAvailable says whether containers get a cgroup (and so resource
// limits) on this host, and why; engine's info shows it without importing
// isolate itself.
func CgroupsAvailable() (bool, string) { return isolate.CgroupsAvailable() }
