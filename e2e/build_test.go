package e2e

// build: Docker's classic builder output, its step cache, multi-stage
// builds, build args, .dockerignore and failures. Named TestRunBuild...
// where RUN steps need containers.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// writeContext makes a dir in the env with files in it, all owned by the
// env's user: a build context, or a host dir to bind-mount.
func writeContext(t *testing.T, env *Env, name string, files map[string]string) string {
	t.Helper()
	dir := env.Path(name)
	for rel, data := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return env.chown(p)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

var builtRE = regexp.MustCompile(`(?m)^Successfully built ([0-9a-f]{12})$`)

// builtID is the short id a build reported.
func builtID(t *testing.T, out string) string {
	t.Helper()
	m := builtRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no \"Successfully built\" line in:\n%s", out)
	}
	return m[1]
}

const cacheDockerfile = `FROM busybox
COPY a.txt /data/a.txt
RUN cat /data/a.txt > /data/copy
CMD ["cat", "/data/copy"]
`

// TestRunBuildCache: a first build runs every step; a rebuild uses the
// cache for every step; a changed last instruction reruns only it; a
// changed COPY source reruns from that COPY on.
func TestRunBuildCache(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		ctx := writeContext(t, env, "ctx", map[string]string{"Dockerfile": cacheDockerfile, "a.txt": "one\n"})
		out := env.mustRun("build", "-t", "cached", ctx)
		for _, want := range []string{"Step 1/4 : FROM busybox\n", "Step 2/4 : COPY a.txt /data/a.txt\n",
			"Step 3/4 : RUN cat /data/a.txt > /data/copy\n ---> Running in ", "Removing intermediate container ",
			"Step 4/4 : CMD [\"cat\", \"/data/copy\"]\n", "Successfully tagged cached:latest\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("first build: no %q in:\n%s", want, out)
			}
		}
		if strings.Contains(out, "Using cache") {
			t.Errorf("first build used a cache:\n%s", out)
		}
		first := builtID(t, out)
		if got := env.mustRun("run", "--rm", "cached"); got != "one\n" {
			t.Errorf("run cached: %q, want \"one\\n\"", got)
		}

		out = env.mustRun("build", "-t", "cached", ctx)
		if n := strings.Count(out, " ---> Using cache\n"); n != 3 || strings.Contains(out, "Running in") {
			t.Errorf("cached rebuild: %d steps from cache (want 3), output:\n%s", n, out)
		}
		if id := builtID(t, out); id != first {
			t.Errorf("cached rebuild made %s, want %s", id, first)
		}

		writeContext(t, env, "ctx", map[string]string{"Dockerfile": strings.Replace(cacheDockerfile, `"/data/copy"]`, `"/data/a.txt"]`, 1)})
		out = env.mustRun("build", "-t", "cached", ctx)
		if n := strings.Count(out, " ---> Using cache\n"); n != 2 || strings.Contains(out, "Running in") {
			t.Errorf("changed CMD: %d steps from cache (want 2), output:\n%s", n, out)
		}

		writeContext(t, env, "ctx", map[string]string{"a.txt": "two\n"})
		out = env.mustRun("build", "-t", "cached", ctx)
		if n := strings.Count(out, " ---> Using cache\n"); n != 0 || !strings.Contains(out, "Running in") {
			t.Errorf("changed COPY source: %d steps from cache (want 0, RUN rerun), output:\n%s", n, out)
		}
		if got := env.mustRun("run", "--rm", "cached"); got != "two\n" {
			t.Errorf("run after changing a.txt: %q, want \"two\\n\"", got)
		}

		id := strings.TrimSpace(env.mustRun("build", "-q", ctx))
		if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(id) {
			t.Errorf("build -q printed %q, want only the image id", id)
		}
		env.mustRun("builder", "prune", "-f")
		if out := env.mustRun("build", ctx); strings.Contains(out, "Using cache") {
			t.Errorf("build after builder prune used the cache:\n%s", out)
		}
		if out := env.mustRun("build", "--no-cache", ctx); strings.Contains(out, "Using cache") {
			t.Errorf("build --no-cache used the cache:\n%s", out)
		}
	})
}

