package engine

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/image"
	"github.com/skiff-dev/skiff/store"
)

// nop is the created-by prefix Docker's classic builder gives
// instructions that change only the config.
const nop = "/bin/sh -c #(nop)  "

// applyMeta applies a config-only instruction to cfg and returns its
// created-by line.
func (b *builder) applyMeta(s *stage, cfg *v1.ConfigFile, cmd instructions.Command) (string, error) {
	c := &cfg.Config
	switch x := cmd.(type) {
	case *instructions.EnvCommand:
		var parts []string
		for _, kv := range x.Env {
			c.Env = container.MergeEnv(c.Env, []string{kv.Key + "=" + kv.Value})
			parts = append(parts, kv.Key+"="+kv.Value)
		}
		return nop + "ENV " + strings.Join(parts, " "), nil
	case *instructions.LabelCommand:
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		var parts []string
		for _, kv := range x.Labels {
			c.Labels[kv.Key] = kv.Value
			parts = append(parts, kv.Key+"="+kv.Value)
		}
		return nop + "LABEL " + strings.Join(parts, " "), nil
	case *instructions.MaintainerCommand:
		cfg.Author = x.Maintainer
		return nop + "MAINTAINER " + x.Maintainer, nil
	case *instructions.CmdCommand:
		c.Cmd = withShell(c, x.ShellDependantCmdLine)
		s.cmdSet = true
		return nop + "CMD " + quoteList(c.Cmd), nil
	case *instructions.EntrypointCommand:
		c.Entrypoint = withShell(c, x.ShellDependantCmdLine)
		if !s.cmdSet {
			c.Cmd = nil // an inherited CMD does not survive a new ENTRYPOINT
		}
		return nop + "ENTRYPOINT " + quoteList(c.Entrypoint), nil
	case *instructions.UserCommand:
		c.User = x.User
		return nop + "USER " + x.User, nil
	case *instructions.ExposeCommand:
		ports, err := exposedPorts(x.Ports)
		if err != nil {
			return "", err
		}
		if c.ExposedPorts == nil {
			c.ExposedPorts = map[string]struct{}{}
		}
		for _, p := range ports {
			c.ExposedPorts[p] = struct{}{}
		}
		return nop + "EXPOSE " + strings.Join(ports, " "), nil
	case *instructions.VolumeCommand:
		if c.Volumes == nil {
			c.Volumes = map[string]struct{}{}
		}
		for _, v := range x.Volumes {
			if strings.TrimSpace(v) == "" {
				return "", store.Invalid("VOLUME specified can not be an empty string")
			}
			c.Volumes[v] = struct{}{}
		}
		return nop + "VOLUME " + quoteList(x.Volumes), nil
	case *instructions.StopSignalCommand:
		if _, err := container.ParseSignal(x.Signal); err != nil {
			return "", err
		}
		c.StopSignal = x.Signal
		return nop + "STOPSIGNAL " + x.Signal, nil
	case *instructions.HealthCheckCommand:
		h := x.Health
		c.Healthcheck = &v1.HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout,
			StartPeriod: h.StartPeriod, Retries: h.Retries}
		return nop + "HEALTHCHECK " + quoteList(h.Test), nil
	case *instructions.OnbuildCommand:
		c.OnBuild = append(c.OnBuild, x.Expression)
		return nop + "ONBUILD " + x.Expression, nil
	case *instructions.ShellCommand:
		c.Shell = append([]string{}, x.Shell...)
		return nop + "SHELL " + quoteList(x.Shell), nil
	}
	return "", store.Invalid("%s is not supported by this builder", strings.ToUpper(cmd.Name()))
}

// withShell is a shell-form command line prefixed with the image's SHELL.
func withShell(c *v1.Config, cmd instructions.ShellDependantCmdLine) []string {
	if !cmd.PrependShell {
		return append([]string{}, cmd.CmdLine...)
	}
	return append(shellOf(c), strings.Join(cmd.CmdLine, " "))
}

func shellOf(c *v1.Config) []string {
	if len(c.Shell) > 0 {
		return append([]string{}, c.Shell...)
	}
	return []string{"/bin/sh", "-c"}
}

// quoteList formats a list as Docker's history does: ["a" "b"].
func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, " ") + "]"
}

