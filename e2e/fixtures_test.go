package e2e

// Fixture images, assembled here and pushed to the suite's registry:
//
//	busybox:latest       Debian's static busybox, every applet linked in /bin,
//	                     /etc/passwd+group (root, nobody, app 1000), Cmd ["sh"]
//	hello-world:latest   /hello only (a static Go binary printing Docker's text)
//	layers:latest        busybox + a whiteout, a whiteout of a directory, an
//	                     opaque dir, hardlinks, a uid 1000 file, a 2 MB layer
//	multiarch:latest     OCI index: linux/amd64 and linux/arm64, /platform differs
//	hostile:latest       ../ escapes, absolute paths, symlink write-through and
//	                     hardlinks to outside, all in one layer; hostile-<kind>
//	                     holds each attack alone
//	baddigest:latest     a layer whose bytes do not match the manifest's digest
//	truncated:latest     a layer that is a truncated gzip stream (digest honest)
//	badgzip:latest       a layer that is not gzip at all past its header
//	shortblob:latest     the registry cuts its layer off halfway
//	(slowImage)          4 MB of random data, pushed per test and throttled
//	private/busybox      busybox again, readable on authHost only with a login
//	redis:latest         busybox + Debian's redis-server and redis-cli (fixture_redis_test.go)

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Fixture is one image (or index) on the registry.
type Fixture struct {
	Short     string   // what a user types: "busybox"
	Repo      string   // registry path: "library/busybox"
	Tag       string   // "latest"
	ID        string   // "sha256:..." of the config (Docker's image ID)
	Digest    string   // manifest (or index) digest
	DiffIDs   []string // config rootfs.diff_ids
	Image     v1.Image
	Platforms map[string]*Fixture // an index's images by "os/arch"
}

// Canonical is the fully qualified tagged name Docker prints.
func (f *Fixture) Canonical() string { return "docker.io/" + f.Repo + ":" + f.Tag }

// Familiar is "busybox:latest", as Docker prints it in status lines.
func (f *Fixture) Familiar() string { return f.Short + ":" + f.Tag }

// ShortID is the 12-hex IMAGE ID column.
func (f *Fixture) ShortID() string { return strings.TrimPrefix(f.ID, "sha256:")[:12] }

var fx struct {
	Busybox, Hello, Layers, Multiarch, Hostile *Fixture
	BadDigest, Truncated, BadGzip, ShortBlob   *Fixture
	HostileKinds                               map[string]*Fixture
	BusyboxRootfs                              string // uncompressed busybox rootfs tar (for import)
	slowImage                                  v1.Image
	busyboxLayer, busyboxOCILayer              v1.Layer
}

const helloText = `
Hello from Docker!
This message shows that your installation appears to be working correctly.

To generate this message, Docker took the following steps:
 1. The Docker client contacted the Docker daemon.
 2. The Docker daemon pulled the "hello-world" image from the Docker Hub.
    (amd64)
 3. The Docker daemon created a new container from that image which runs the
    executable that produces the output you are currently reading.
 4. The Docker daemon streamed that output to the Docker client, which sent it
    to your terminal.

To try something more ambitious, you can run an Ubuntu container with:
 $ docker run -it ubuntu bash

Share images, automate workflows, and more with a free Docker ID:
 https://hub.docker.com/

For more examples and ideas, visit:
 https://docs.docker.com/get-started/

`

// buildHello compiles the hello-world binary (static, no cgo).
func buildHello() ([]byte, error) {
	prog := fmt.Sprintf("package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(%q) }\n", helloText)
	bin, err := buildProgram("hello", prog)
	if err != nil {
		return nil, err
	}
	return os.ReadFile(bin)
}

