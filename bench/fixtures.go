package main

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/klauspost/compress/gzip"
)

const (
	busyboxRef = "docker.io/library/busybox:latest"
	bigRef     = "docker.io/library/benchbig:latest"
)

// fixtures are the images both engines pull from the local registry.
type fixtures struct {
	busyboxRoot string   // unpacked busybox rootfs (the runc bundle's rootfs)
	bigLayers   []string // the big image's layers, .tar.gz, base first
	bigCompMB   float64  // compressed size of the big image's layers
	bigUnpMB    float64  // uncompressed (tar) size of its layers
}

// bigSources are the host trees the big image is made of, one layer each,
// capped in uncompressed bytes: real libraries, programs, locales and docs
// compress like a distribution image does (~100 MB gzip in total, ~10k
// files; man pages would bring 18k tiny files more). A missing tree gives
// an empty layer.
var bigSources = []struct {
	dir string
	cap int64
}{
	{"/usr/lib/x86_64-linux-gnu", 70 << 20},
	{"/usr/share/locale", 32 << 20},
	{"/usr/share/doc", 32 << 20},
	{"/usr/libexec", 40 << 20},
	{"/usr/share/perl", 20 << 20},
	{"/usr/share/vim", 20 << 20},
}

func buildFixtures(ctx context.Context, base string, reg *localRegistry) (*fixtures, error) {
	t0 := time.Now()
	fx := &fixtures{busyboxRoot: filepath.Join(base, "busybox-rootfs")}
	if err := busyboxRootfs(fx.busyboxRoot); err != nil {
		return nil, err
	}
	bb, err := busyboxImage(fx.busyboxRoot)
	if err != nil {
		return nil, err
	}
	if err := reg.push("library/busybox:latest", bb); err != nil {
		return nil, fmt.Errorf("push busybox: %w", err)
	}
	if err := fx.buildBig(filepath.Join(base, "big")); err != nil {
		return nil, err
	}
	big, err := layeredImage(fx.bigLayers, []string{"sh"})
	if err != nil {
		return nil, err
	}
	if err := reg.push("library/benchbig:latest", big); err != nil {
		return nil, fmt.Errorf("push big image: %w", err)
	}
	logf("fixtures: busybox, benchbig (%d layers, %.0f MB gzip, %.0f MB unpacked) in %s",
		len(fx.bigLayers), fx.bigCompMB, fx.bigUnpMB, time.Since(t0).Round(time.Millisecond))
	return fx, nil
}

// busyboxRootfs lays out /bin/busybox with a symlink per applet.
func busyboxRootfs(dir string) error {
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	data, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return fmt.Errorf("busybox fixture needs busybox-static: %w", err)
	}
	if err := os.WriteFile(filepath.Join(bin, "busybox"), data, 0o755); err != nil {
		return err
	}
	out, err := runOut("/bin/busybox", "--list")
	if err != nil {
		return err
	}
	for _, a := range strings.Fields(out) {
		if a != "busybox" {
			if err := os.Symlink("busybox", filepath.Join(bin, a)); err != nil {
				return err
			}
		}
	}
	for _, d := range []string{"etc", "tmp", "proc", "sys", "dev"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	return nil
}

func busyboxImage(root string) (v1.Image, error) {
	var buf bytes.Buffer
	if _, err := writeTree(&buf, root, "", 0); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	})
	if err != nil {
		return nil, err
	}
	return withConfig(empty.Image, []v1.Layer{layer}, []string{"sh"})
}

func layeredImage(paths []string, cmd []string) (v1.Image, error) {
	var layers []v1.Layer
	for _, p := range paths {
		l, err := tarball.LayerFromFile(p)
		if err != nil {
			return nil, err
		}
		layers = append(layers, l)
	}
	return withConfig(empty.Image, layers, cmd)
}

func withConfig(base v1.Image, layers []v1.Layer, cmd []string) (v1.Image, error) {
	img, err := mutate.AppendLayers(base, layers...)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = "amd64", "linux"
	cf.Created = v1.Time{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	cf.Config.Cmd = cmd
	cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	return mutate.ConfigFile(img, cf)
}

// buildBig writes one gzip layer per source tree, in parallel.
func (fx *fixtures) buildBig(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	fx.bigLayers = make([]string, len(bigSources))
	unp := make([]int64, len(bigSources))
	errs := make([]error, len(bigSources))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, s := range bigSources {
		fx.bigLayers[i] = filepath.Join(dir, fmt.Sprintf("layer%d.tar.gz", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			unp[i], errs[i] = gzipTree(fx.bigLayers[i], s.dir, s.cap)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("layer from %s: %w", bigSources[i].dir, err)
		}
		fi, err := os.Stat(fx.bigLayers[i])
		if err != nil {
			return err
		}
		fx.bigCompMB += float64(fi.Size()) / 1e6
		fx.bigUnpMB += float64(unp[i]) / 1e6
	}
	return nil
}

func gzipTree(path, src string, limit int64) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	zw := gzip.NewWriter(f)
	cw := &countWriter{w: zw}
	if _, err := writeTree(cw, src, strings.TrimPrefix(src, "/"), limit); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return cw.n, f.Close()
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeTree tars src (dirs, regular files, symlinks; owned by root) under
// prefix, in lexical order, stopping after limit bytes of file content
// (0: no limit). Unreadable entries are skipped: any host works.
func writeTree(w io.Writer, src, prefix string, limit int64) (int64, error) {
	tw := tar.NewWriter(w)
	var total int64
	// Parent directories of the prefix first, as real layers have them.
	if prefix != "" {
		parts := strings.Split(prefix, "/")
		for i := 1; i < len(parts); i++ {
			hdr := &tar.Header{Typeflag: tar.TypeDir, Name: strings.Join(parts[:i], "/") + "/", Mode: 0o755, ModTime: time.Unix(0, 0)}
			if err := tw.WriteHeader(hdr); err != nil {
				return 0, err
			}
		}
	}
	errStop := fmt.Errorf("limit")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if limit > 0 && total >= limit {
			return errStop
		}
		rel, _ := filepath.Rel(src, p)
		name := filepath.ToSlash(filepath.Join(prefix, rel))
		if name == "." || name == "" {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		var link string
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return nil
			}
		} else if !fi.Mode().IsRegular() && !fi.IsDir() {
			return nil
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return nil
		}
		hdr.Name = name
		if fi.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		hdr.Format = tar.FormatPAX
		hdr.AccessTime, hdr.ChangeTime = time.Time{}, time.Time{}
		if !fi.Mode().IsRegular() {
			return tw.WriteHeader(hdr)
		}
		data, err := os.ReadFile(p)
		if err != nil || int64(len(data)) != fi.Size() {
			return nil
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
		total += int64(len(data))
		return nil
	})
	if err != nil && err != errStop {
		return 0, err
	}
	return total, tw.Close()
}
