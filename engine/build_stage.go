package engine

import (
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/skiff-dev/skiff/image"
	"github.com/skiff-dev/skiff/store"
)

// stage is one FROM ... section being built: its current image and the
// ARGs it declared.
type stage struct {
	name    string
	img     *image.Image
	cfg     *v1.ConfigFile
	layers  []string // unpacked layer dirs of img, loaded when a step needs them
	args    map[string]string
	argKeys []string // declaration order
	cmdSet  bool     // CMD given in this stage (ENTRYPOINT keeps it)
}

// buildStage runs FROM and every instruction of one stage.
func (b *builder) buildStage(st *instructions.Stage) (*stage, error) {
	s := &stage{name: st.Name, args: map[string]string{}}
	b.step++
	src := st.SourceCode
	if src == "" {
		src = "FROM " + st.BaseName
	}
	fmt.Fprintf(b.out, "Step %d/%d : %s\n", b.step, b.total, src)
	if err := b.from(s, st); err != nil {
		return nil, err
	}
	fmt.Fprintf(b.out, " ---> %s\n", shortID(s.img.ID))
	if err := b.onBuild(s); err != nil {
		return nil, err
	}
	for _, cmd := range st.Commands {
		b.step++
		fmt.Fprintf(b.out, "Step %d/%d : %s\n", b.step, b.total, sourceOf(cmd))
		if err := b.dispatch(s, cmd); err != nil {
			return nil, err
		}
	}
	b.stages = append(b.stages, s)
	return s, nil
}

func sourceOf(cmd instructions.Command) string {
	if s, ok := cmd.(fmt.Stringer); ok {
		return s.String()
	}
	return cmd.Name()
}

// from sets the stage's starting image: scratch, an earlier stage, or an
// image (pulled when missing, or always with --pull).
func (b *builder) from(s *stage, st *instructions.Stage) error {
	base, _, err := b.lex.ProcessWord(st.BaseName, metaEnv(b.meta))
	if err != nil {
		return err
	}
	if base == "" {
		return store.Invalid("base name (%s) should not be blank", st.BaseName)
	}
	if prev := b.stageByName(base); prev != nil {
		return b.setImage(s, prev.img)
	}
	if strings.EqualFold(base, "scratch") {
		return b.scratch(s)
	}
	policy := "missing"
	if b.o.Pull {
		policy = "always"
	}
	img, err := b.pullEngine().resolveImage(b.ctx, b.is, base, policy, "", b.o.Quiet)
	if err != nil {
		return err
	}
	return b.setImage(s, img)
}

// pullEngine is the engine with pull messages going to the build's output
// (stdout, as Docker's build streams them; nowhere with -q).
func (b *builder) pullEngine() *Engine {
	pe := *b.e
	pe.Stderr = b.out
	return &pe
}

// stageByName finds an earlier stage by its AS name or index.
func (b *builder) stageByName(name string) *stage {
	for i, s := range b.stages {
		if (s.name != "" && strings.EqualFold(s.name, name)) || strconv.Itoa(i) == name {
			return s
		}
	}
	return nil
}

// scratch is FROM scratch: an image with no layers, stored so that every
// stage starts from an image id.
func (b *builder) scratch(s *stage) error {
	cfg := &v1.ConfigFile{OS: runtime.GOOS, Architecture: runtime.GOARCH,
		RootFS: v1.RootFS{Type: "layers"}, Config: v1.Config{Env: []string{"PATH=" + defaultPath}}}
	img, err := mutate.ConfigFile(empty.Image, cfg)
	if err != nil {
		return err
	}
	stored, err := b.is.Write(b.ctx, img, nil)
	if err != nil {
		return err
	}
	s.img, s.cfg, s.layers = stored, cfg, nil
	return nil
}

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func (b *builder) setImage(s *stage, img *image.Image) error {
	cfg, err := b.is.ConfigFile(img)
	if err != nil {
		return err
	}
	s.img, s.cfg, s.layers = img, cfg, nil
	return nil
}

// layerPaths are the unpacked layers of the stage's current image.
func (b *builder) layerPaths(s *stage) ([]string, error) {
	if s.layers == nil {
		l, err := b.is.LayerPaths(s.img)
		if err != nil {
			return nil, err
		}
		s.layers = append([]string{}, l...)
	}
	return s.layers, nil
}

