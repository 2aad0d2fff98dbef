package container

import (
	"strconv"
	"strings"
	"time"

	"github.com/skiff-dev/skiff/store"
)

// RestartPolicy is --restart: no, always, unless-stopped or
// on-failure[:max-retries]. With no daemon, the container's supervisor
// restarts it; nothing brings a container back after a reboot (as with
// podman, that is a systemd unit's job).
type RestartPolicy struct {
	Name              string `json:"Name"`
	MaximumRetryCount int    `json:"MaximumRetryCount"`
}

// ParseRestartPolicy reads --restart as Docker does.
func ParseRestartPolicy(s string) (RestartPolicy, error) {
	name, count, hasCount := strings.Cut(s, ":")
	p := RestartPolicy{Name: name}
	switch name {
	case "", "no":
		p.Name = "no"
		if hasCount {
			return p, store.Invalid("invalid restart policy format: maximum retry count can only be used with 'on-failure'")
		}
	case "always", "unless-stopped":
		if hasCount {
			return p, store.Invalid("invalid restart policy format: maximum retry count can only be used with 'on-failure'")
		}
	case "on-failure":
		if hasCount {
			n, err := strconv.Atoi(count)
			if err != nil || n < 0 {
				return p, store.Invalid("invalid restart policy format: maximum retry count must be a positive integer")
			}
			p.MaximumRetryCount = n
		}
	default:
		return p, store.Invalid("invalid restart policy format: unknown policy %q", name)
	}
	return p, nil
}

// restartAfterExit says whether c, which just exited with code, goes
// back up under its policy.
func restartAfterExit(c *Container, code int) bool {
	if c.State.StoppedByUser || c.HostConfig.AutoRemove {
		return false
	}
	switch p := c.HostConfig.RestartPolicy; p.Name {
	case "always", "unless-stopped":
		return true
	case "on-failure":
		return code != 0 && (p.MaximumRetryCount == 0 || c.RestartCount < p.MaximumRetryCount)
	}
	return false
}

// Docker's restart delay: 100 ms, doubled at each restart up to a minute,
// back to 100 ms once a run lasted 10 s.
const (
	restartDelayMin   = 100 * time.Millisecond
	restartDelayMax   = time.Minute
	restartDelayReset = 10 * time.Second
)

func nextRestartDelay(prev, ran time.Duration) time.Duration {
	if prev == 0 || ran >= restartDelayReset {
		return restartDelayMin
	}
	return min(2*prev, restartDelayMax)
}