// buildProgram compiles a one-file Go program (static, no cgo) into
// baseDir/NAME-src/NAME, world-executable (rootless users may bind it), and
// returns its path.
func buildProgram(name, prog string) (string, error) {
	src := filepath.Join(baseDir, name+"-src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	for file, body := range map[string]string{"main.go": prog, "go.mod": "module " + name + "\n\ngo 1.21\n"} {
		if err := os.WriteFile(filepath.Join(src, file), []byte(body), 0o644); err != nil {
			return "", err
		}
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", name, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %v\n%s", name, err, out)
	}
	bin := filepath.Join(src, name)
	return bin, os.Chmod(bin, 0o755)
}

const (
	passwd  = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\napp:x:1000:1000:app:/home/app:/bin/sh\n"
	group   = "root:x:0:\nnobody:x:65534:\napp:x:1000:\n"
	pathEnv = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// busyboxEntries is a small Docker-like busybox root filesystem.
func busyboxEntries() ([]entry, error) {
	bin, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return nil, fmt.Errorf("busybox-static is needed: %w", err)
	}
	out, err := exec.Command("/bin/busybox", "--list").Output()
	if err != nil {
		return nil, err
	}
	es := []entry{dir("bin"), dir("dev"), dir("etc"), dir("home"), dir("home/app").owned(1000, 1000),
		dir("proc"), dir("root").perm(0o700), dir("sys"), dir("tmp").perm(0o1777), dir("usr"),
		dir("var"), file("etc/passwd", passwd), file("etc/group", group),
		{name: "bin/busybox", typ: '0', mode: 0o755, body: bin}}
	for _, a := range strings.Fields(string(out)) {
		if a != "busybox" {
			es = append(es, symlink("bin/"+a, "busybox"))
		}
	}
	return es, nil
}

// step is one layer and the history line that made it.
type step struct {
	layer     v1.Layer
	createdBy string
}

