package engine

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/skiff-dev/skiff/container"
	"github.com/skiff-dev/skiff/image"
	"github.com/skiff-dev/skiff/store"
)

// run is RUN: the command runs in a real container made from the stage's
// image (the same isolation as `skiff run`), its output streamed live; the
// container's filesystem diff becomes the step's layer.
func (b *builder) run(s *stage, c *instructions.RunCommand) error {
	args, err := runArgv(&s.cfg.Config, c)
	if err != nil {
		return err
	}
	bargs := runArgs(s)
	createdBy := strings.Join(args, " ")
	if len(bargs) > 0 {
		createdBy = fmt.Sprintf("|%d %s %s", len(bargs), strings.Join(bargs, " "), createdBy)
	}
	key := image.StepKey(s.img.ID, createdBy, "RUN")
	if b.useCache(s, key) {
		return nil
	}
	ctr, err := b.e.Create(b.ctx, CreateOptions{
		Image:         s.img.ID,
		Config:        container.Config{Cmd: args, Env: bargs, AttachStdout: true, AttachStderr: true},
		EntrypointSet: true,
		HostConfig:    container.HostConfig{NetworkMode: b.o.Network, ExtraHosts: b.o.ExtraHosts},
		Pull:          "never",
		Quiet:         true,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(b.out, " ---> Running in %s\n", shortID(ctr.ID))
	removed := false
	remove := func() {
		if removed {
			return
		}
		removed = true
		b.e.Rm(ctr.ID, RmOptions{Force: true, Volumes: true})
		fmt.Fprintf(b.out, "Removing intermediate container %s\n", shortID(ctr.ID))
	}
	if err := b.runContainer(ctr); err != nil {
		if b.o.Rm || b.o.ForceRm {
			remove()
		}
		return runFailed(b.out, args, err)
	}
	layer, err := b.diffLayer(ctr)
	if err != nil {
		if b.o.Rm || b.o.ForceRm {
			remove()
		}
		return err
	}
	if b.o.Rm {
		// The container goes while the layer is stored: the two touch
		// different records, and the step waits for both.
		removed = true
		fmt.Fprintf(b.out, "Removing intermediate container %s\n", shortID(ctr.ID))
		done := make(chan struct{})
		go func() {
			defer close(done)
			b.e.Rm(ctr.ID, RmOptions{Force: true, Volumes: true})
		}()
		defer func() { <-done }()
	}
	return b.commitLayer(s, configOf(s.cfg), layer, createdBy, key)
}

// runContainer starts the container attached, its output going where the
// build's output goes, and waits for it.
func (b *builder) runContainer(ctr *container.Container) error {
	re := *b.e
	re.Stdout, re.Stderr = b.out, b.out
	// An interrupted build (Ctrl-C) kills the step's container rather than
	// waiting for it: the supervisor is in its own session and never sees
	// the terminal's SIGINT.
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-b.ctx.Done():
			quiet := *b.e
			quiet.Stdout, quiet.Stderr = io.Discard, io.Discard
			quiet.Kill([]string{ctr.ID}, "KILL")
		case <-done:
		}
	}()
	err := re.startAttached(nil, ctr, false, true, true, AttachFlags{})
	if err == nil && b.ctx.Err() != nil {
		err = b.ctx.Err()
	}
	return err
}

// runFailed is Docker's message for a RUN that did not exit 0; the build
// itself exits 1, as docker build does.
func runFailed(out io.Writer, args []string, err error) error {
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Message != "" {
			fmt.Fprintln(out, ee.Message)
		}
		return &ExitError{Code: 1, Message: fmt.Sprintf("The command '%s' returned a non-zero code: %d", strings.Join(args, " "), ee.Code)}
	}
	return err
}

// runArgv is what RUN executes: exec form as given, shell form through the
// image's SHELL; a heredoc alone becomes the script the shell runs, a
// heredoc inside a command line is handed to the shell whole (as BuildKit
// does).
func runArgv(cfg *v1.Config, c *instructions.RunCommand) ([]string, error) {
	if len(c.Files) == 0 {
		return withShell(cfg, c.ShellDependantCmdLine), nil
	}
	if len(c.CmdLine) != 1 || !c.PrependShell {
		return nil, store.Invalid("parsing produced an invalid run command: %v", c.CmdLine)
	}
	if h := parser.MustParseHeredoc(c.CmdLine[0]); h != nil {
		data := c.Files[0].Data
		if c.Files[0].Chomp {
			data = parser.ChompHeredocContent(data)
		}
		return append(shellOf(cfg), data), nil
	}
	var sb strings.Builder
	sb.WriteString(c.CmdLine[0])
	for _, f := range c.Files {
		sb.WriteByte('\n')
		sb.WriteString(f.Data)
		sb.WriteString(f.Name)
	}
	return append(shellOf(cfg), sb.String()), nil
}

// diffLayer turns a container's changes (diffRootfs) into a layer file.
// Rootless, the files carry the host ids the user namespace mapped the
// container's ids to; they are mapped back so the layer holds the ids the
// container saw.
func (b *builder) diffLayer(c *container.Container) (string, error) {
	w, err := b.newLayer()
	if err != nil {
		return "", err
	}
	if err := writeDiff(w.Writer, c); err != nil {
		w.abort()
		return "", err
	}
	return w.finish()
}

// writeDiff copies image.Diff's tar into tw, mapping owners back to
// container ids when rootless, without the mount points skiff made
// (container.InitPaths: Docker's init layer keeps them out of its layers).
func writeDiff(ltw *tar.Writer, c *container.Container) error {
	upper := c.Rootfs.UpperDir
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(diffRootfs(pw, c)) }()
	defer pr.Close()
	unmap := hostToContainer()
	tr := tar.NewReader(pr)
	tw := image.NewOmitWriter(ltw, container.InitPaths())
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return tw.Flush()
		}
		if err != nil {
			return fmt.Errorf("diff %s: %w", upper, err)
		}
		hdr.Uid, hdr.Gid = unmap(hdr.Uid, true), unmap(hdr.Gid, false)
		hdr.Uname, hdr.Gname = "", ""
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
}

// hostToContainer inverts the rootless id maps (identity as root).
func hostToContainer() func(id int, uid bool) int {
	if !store.Rootless() {
		return func(id int, _ bool) int { return id }
	}
	uids, gids, _ := container.IDMappings()
	return func(id int, uid bool) int {
		maps := gids
		if uid {
			maps = uids
		}
		for _, m := range maps {
			if uint32(id) >= m.HostID && uint32(id)-m.HostID < m.Size {
				return int(m.ContainerID + uint32(id) - m.HostID)
			}
		}
		return id
	}
}
