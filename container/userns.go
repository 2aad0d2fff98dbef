package container

import (
	"os/exec"

	"github.com/skiff-dev/skiff/isolate"
)

// StartInUserNS starts cmd as root of a new user namespace mapped as
// rootless containers are (IDMappings): the rootless CLI's re-exec
// (engine/rootless.go). It goes through isolate, which owns id maps.
func StartInUserNS(cmd *exec.Cmd) error {
	uids, gids, _ := IDMappings()
	return isolate.StartInUserNS(cmd, uids, gids)
}

// UserNSReady completes StartInUserNS in the started process (first thing
// in main; a no-op for any other process).
func UserNSReady() { isolate.UserNSReady() }