// buildImage assembles an image for linux/arch; cmd adds an empty-layer
// history entry as a Dockerfile CMD does.
func buildImage(oci bool, arch string, cmd []string, steps ...step) v1.Image {
	base := empty.Image
	if oci {
		base = mutate.MediaType(base, types.OCIManifestSchema1)
		base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	}
	var adds []mutate.Addendum
	for _, s := range steps {
		adds = append(adds, mutate.Addendum{Layer: s.layer,
			History: v1.History{CreatedBy: s.createdBy, Created: v1.Time{Time: fixtureTime}}})
	}
	img, err := mutate.Append(base, adds...)
	must(err)
	cf, err := img.ConfigFile()
	must(err)
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS, cf.Created = arch, "linux", v1.Time{Time: fixtureTime}
	cf.Config = v1.Config{Env: []string{pathEnv}, Cmd: cmd}
	c, _ := json.Marshal(cmd)
	cf.History = append(cf.History, v1.History{CreatedBy: "CMD " + string(c), Created: v1.Time{Time: fixtureTime}, EmptyLayer: true})
	img, err = mutate.ConfigFile(img, cf)
	must(err)
	return img
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// describe fills a fixture's ids from its image.
func describe(short, repo string, img v1.Image) *Fixture {
	id, err := img.ConfigName()
	must(err)
	dg, err := img.Digest()
	must(err)
	cf, err := img.ConfigFile()
	must(err)
	f := &Fixture{Short: short, Repo: repo, Tag: "latest", ID: id.String(), Digest: dg.String(), Image: img}
	for _, d := range cf.RootFS.DiffIDs {
		f.DiffIDs = append(f.DiffIDs, d.String())
	}
	return f
}

// pushFixture pushes img as library/<short>:latest and describes it.
func pushFixture(short string, img v1.Image) (*Fixture, error) {
	f := describe(short, "library/"+short, img)
	return f, reg.push(f.Repo+":"+f.Tag, img)
}

func buildFixtures(hello []byte) error {
	bb, err := busyboxEntries()
	if err != nil {
		return err
	}
	arch := runtime.GOARCH
	rootfs := tarOf(bb...)
	fx.BusyboxRootfs = filepath.Join(baseDir, "fixtures", "busybox-rootfs.tar")
	if err := os.WriteFile(fx.BusyboxRootfs, rootfs, 0o644); err != nil {
		return err
	}
	fx.busyboxLayer = layerOf(types.DockerLayer, rootfs)
	fx.busyboxOCILayer = layerOf(types.OCILayer, rootfs)
	base := step{fx.busyboxLayer, "ADD busybox-rootfs.tar / # e2e"}

	var errs []error
	push := func(dst **Fixture, short string, img v1.Image) {
		f, err := pushFixture(short, img)
		*dst = f
		errs = append(errs, err)
	}
	push(&fx.Busybox, "busybox", buildImage(false, arch, []string{"sh"}, base))
	errs = append(errs, reg.push("private/busybox:latest", fx.Busybox.Image)) // for the auth registry
	push(&fx.Hello, "hello-world", buildImage(false, arch, []string{"/hello"},
		step{dockerLayer(entry{name: "hello", typ: '0', mode: 0o755, body: hello}), "COPY hello / # e2e"}))
	push(&fx.Layers, "layers", buildImage(false, arch, []string{"sh"}, append([]step{base}, layersSteps()...)...))
	errs = append(errs, pushMultiarch())
	errs = append(errs, pushHostile())
	errs = append(errs, pushBroken(base))
	errs = append(errs, pushRedis(base))
	fx.slowImage = buildImage(false, arch, []string{"sh"}, base,
		step{dockerLayer(entry{name: "random.bin", typ: '0', mode: 0o644, body: randomBytes(4<<20, 7)}), "ADD random.bin / # e2e"})
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// randomBytes is n incompressible bytes, the same for the same seed.
func randomBytes(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// layersSteps: deletions, an opaque directory and hardlinks across layers.
func layersSteps() []step {
	l1 := dockerLayer(dir("data"), file("data/keep", "keep\n"), file("data/remove-me", "remove\n"),
		dir("data/dir-removed"), file("data/dir-removed/x", "x\n"),
		dir("data/opaque"), file("data/opaque/a", "a\n"), file("data/opaque/b", "b\n"),
		file("data/owned", "app's\n").owned(1000, 1000).perm(0o640))
	l2 := dockerLayer(dir("data"), file("data/.wh.remove-me", ""), file("data/.wh.dir-removed", ""),
		dir("data/opaque"), file("data/opaque/.wh..wh..opq", ""), file("data/opaque/c", "c\n"),
		dir("data/links"), file("data/links/orig", "linked\n"), hardlink("data/links/link", "data/links/orig"),
		dir("data/links2"), hardlink("data/links2/link2", "data/links/orig"),
		symlink("data/sym", "keep"))
	l3 := dockerLayer(dir("data"), entry{name: "data/big", typ: '0', mode: 0o644, body: randomBytes(2<<20, 1)})
	return []step{{l1, "ADD layer1 # e2e"}, {l2, "ADD layer2 (whiteouts, opaque, hardlinks) # e2e"}, {l3, "ADD big # e2e"}}
}

// pushMultiarch pushes an OCI index with linux/amd64 and linux/arm64 images
// that differ in /platform.
func pushMultiarch() error {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	plats := map[string]*Fixture{}
	for _, arch := range []string{"amd64", "arm64"} {
		marker := layerOf(types.OCILayer, tarOf(file("platform", "linux/"+arch+"\n")))
		img := buildImage(true, arch, []string{"sh"}, step{fx.busyboxOCILayer, "ADD busybox # e2e"}, step{marker, "ADD platform # e2e"})
		plats["linux/"+arch] = describe("multiarch", "library/multiarch", img)
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	dg, err := idx.Digest()
	if err != nil {
		return err
	}
	fx.Multiarch = &Fixture{Short: "multiarch", Repo: "library/multiarch", Tag: "latest", Digest: dg.String(), Platforms: plats}
	return reg.pushIndex("library/multiarch:latest", idx)
}

// pushBroken pushes images whose blobs lie: a digest mismatch, a truncated
// gzip stream, a non-gzip body, and a blob the registry cuts short.
func pushBroken(base step) error {
	arch := runtime.GOARCH
	// baddigest: push honestly, then serve the layer with a different gzip
	// header mtime: still a valid gzip of the same tar, same size, but not
	// the bytes the digest names. Only digest verification can notice.
	bad := dockerLayer(file("baddigest-marker", "bad digest\n"))
	img := buildImage(false, arch, []string{"sh"}, base, step{bad, "ADD marker # e2e"})
	f, err := pushFixture("baddigest", img)
	if err != nil {
		return err
	}
	fx.BadDigest = f
	dg, _ := bad.Digest()
	blob, ok := reg.blobs.get(dg)
	if !ok {
		return fmt.Errorf("baddigest layer not in the registry")
	}
	tampered := append([]byte(nil), blob...)
	tampered[4] ^= 1 // gzip MTIME
	reg.blobs.set(dg, tampered)

	full := gz(tarOf(file("truncated-marker", strings.Repeat("truncated\n", 20000))))
	if fx.Truncated, err = pushRawImage("truncated", full[:len(full)/2], base); err != nil {
		return err
	}
	garbage := append([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, randomBytes(4096, 3)...)
	if fx.BadGzip, err = pushRawImage("badgzip", garbage, base); err != nil {
		return err
	}

	short := buildImage(false, arch, []string{"sh"}, base,
		step{dockerLayer(entry{name: "short.bin", typ: '0', mode: 0o644, body: randomBytes(1<<20, 5)}), "ADD short.bin # e2e"})
	if fx.ShortBlob, err = pushFixture("shortblob", short); err != nil {
		return err
	}
	reg.cutShort("library/shortblob")
	return nil
}

// pushRawImage pushes busybox plus a layer blob given verbatim (its
// diff_id is made up: the blob cannot be decompressed to compute one).
func pushRawImage(short string, layerBlob []byte, base step) (*Fixture, error) {
	baseDigest, _ := base.layer.Digest()
	baseSize, _ := base.layer.Size()
	baseDiff, _ := base.layer.DiffID()
	layerDigest, layerSize, _ := v1.SHA256(strings.NewReader(string(layerBlob)))
	fakeDiff, _, _ := v1.SHA256(strings.NewReader(short))
	cfg := v1.ConfigFile{Architecture: runtime.GOARCH, OS: "linux", Created: v1.Time{Time: fixtureTime},
		Config: v1.Config{Env: []string{pathEnv}, Cmd: []string{"sh"}},
		RootFS: v1.RootFS{Type: "layers", DiffIDs: []v1.Hash{baseDiff, fakeDiff}}}
	cfgBlob, _ := json.Marshal(cfg)
	cfgDigest, cfgSize, _ := v1.SHA256(strings.NewReader(string(cfgBlob)))
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.DockerManifestSchema2,
		Config: v1.Descriptor{MediaType: types.DockerConfigJSON, Size: cfgSize, Digest: cfgDigest},
		Layers: []v1.Descriptor{
			{MediaType: types.DockerLayer, Size: baseSize, Digest: baseDigest},
			{MediaType: types.DockerLayer, Size: layerSize, Digest: layerDigest}}}
	mb, _ := json.Marshal(m)
	md, _, _ := v1.SHA256(strings.NewReader(string(mb)))
	f := &Fixture{Short: short, Repo: "library/" + short, Tag: "latest", ID: cfgDigest.String(), Digest: md.String(),
		DiffIDs: []string{baseDiff.String(), fakeDiff.String()}}
	// The base layer blob is already on the registry (busybox).
	return f, reg.pushRaw(f.Repo+":"+f.Tag, types.DockerManifestSchema2, mb, layerBlob, cfgBlob)
}