const multiDockerfile = `ARG BASE=busybox
FROM $BASE AS builder
ARG MSG=default
WORKDIR /out
RUN echo "$MSG" > msg && echo built > built
COPY . /out/ctx/
FROM busybox
COPY --from=builder /out /app
ENV WHO=world
RUN <<EOF
echo "hello $WHO" > /app/greeting
EOF
CMD ["sh", "-c", "cat /app/msg /app/built /app/greeting; ls /app/ctx"]
`

// TestRunBuildMultiStage: COPY --from an earlier stage, an ARG before
// FROM and in a stage, --build-arg, .dockerignore, a heredoc RUN, and
// `-t name` giving name:latest that run finds.
func TestRunBuildMultiStage(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		ctx := writeContext(t, env, "ctx", map[string]string{
			"Dockerfile":    multiDockerfile,
			".dockerignore": "secret*\n*.log\n!keep.log\n",
			"kept.txt":      "k\n", "secret.txt": "s\n", "debug.log": "d\n", "keep.log": "l\n",
		})
		res := env.run("build", "--build-arg", "MSG=from-arg", "--build-arg", "NOPE=1", "-t", "multi", ctx)
		if res.Code != 0 {
			t.Fatalf("build: exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
		}
		if !strings.Contains(res.Stdout, "Step 1/10 : FROM $BASE AS builder") || !strings.Contains(res.Stdout, "Successfully tagged multi:latest") {
			t.Errorf("build output:\n%s", res.Stdout)
		}
		if !strings.Contains(res.Stderr, "[Warning] One or more build-args [NOPE] were not consumed") {
			t.Errorf("no warning about the unused build arg:\n%s", res.Stderr)
		}
		want := "from-arg\nbuilt\nhello world\nDockerfile\nkeep.log\nkept.txt\n"
		if got := env.mustRun("run", "--rm", "multi"); got != want {
			t.Errorf("run multi:\n%s\nwant:\n%s", got, want)
		}
		if !strings.Contains(env.mustRun("images", "multi"), "latest") {
			t.Errorf("images multi does not list multi:latest")
		}
		out := env.mustRun("build", "--build-arg", "MSG=other", "-t", "multi", ctx)
		if !strings.Contains(out, "Running in") {
			t.Errorf("a changed build arg did not rerun the RUN that sees it:\n%s", out)
		}
	})
}

// TestRunBuildFailingRun: the step, the command and its code are reported,
// the container is gone, the build exits 1.
func TestRunBuildFailingRun(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		ctx := writeContext(t, env, "ctx", map[string]string{"Dockerfile": "FROM busybox\nRUN echo before\nRUN exit 3\n"})
		res := env.mustFail(1, "build", ctx)
		if !strings.Contains(res.Stderr, "The command '/bin/sh -c exit 3' returned a non-zero code: 3") {
			t.Errorf("stderr: %s", res.Stderr)
		}
		if !strings.Contains(res.Stdout, "Step 3/3 : RUN exit 3") || !strings.Contains(res.Stdout, "before\n") {
			t.Errorf("stdout: %s", res.Stdout)
		}
		if ids := env.mustRun("ps", "-aq"); ids != "" {
			t.Errorf("containers left after a failed build: %q", ids)
		}
	})
}