// onBuild runs the base image's ONBUILD triggers right after FROM, as
// Docker does, and drops them from the stage's image.
func (b *builder) onBuild(s *stage) error {
	triggers := s.cfg.Config.OnBuild
	if len(triggers) == 0 {
		return nil
	}
	fmt.Fprintf(b.out, "# Executing %d build trigger", len(triggers))
	if len(triggers) > 1 {
		fmt.Fprint(b.out, "s")
	}
	fmt.Fprintln(b.out)
	cfg := configOf(s.cfg)
	cfg.Config.OnBuild = nil
	s.cfg = cfg
	for _, t := range triggers {
		ast, err := parser.Parse(strings.NewReader(t))
		if err != nil || len(ast.AST.Children) != 1 {
			return store.Invalid("invalid ONBUILD trigger %q", t)
		}
		cmd, err := instructions.ParseCommand(ast.AST.Children[0])
		if err != nil {
			return store.Invalid("invalid ONBUILD trigger %q: %v", t, err)
		}
		if err := b.dispatch(s, cmd); err != nil {
			return err
		}
	}
	return nil
}

// dispatch runs one instruction on the stage.
func (b *builder) dispatch(s *stage, cmd instructions.Command) error {
	if ex, ok := cmd.(instructions.SupportsSingleWordExpansion); ok {
		if _, isRun := cmd.(*instructions.RunCommand); !isRun {
			env := b.expandEnv(s)
			if err := ex.Expand(func(w string) (string, error) {
				out, _, err := b.lex.ProcessWord(w, env)
				return out, err
			}); err != nil {
				return err
			}
		}
	}
	if ex, ok := cmd.(instructions.SupportsSingleWordExpansionRaw); ok {
		// Heredoc bodies expand variables but keep their quotes (BuildKit).
		raw := shell.NewLex('\\')
		raw.SkipProcessQuotes = true
		env := b.expandEnv(s)
		if err := ex.ExpandRaw(func(w string) (string, error) {
			out, _, err := raw.ProcessWord(w, env)
			return out, err
		}); err != nil {
			return err
		}
	}
	switch c := cmd.(type) {
	case *instructions.RunCommand:
		return b.run(s, c)
	case *instructions.CopyCommand:
		return b.copy(s, copyRequest{src: c.SourcesAndDest, from: c.From, chown: c.Chown, chmod: c.Chmod, text: c.String(), name: "COPY"})
	case *instructions.AddCommand:
		return b.copy(s, copyRequest{src: c.SourcesAndDest, chown: c.Chown, chmod: c.Chmod, text: c.String(), name: "ADD", add: true})
	case *instructions.WorkdirCommand:
		return b.workdir(s, c)
	case *instructions.ArgCommand:
		return b.arg(s, c)
	}
	cfg := configOf(s.cfg)
	createdBy, err := b.applyMeta(s, cfg, cmd)
	if err != nil {
		return err
	}
	return b.commitConfig(s, cfg, createdBy, sourceOf(cmd))
}

// expandEnv is what ${VAR} sees: the stage's ARGs, overridden by its ENV.
func (b *builder) expandEnv(s *stage) envMap {
	m := envMap{}
	for k, v := range s.args {
		m[k] = v
	}
	for _, kv := range s.cfg.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// envMap is a shell.EnvGetter over a map.
type envMap map[string]string

func (m envMap) Get(k string) (string, bool) { v, ok := m[k]; return v, ok }
func (m envMap) Keys() []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// arg declares build arguments: --build-arg wins, then the default, then
// the value of the same ARG before FROM.
func (b *builder) arg(s *stage, c *instructions.ArgCommand) error {
	var parts []string
	for _, kv := range c.Args {
		val, ok := b.o.BuildArgs[kv.Key]
		switch {
		case ok:
			b.used[kv.Key] = true
		case kv.Value != nil:
			val, ok = *kv.Value, true
		default:
			if mv, has := b.meta[kv.Key]; has && mv != nil {
				val, ok = *mv, true
			}
		}
		if _, seen := s.args[kv.Key]; !seen {
			s.argKeys = append(s.argKeys, kv.Key)
		}
		if ok {
			s.args[kv.Key] = val
		} else {
			delete(s.args, kv.Key)
		}
		part := kv.Key
		if kv.Value != nil {
			part += "=" + *kv.Value
		}
		parts = append(parts, part)
	}
	return b.commitConfig(s, configOf(s.cfg), "/bin/sh -c #(nop)  ARG "+strings.Join(parts, " "), c.String())
}

// runArgs are the build args a RUN sees as environment, sorted, leaving
// out those an ENV overrides (Docker's "|N K=V" prefix).
func runArgs(s *stage) []string {
	env := map[string]bool{}
	for _, kv := range s.cfg.Config.Env {
		k, _, _ := strings.Cut(kv, "=")
		env[k] = true
	}
	var out []string
	for _, k := range s.argKeys {
		if v, ok := s.args[k]; ok && !env[k] {
			out = append(out, k+"="+v)
		}
	}
	sort.Strings(out)
	return out
}
