package container

import (
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// DefaultPath is the PATH a container gets when neither image nor user sets one.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// MergeImageConfig fills the user's Config (from create/run options) with
// the image's defaults, by Docker's rules: an --entrypoint given by the user
// replaces the image's and drops the image's Cmd too (an empty --entrypoint
// clears it); user env overrides image env by key; labels, exposed ports
// and volumes are unions.
func MergeImageConfig(c *Config, img *v1.Config, entrypointSet bool) {
	if img == nil {
		img = &v1.Config{}
	}
	if !entrypointSet {
		c.Entrypoint = img.Entrypoint
		if len(c.Cmd) == 0 {
			c.Cmd = img.Cmd
		}
	} else if len(c.Entrypoint) == 1 && c.Entrypoint[0] == "" {
		c.Entrypoint = nil
	}
	c.Env = MergeEnv(img.Env, c.Env)
	if c.WorkingDir == "" {
		c.WorkingDir = img.WorkingDir
	}
	if c.User == "" {
		c.User = img.User
	}
	if c.StopSignal == "" {
		c.StopSignal = img.StopSignal
	}
	c.Healthcheck = mergeHealthcheck(c.Healthcheck, img.Healthcheck)
	if len(img.Labels) > 0 {
		labels := map[string]string{}
		for k, v := range img.Labels {
			labels[k] = v
		}
		for k, v := range c.Labels {
			labels[k] = v
		}
		c.Labels = labels
	}
	for p := range img.ExposedPorts {
		if c.ExposedPorts == nil {
			c.ExposedPorts = map[string]struct{}{}
		}
		c.ExposedPorts[p] = struct{}{}
	}
	for v := range img.Volumes {
		if c.Volumes == nil {
			c.Volumes = map[string]struct{}{}
		}
		c.Volumes[v] = struct{}{}
	}
}

// MergeEnv returns base with each KEY=value of over replacing base's KEY or
// appended, keeping first-seen order (Docker's ReplaceOrAppendEnvValues).
func MergeEnv(base, over []string) []string {
	out := make([]string, 0, len(base)+len(over))
	index := map[string]int{}
	for _, list := range [][]string{base, over} {
		for _, kv := range list {
			k, _, _ := strings.Cut(kv, "=")
			if i, ok := index[k]; ok {
				out[i] = kv
				continue
			}
			index[k] = len(out)
			out = append(out, kv)
		}
	}
	return out
}

// Args is the command the container runs: Entrypoint followed by Cmd.
func (c *Config) Args() []string {
	return append(append([]string{}, c.Entrypoint...), c.Cmd...)
}