// TestBuildErrors: a syntax error names the file and line; an unknown
// instruction, a missing COPY source and a missing Dockerfile fail.
func TestBuildErrors(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	ctx := writeContext(t, env, "ctx", map[string]string{
		"Dockerfile": "FROM busybox\nFOO bar\n",
		"Copy":       "FROM scratch\nCOPY missing.txt /x\n",
		"Heredoc":    "FROM scratch\nRUN <<EOF\necho\n",
	})
	res := env.mustFail(1, "build", ctx)
	if !strings.Contains(res.Stderr, "line 2") || !strings.Contains(res.Stderr, "Dockerfile") || !strings.Contains(res.Stderr, "unknown instruction: FOO") {
		t.Errorf("syntax error: %s", res.Stderr)
	}
	res = env.mustFail(1, "build", "-f", filepath.Join(ctx, "Copy"), ctx)
	if !strings.Contains(res.Stderr, "missing.txt") {
		t.Errorf("missing COPY source: %s", res.Stderr)
	}
	env.mustFail(1, "build", "-f", filepath.Join(ctx, "Heredoc"), ctx)
	env.mustFail(1, "build", env.Path("nowhere"))
}

// TestBuildScratchCopy: FROM scratch with COPY and metadata only (no
// container), the context a tar on stdin; history shows the steps.
func TestBuildScratchCopy(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, data := range map[string]string{
		"Dockerfile": "FROM scratch\nCOPY --chmod=640 f.txt /etc/\nLABEL k=v\nCMD [\"/none\"]\n",
		"f.txt":      "f\n",
	} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg})
		tw.Write([]byte(data))
	}
	tw.Close()
	res := env.runInput(&buf, "build", "-t", "scratchy:v1", "-")
	if res.Code != 0 || !strings.Contains(res.Stdout, "Successfully tagged scratchy:v1") {
		t.Fatalf("build - : exit %d\n%s\n%s", res.Code, res.Stdout, res.Stderr)
	}
	hist := env.mustRun("history", "--no-trunc", "scratchy:v1")
	for _, want := range []string{"#(nop)  CMD [\"/none\"]", "#(nop)  LABEL k=v", "#(nop) COPY file:"} {
		if !strings.Contains(hist, want) {
			t.Errorf("history lacks %q:\n%s", want, hist)
		}
	}
}

