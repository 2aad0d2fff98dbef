package image

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"golang.org/x/sys/unix"

	"github.com/skiff-dev/skiff/store"
)

// defaultShell is what a shell-form CMD/ENTRYPOINT runs under when the image
// sets no SHELL, as in Docker.
var defaultShell = []string{"/bin/sh", "-c"}

// ApplyChanges applies Dockerfile instructions given as `import -c` / `commit
// -c` changes to cfg, as Docker does: only the instructions that change
// configuration (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME,
// STOPSIGNAL, HEALTHCHECK, ONBUILD), with variables expanded from the
// image's environment. cfg is changed only when every change is valid; a bad
// change is a store.ErrInvalid naming it.
func ApplyChanges(cfg *v1.Config, changes []string) error {
	work := copyConfig(*cfg)
	cmdSet := false
	for _, change := range changes {
		res, err := parser.Parse(strings.NewReader(change))
		if err != nil {
			return store.Invalid("invalid change %q: %v", change, err)
		}
		if len(res.AST.Children) == 0 {
			return store.Invalid("invalid change %q: no instruction", change)
		}
		for _, node := range res.AST.Children {
			if err := applyNode(&work, node, &cmdSet); err != nil {
				return store.Invalid("invalid change %q: %v", change, err)
			}
		}
	}
	*cfg = work
	return nil
}

// copyConfig deep-copies the slices and maps a change may modify, so a
// failing change leaves the caller's config as it was.
func copyConfig(c v1.Config) v1.Config {
	c.Env = append([]string(nil), c.Env...)
	c.Cmd = append([]string(nil), c.Cmd...)
	c.Entrypoint = append([]string(nil), c.Entrypoint...)
	c.OnBuild = append([]string(nil), c.OnBuild...)
	c.Labels = copySet(c.Labels)
	c.ExposedPorts = copySet(c.ExposedPorts)
	c.Volumes = copySet(c.Volumes)
	if len(c.Cmd) == 0 {
		c.Cmd = nil
	}
	if len(c.Entrypoint) == 0 {
		c.Entrypoint = nil
	}
	return c
}

func copySet[V any](m map[string]V) map[string]V {
	if m == nil {
		return nil
	}
	out := make(map[string]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// validChange is Docker's list of instructions `commit -c`/`import -c` accept.
var validChange = map[string]bool{
	"cmd": true, "entrypoint": true, "env": true, "expose": true, "label": true,
	"user": true, "workdir": true, "volume": true, "stopsignal": true,
	"healthcheck": true, "onbuild": true,
}

func applyNode(cfg *v1.Config, node *parser.Node, cmdSet *bool) error {
	if !validChange[strings.ToLower(node.Value)] {
		return fmt.Errorf("%s is not a valid change command", strings.ToLower(node.Value))
	}
	inst, err := instructions.ParseInstruction(node)
	if err != nil {
		return err
	}
	if ex, ok := inst.(instructions.SupportsSingleWordExpansion); ok {
		lex := shell.NewLex(parser.DefaultEscapeToken)
		env := shell.EnvsFromSlice(cfg.Env)
		if err := ex.Expand(func(w string) (string, error) {
			s, _, err := lex.ProcessWord(w, env)
			return s, err
		}); err != nil {
			return err
		}
	}
	switch c := inst.(type) {
	case *instructions.EnvCommand:
		for _, kv := range c.Env {
			cfg.Env = setEnv(cfg.Env, kv.Key, kv.Value)
		}
	case *instructions.LabelCommand:
		if cfg.Labels == nil {
			cfg.Labels = map[string]string{}
		}
		for _, kv := range c.Labels {
			cfg.Labels[kv.Key] = kv.Value
		}
	case *instructions.CmdCommand:
		cfg.Cmd = withShell(cfg, c.ShellDependantCmdLine)
		*cmdSet = true
	case *instructions.EntrypointCommand:
		cfg.Entrypoint = withShell(cfg, c.ShellDependantCmdLine)
		// Docker: a new ENTRYPOINT drops the inherited CMD unless this
		// same set of changes gives one.
		if !*cmdSet {
			cfg.Cmd = nil
		}
	case *instructions.ExposeCommand:
		return exposePorts(cfg, c.Ports)
	case *instructions.UserCommand:
		cfg.User = c.User
	case *instructions.WorkdirCommand:
		cfg.WorkingDir = workdir(cfg.WorkingDir, c.Path)
	case *instructions.VolumeCommand:
		if cfg.Volumes == nil {
			cfg.Volumes = map[string]struct{}{}
		}
		for _, v := range c.Volumes {
			cfg.Volumes[v] = struct{}{}
		}
	case *instructions.StopSignalCommand:
		if err := checkSignal(c.Signal); err != nil {
			return err
		}
		cfg.StopSignal = c.Signal
	case *instructions.HealthCheckCommand:
		h := c.Health
		cfg.Healthcheck = &v1.HealthConfig{Test: h.Test, Interval: h.Interval, Timeout: h.Timeout,
			StartPeriod: h.StartPeriod, Retries: h.Retries}
	case *instructions.OnbuildCommand:
		cfg.OnBuild = append(cfg.OnBuild, c.Expression)
	default:
		return fmt.Errorf("%s is not a valid change command", strings.ToLower(node.Value))
	}
	return nil
}

func setEnv(env []string, key, value string) []string {
	for i, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			env[i] = key + "=" + value
			return env
		}
	}
	return append(env, key+"="+value)
}

