package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"

	"github.com/skiff-dev/skiff/image"
	"github.com/skiff-dev/skiff/store"
)

// BuildOptions are build's flags, already parsed.
type BuildOptions struct {
	Context    string    // a directory, or "-" for a tar (or a Dockerfile) on Stdin
	Stdin      io.Reader // read when Context or Dockerfile is "-"
	Dockerfile string    // -f; "" means <context>/Dockerfile
	Tags       []string
	BuildArgs  map[string]string
	Target     string
	NoCache    bool
	Pull       bool
	Quiet      bool
	Labels     map[string]string
	Network    string
	IIDFile    string
	Rm         bool     // remove intermediate containers after a successful step
	ForceRm    bool     // ... and after a failed one too
	ExtraHosts []string // --add-host for RUN steps, "host:ip"
}

// builder is one build in progress: the Dockerfile, its context and the
// stages built so far. It follows Docker's classic builder: one image per
// step, each step cached by its parent image and instruction.
type builder struct {
	e      *Engine
	ctx    context.Context
	o      BuildOptions
	is     *image.Store
	cache  *image.BuildCache
	sums   *image.StatCache
	out    io.Writer // step lines; io.Discard with -q
	lex    *shell.Lex
	bctx   *buildContext
	meta   map[string]*string // ARGs before the first FROM, after --build-arg
	used   map[string]bool    // build args some ARG consumed
	stages []*stage
	step   int
	total  int
	tmp    string // scratch space for layers and staged files, in the store
}

// Build builds the Dockerfile in o.Context and returns the image id.
func (e *Engine) Build(ctx context.Context, o BuildOptions) (string, error) {
	for _, t := range o.Tags {
		if _, err := image.Normalize(t); err != nil {
			return "", store.Invalid("invalid argument %q for \"-t, --tag\" flag: %v", t, err)
		}
	}
	bctx, err := openBuildContext(o)
	if err != nil {
		return "", err
	}
	defer bctx.cleanup()
	ast, err := parser.Parse(bytes.NewReader(bctx.dockerfile))
	if err != nil {
		return "", parseError(bctx.dockerfileName, err)
	}
	stages, metaArgs, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		return "", parseError(bctx.dockerfileName, err)
	}
	if len(stages) == 0 {
		return "", fmt.Errorf("%s: file with no instructions", bctx.dockerfileName)
	}
	last, err := targetStage(stages, o.Target)
	if err != nil {
		return "", err
	}
	b, err := e.newBuilder(ctx, o, bctx, ast.EscapeToken)
	if err != nil {
		return "", err
	}
	defer b.sums.Save()
	defer b.removeScratch()
	if err := b.metaArgs(metaArgs); err != nil {
		return "", err
	}
	for _, s := range stages[:last+1] {
		b.total += 1 + len(s.Commands)
	}
	var final *stage
	for i := range stages[:last+1] {
		if final, err = b.buildStage(&stages[i]); err != nil {
			return "", err
		}
	}
	img, err := b.finish(final)
	if err != nil {
		return "", err
	}
	return img.ID, nil
}

func (e *Engine) newBuilder(ctx context.Context, o BuildOptions, bctx *buildContext, escape rune) (*builder, error) {
	is, err := image.Open(e.Store)
	if err != nil {
		return nil, err
	}
	cache, err := image.OpenBuildCache(e.Store)
	if err != nil {
		return nil, err
	}
	b := &builder{e: e, ctx: ctx, o: o, is: is, cache: cache, out: e.Stdout, lex: shell.NewLex(escape),
		bctx: bctx, used: map[string]bool{}}
	if o.Quiet {
		b.out = io.Discard
	}
	b.sums = cache.StatCache(bctx.dir)
	return b, nil
}

// targetStage is the index of the last stage to build.
func targetStage(stages []instructions.Stage, target string) (int, error) {
	if target == "" {
		return len(stages) - 1, nil
	}
	for i, s := range stages {
		if strings.EqualFold(s.Name, target) {
			return i, nil
		}
	}
	return 0, store.Invalid("failed to reach build target %s in Dockerfile", target)
}