// exposedPorts turns EXPOSE arguments into "80/tcp" keys, ranges expanded.
func exposedPorts(specs []string) ([]string, error) {
	var out []string
	for _, sp := range specs {
		port, proto, _ := strings.Cut(sp, "/")
		if proto == "" {
			proto = "tcp"
		}
		proto = strings.ToLower(proto)
		lo, hi, isRange := strings.Cut(port, "-")
		start, err := strconv.Atoi(lo)
		end := start
		if err == nil && isRange {
			end, err = strconv.Atoi(hi)
		}
		if err != nil || start < 0 || end > 65535 || end < start {
			return nil, store.Invalid("invalid containerPort: %s", port)
		}
		for p := start; p <= end; p++ {
			out = append(out, fmt.Sprintf("%d/%s", p, proto))
		}
	}
	return out, nil
}

// workdir sets the working directory and, like Docker, creates it when the
// image lacks it (a small layer holding the directory).
func (b *builder) workdir(s *stage, c *instructions.WorkdirCommand) error {
	cfg := configOf(s.cfg)
	p := c.Path
	if !path.IsAbs(p) {
		p = path.Join("/", cfg.Config.WorkingDir, p)
	}
	p = path.Clean(p)
	cfg.Config.WorkingDir = p
	createdBy := "/bin/sh -c #(nop) WORKDIR " + p
	layers, err := b.layerPaths(s)
	if err != nil {
		return err
	}
	if p == "/" || layerExists(layers, p) {
		return b.commitConfig(s, cfg, createdBy, c.String())
	}
	key := image.StepKey(s.img.ID, createdBy, c.String())
	if b.useCache(s, key) {
		return nil
	}
	tarPath, err := b.dirsLayer(s, p)
	if err != nil {
		return err
	}
	return b.commitLayer(s, cfg, tarPath, createdBy, key)
}

// commitConfig finishes a config-only step: from the cache when its key is
// known, else as a new image whose history gains an empty-layer entry.
func (b *builder) commitConfig(s *stage, cfg *v1.ConfigFile, createdBy, text string) error {
	key := image.StepKey(s.img.ID, createdBy, text)
	if b.useCache(s, key) {
		return nil
	}
	now := time.Now().UTC()
	cfg.Created = v1.Time{Time: now}
	cfg.History = append(cfg.History, v1.History{Created: v1.Time{Time: now}, CreatedBy: createdBy, EmptyLayer: true})
	img, err := b.writeConfig(s, cfg)
	if err != nil {
		return err
	}
	return b.stepDone(s, img, key)
}

// writeConfig stores the stage's image with a new config.
func (b *builder) writeConfig(s *stage, cfg *v1.ConfigFile) (*image.Image, error) {
	base, err := b.is.V1Image(s.img)
	if err != nil {
		return nil, err
	}
	img, err := mutate.ConfigFile(base, cfg)
	if err != nil {
		return nil, err
	}
	return b.is.WriteWithParent(b.ctx, img, b.finalNames(), s.img.ID)
}

// finalNames are the -t names when the step being written is the build's
// last: tagging in the same index update saves one write (and its fsync).
func (b *builder) finalNames() []string {
	if b.step == b.total && len(b.o.Labels) == 0 {
		return b.o.Tags
	}
	return nil
}

// useCache moves the stage to the image key produced before, if the cache
// has it and the image still exists. A miss needs no bookkeeping: the step
// then makes a new image, and every later key starts from its id.
func (b *builder) useCache(s *stage, key string) bool {
	img := b.cached(key)
	if img == nil || b.setImage(s, img) != nil {
		return false
	}
	fmt.Fprintf(b.out, " ---> Using cache\n ---> %s\n", shortID(img.ID))
	return true
}

func (b *builder) cached(key string) *image.Image {
	if b.o.NoCache {
		return nil
	}
	id, ok := b.cache.Get(key)
	if !ok {
		return nil
	}
	img, err := b.is.Lookup(id)
	if err != nil {
		return nil
	}
	return img
}

// stepDone records a step's new image in the cache and moves the stage on.
func (b *builder) stepDone(s *stage, img *image.Image, key string) error {
	if err := b.cache.Put(key, img.ID); err != nil {
		return err
	}
	if err := b.setImage(s, img); err != nil {
		return err
	}
	fmt.Fprintf(b.out, " ---> %s\n", shortID(img.ID))
	return nil
}