// TestRunBuildAddArchives: ADD unpacks local tars compressed with gzip,
// bzip2, xz and zstd, as Docker does, and copies a compressed file that
// is no tar as it is.
func TestRunBuildAddArchives(t *testing.T) {
	t.Parallel()
	var plain bytes.Buffer
	tw := tar.NewWriter(&plain)
	tw.WriteHeader(&tar.Header{Name: "in/", Mode: 0o755, Typeflag: tar.TypeDir})
	tw.WriteHeader(&tar.Header{Name: "in/f", Mode: 0o644, Size: 3, Typeflag: tar.TypeReg})
	tw.Write([]byte("in\n"))
	tw.Close()
	compress := func(data []byte, newW func(io.Writer) (io.WriteCloser, error)) string {
		var buf bytes.Buffer
		w, err := newW(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	files := map[string]string{
		"a.tar.gz":  compress(plain.Bytes(), func(w io.Writer) (io.WriteCloser, error) { return gzip.NewWriter(w), nil }),
		"a.tar.xz":  compress(plain.Bytes(), func(w io.Writer) (io.WriteCloser, error) { return xz.NewWriter(w) }),
		"a.tar.zst": compress(plain.Bytes(), func(w io.Writer) (io.WriteCloser, error) { return zstd.NewWriter(w) }),
		"note.xz":   compress([]byte("not a tar\n"), func(w io.Writer) (io.WriteCloser, error) { return xz.NewWriter(w) }),
	}
	dockerfile := "FROM busybox\nADD a.tar.gz /gz/\nADD a.tar.xz /xz/\nADD a.tar.zst /zst/\nADD note.xz /note/\n"
	check := "cat /gz/in/f /xz/in/f /zst/in/f; ls /note"
	want := "in\nin\nin\nnote.xz\n"
	bz := exec.Command("bzip2", "-c") // Go has no bzip2 writer
	bz.Stdin = bytes.NewReader(plain.Bytes())
	if out, err := bz.Output(); err == nil {
		files["a.tar.bz2"] = string(out)
		dockerfile += "ADD a.tar.bz2 /bz2/\n"
		check += "; cat /bz2/in/f"
		want += "in\n"
	}
	files["Dockerfile"] = dockerfile + "CMD [\"sh\", \"-c\", \"" + check + "\"]\n"
	forEachMode(t, func(t *testing.T, env *Env) {
		env.mustRun("build", "-q", "-t", "archives", writeContext(t, env, "ctx", files))
		if got := env.mustRun("run", "--rm", "archives"); got != want {
			t.Errorf("ADD of compressed tars gave:\n%s\nwant:\n%s", got, want)
		}
	})
}

// system prune removes dangling images only: a replaced build's old image
// (with its untagged parents), never the parent of a tagged image, and the
// space it reports is what the removed layers held.
func TestRunBuildSystemPruneDangling(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		df := "FROM busybox\nRUN echo %s > /v && head -c 300000 /dev/zero > /pad\nCMD [\"cat\", \"/v\"]\n"
		ctx := writeContext(t, env, "prunectx", map[string]string{"Dockerfile": fmt.Sprintf(df, "one")})
		old := builtID(t, env.mustRun("build", "-t", "pruned", ctx))
		env.WriteFile("prunectx/Dockerfile", []byte(fmt.Sprintf(df, "two")))
		cur := builtID(t, env.mustRun("build", "-t", "pruned", ctx))
		parent := inspectF(env, "{{.Parent}}", "pruned")
		out := env.mustRun("system", "prune", "-f")
		imgs := strings.Join(section(out, "Deleted Images:"), " ")
		if !strings.Contains(imgs, "deleted: sha256:"+old) || strings.Contains(imgs, cur) || strings.Contains(imgs, parent) {
			t.Errorf("system prune deleted images %q: want the replaced build %s only, not %s or its parent %s", imgs, old, cur, parent)
		}
		if !strings.Contains(out, "Total reclaimed space: 300") {
			t.Errorf("want the old RUN layer's ~300kB reclaimed:\n%s", out)
		}
		if got := env.mustRun("run", "--rm", "pruned"); got != "two\n" {
			t.Errorf("the kept image runs: %q", got)
		}
		// The build cache went with the prune, its intermediate images too:
		// the image built from them now has an existing parent (busybox),
		// which rmi then only untags, as a base with children.
		parent = inspectF(env, "{{.Parent}}", "pruned")
		if id := inspectF(env, "{{.Id}}", "busybox"); parent != id {
			t.Errorf("after prune, pruned's parent is %q, want busybox's %s", parent, id)
		}
		if out := env.mustRun("rmi", "busybox"); !strings.HasPrefix(out, "Untagged: busybox:latest\n") || strings.Contains(out, "Deleted") {
			t.Errorf("rmi of a base with children: %q, want it untagged only", out)
		}
	})
}

// The buildx-era flags scripts pass: --progress, --platform (this host's
// only) and --add-host for RUN steps.
func TestRunBuildCommonFlags(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		ctx := writeContext(t, env, "flagsctx", map[string]string{"Dockerfile": "FROM busybox\nRUN awk '$2 == \"db\"' /etc/hosts > /found\nCMD [\"cat\", \"/found\"]\n"})
		out := env.mustRun("build", "--progress=plain", "--platform", "linux/"+runtime.GOARCH, "--add-host", "db:10.9.9.9", "-t", "flags", ctx)
		builtID(t, out)
		if got := env.mustRun("run", "--rm", "flags"); got != "10.9.9.9\tdb\n" {
			t.Errorf("--add-host in RUN: %q", got)
		}
		if out := env.mustRun("build", "--progress", "quiet", "--no-cache", "--add-host", "db=10.9.9.9", ctx); !strings.HasPrefix(out, "sha256:") || strings.Count(out, "\n") != 1 {
			t.Errorf("--progress quiet printed %q", out)
		}
		env.mustFail(1, "build", "--platform", "linux/s390x", ctx)
		env.mustFail(1, "build", "--progress", "fancy", ctx)
	})
}