// parseError names the Dockerfile and the line, as Docker does.
func parseError(file string, err error) error {
	msg := err.Error()
	if m := parseLineRE.FindStringSubmatch(msg); m != nil && m[1] != "0" {
		return store.Invalid("dockerfile parse error on line %s of %s: %s", m[1], file, m[2])
	}
	var loc *parser.LocationError
	if errors.As(err, &loc) && len(loc.Locations) > 0 && len(loc.Locations[0]) > 0 && loc.Locations[0][0].Start.Line > 0 {
		return store.Invalid("dockerfile parse error on line %d of %s: %s", loc.Locations[0][0].Start.Line, file, msg)
	}
	return store.Invalid("dockerfile parse error in %s: %s", file, strings.TrimPrefix(msg, "dockerfile parse error on line 0: "))
}

var parseLineRE = regexp.MustCompile(`^dockerfile parse error on line (\d+): (.*)$`)

// metaArgs reads the ARGs before the first FROM: their defaults, replaced
// by --build-arg.
func (b *builder) metaArgs(args []instructions.ArgCommand) error {
	b.meta = map[string]*string{}
	for _, a := range args {
		for _, kv := range a.Args {
			var v *string
			if val, ok := b.o.BuildArgs[kv.Key]; ok {
				v = &val
				b.used[kv.Key] = true
			} else if kv.Value != nil {
				w, _, err := b.lex.ProcessWord(*kv.Value, metaEnv(b.meta))
				if err != nil {
					return err
				}
				v = &w
			}
			b.meta[kv.Key] = v
		}
	}
	return nil
}

func metaEnv(m map[string]*string) shell.EnvGetter {
	var env []string
	for k, v := range m {
		if v != nil {
			env = append(env, k+"="+*v)
		}
	}
	return shell.EnvsFromSlice(env)
}

// finish tags the last stage's image and prints Docker's closing lines.
func (b *builder) finish(s *stage) (*image.Image, error) {
	var unused []string
	for k := range b.o.BuildArgs {
		if !b.used[k] && !predefinedArg(k) {
			unused = append(unused, k)
		}
	}
	if len(unused) > 0 {
		sort.Strings(unused)
		fmt.Fprintf(b.e.Stderr, "[Warning] One or more build-args [%s] were not consumed\n", strings.Join(unused, " "))
	}
	img := s.img
	if len(b.o.Labels) > 0 {
		var err error
		if img, err = b.labelled(s); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(b.out, "Successfully built %s\n", shortID(img.ID))
	tags := b.o.Tags
	for _, t := range tags {
		if !hasTag(img, t) { // a cached rebuild need not rewrite the index
			if err := b.is.Tag(img, t); err != nil {
				return nil, err
			}
		}
		fmt.Fprintf(b.out, "Successfully tagged %s\n", familiarRef(t))
	}
	if b.o.Quiet {
		fmt.Fprintln(b.e.Stdout, img.ID)
	}
	if b.o.IIDFile != "" {
		if err := os.WriteFile(b.o.IIDFile, []byte(img.ID), 0o644); err != nil {
			return nil, fmt.Errorf("write image ID file: %w", err)
		}
	}
	return img, nil
}

func hasTag(img *image.Image, t string) bool {
	r, err := image.Normalize(t)
	return err == nil && slices.Contains(img.RepoTags, image.Canonical(r))
}

// labelled applies --label to the final image, as Docker does (a config
// change without a history entry of its own).
func (b *builder) labelled(s *stage) (*image.Image, error) {
	cfg := s.cfg.DeepCopy()
	if cfg.Config.Labels == nil {
		cfg.Config.Labels = map[string]string{}
	}
	keys := make([]string, 0, len(b.o.Labels))
	for k, v := range b.o.Labels {
		cfg.Config.Labels[k] = v
		keys = append(keys, k+"="+v)
	}
	sort.Strings(keys)
	key := image.StepKey(s.img.ID, "--label", keys...)
	if img := b.cached(key); img != nil {
		return img, nil
	}
	img, err := b.writeConfig(s, cfg)
	if err != nil {
		return nil, err
	}
	b.cache.Put(key, img.ID)
	return img, nil
}

// predefinedArg is an ARG Docker lets through without a declaration.
func predefinedArg(k string) bool {
	switch strings.ToUpper(k) {
	case "HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "NO_PROXY", "ALL_PROXY":
		return true
	}
	return false
}

// configOf is a deep copy of a config, for a step to change.
func configOf(cf *v1.ConfigFile) *v1.ConfigFile {
	return cf.DeepCopy()
}