// withShell is the exec form of a CMD/ENTRYPOINT: a shell-form command runs
// under the image's SHELL (default /bin/sh -c).
func withShell(cfg *v1.Config, c instructions.ShellDependantCmdLine) []string {
	if !c.PrependShell || len(c.CmdLine) == 0 {
		if len(c.CmdLine) == 0 {
			return nil
		}
		return append([]string(nil), c.CmdLine...)
	}
	sh := cfg.Shell
	if len(sh) == 0 {
		sh = defaultShell
	}
	return append(append([]string(nil), sh...), strings.Join(c.CmdLine, " "))
}

func workdir(cur, p string) string {
	if path.IsAbs(p) {
		return path.Clean(p)
	}
	return path.Join("/", cur, p)
}

// exposePorts adds "port[-port][/proto]" specs as Docker's EXPOSE does,
// expanding ranges.
func exposePorts(cfg *v1.Config, specs []string) error {
	if cfg.ExposedPorts == nil {
		cfg.ExposedPorts = map[string]struct{}{}
	}
	for _, spec := range specs {
		ports, proto, _ := strings.Cut(spec, "/")
		proto = strings.ToLower(proto)
		switch proto {
		case "":
			proto = "tcp"
		case "tcp", "udp", "sctp":
		default:
			return fmt.Errorf("invalid proto: %s", proto)
		}
		lo, hi, isRange := strings.Cut(ports, "-")
		first, err := parsePort(lo)
		if err != nil {
			return fmt.Errorf("invalid containerPort: %s", spec)
		}
		last := first
		if isRange {
			if last, err = parsePort(hi); err != nil || last < first {
				return fmt.Errorf("invalid range specified for containerPort: %s", spec)
			}
		}
		for p := first; p <= last; p++ {
			cfg.ExposedPorts[fmt.Sprintf("%d/%s", p, proto)] = struct{}{}
		}
	}
	return nil
}

func parsePort(s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 0 || p > 65535 {
		return 0, fmt.Errorf("invalid port %q", s)
	}
	return p, nil
}

// checkSignal accepts what Docker's signal.ParseSignal does: a number, or a
// name with or without SIG, including RTMIN+n / RTMAX-n.
func checkSignal(s string) error {
	if n, err := strconv.Atoi(s); err == nil {
		if n <= 0 || n > 64 {
			return fmt.Errorf("invalid signal: %s", s)
		}
		return nil
	}
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	if unix.SignalNum("SIG"+name) != 0 {
		return nil
	}
	for _, rt := range []string{"RTMIN+", "RTMAX-"} {
		if rest, ok := strings.CutPrefix(name, rt); ok {
			if n, err := strconv.Atoi(rest); err == nil && n >= 0 && n <= 30 {
				return nil
			}
		}
	}
	return fmt.Errorf("invalid signal: %s", s)
}