// system df counts a layer that images share once, as Docker does, and a
// layer only a container's image has is not reclaimable.
func TestRunBuildSystemDF(t *testing.T) {
	t.Parallel()
	withBusybox(t, func(t *testing.T, env *Env) {
		ctx := writeContext(t, env, "dfctx", map[string]string{"Dockerfile": "FROM busybox\nRUN head -c 300000 /dev/zero > /pad\n"})
		env.mustRun("build", "-q", "-t", "padded", ctx)
		size := func(img string) float64 {
			return humanBytes(t, strings.TrimSpace(env.mustRun("images", "--format", "{{.Size}}", img)))
		}
		// The Images row, in bytes: size, reclaimable. Docker prints 4
		// significant digits here, 3 in images.
		images := func() (float64, float64) {
			f := strings.Fields(strings.SplitN(env.mustRun("system", "df", "--format", "{{.Size}} {{.Reclaimable}}"), "\n", 2)[0])
			if len(f) != 3 {
				t.Fatalf("system df images row: %q", f)
			}
			return humanBytes(t, f[0]), humanBytes(t, f[1])
		}
		near := func(a, b float64) bool { return math.Abs(a-b) <= 0.01*b }
		if total, free := images(); !near(total, size("padded")) || total != free {
			t.Errorf("system df images %.0f, reclaimable %.0f: want busybox's layer once (padded's %.0f), all reclaimable", total, free, size("padded"))
		}
		env.mustRun("create", "--name", "user", "padded")
		if total, free := images(); !near(total, size("padded")) || !near(free, size("busybox")) {
			t.Errorf("system df images %.0f, reclaimable %.0f with a container of padded: want %.0f, of which busybox's %.0f (shared) reclaimable",
				total, free, size("padded"), size("busybox"))
		}
		// -v: per image (shared and unique sizes), container and volume.
		env.mustRun("run", "--name", "vuser", "-v", "dfvol:/data", "busybox", "sh", "-c", "head -c 5000 /dev/zero > /data/f")
		out := env.mustRun("system", "df", "-v")
		for _, want := range []*regexp.Regexp{
			regexp.MustCompile(`(?m)^Images space usage:\n\nREPOSITORY +TAG +IMAGE ID +CREATED +SIZE +SHARED SIZE +UNIQUE SIZE +CONTAINERS$`),
			regexp.MustCompile(`(?m)^padded +latest +[0-9a-f]{12} .+ +2\.28\dMB +1\.98\dMB +300kB +1$`),
			regexp.MustCompile(`(?m)^busybox +latest +[0-9a-f]{12} .+ +1\.98\dMB +1\.98\dMB +0B +1$`),
			regexp.MustCompile(`(?m)^[0-9a-f]{12} +busybox +"sh -c head -c 5000 …" +1 +0B +.+ +Exited \(0\) .+ +vuser$`),
			regexp.MustCompile(`(?m)^VOLUME NAME +LINKS +SIZE\ndfvol +1 +5kB$`),
			regexp.MustCompile(`(?m)^Build cache usage: 0B$`),
		} {
			if !want.MatchString(out) {
				t.Errorf("system df -v has no match for %s:\n%s", want, out)
			}
		}
	})
}

// humanBytes reads a size as Docker prints it ("2.28MB", "512kB", "0B").
func humanBytes(t *testing.T, s string) float64 {
	t.Helper()
	for _, u := range []struct {
		suffix string
		mult   float64
	}{{"GB", 1e9}, {"MB", 1e6}, {"kB", 1e3}, {"B", 1}} {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				t.Fatalf("size %q: %v", s, err)
			}
			return v * u.mult
		}
	}
	t.Fatalf("size %q: no unit", s)
	return 0
}
