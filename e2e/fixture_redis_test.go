package e2e

// redis:latest, for the interactive tests (exec -it ... redis-cli): the
// busybox layer plus Debian's redis-server and redis-cli (apt packages
// redis-server and redis-tools, installed by `just deps`), the shared
// libraries ldd lists for them and /etc/redis, with Cmd
// ["redis-server", "--protected-mode", "no"] and WorkingDir /data as in
// Docker's official image.

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

var (
	fxRedis    *Fixture
	fxRedisErr error // why the redis fixture could not be assembled
)

// redisFixture returns the fixture, failing the test (only those that
// need it) when the host lacks the redis packages.
func redisFixture(t interface{ Fatalf(string, ...any) }) *Fixture {
	if fxRedis == nil {
		t.Fatalf("redis fixture: %v", fxRedisErr)
	}
	return fxRedis
}

// pushRedis assembles the redis image on top of base and pushes it. A
// host without redis installed only fails the tests that use it.
func pushRedis(base step) error {
	layer, err := redisLayer()
	if err != nil {
		fxRedisErr = fmt.Errorf("%w (apt install redis-server redis-tools, or `just deps`)", err)
		return nil
	}
	img := buildImage(false, runtime.GOARCH, []string{"redis-server", "--protected-mode", "no"}, base,
		step{layer, "COPY redis-server redis-cli libs /etc/redis # e2e"})
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.Config.WorkingDir = "/data"
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	fxRedis, err = pushFixture("redis", img)
	return err
}

// redisLayer holds the two binaries, every library they load (at the
// paths the dynamic linker looks them up by) and /etc/redis.
func redisLayer() (v1.Layer, error) {
	bins := map[string]string{"usr/bin/redis-server": "/usr/bin/redis-server", "usr/bin/redis-cli": "/usr/bin/redis-cli"}
	files := map[string]string{}
	for name, src := range bins {
		files[name] = src
		libs, err := sharedLibs(src)
		if err != nil {
			return nil, err
		}
		for _, l := range libs {
			files[strings.TrimPrefix(l, "/")] = l
		}
	}
	if confs, err := filepath.Glob("/etc/redis/*.conf"); err == nil {
		for _, c := range confs {
			files[strings.TrimPrefix(c, "/")] = c
		}
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var es []entry
	dirs := map[string]bool{}
	for _, n := range names {
		for d := filepath.Dir(n); d != "." && !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
		}
	}
	dirs["data"] = true
	sorted := make([]string, 0, len(dirs))
	for d := range dirs {
		sorted = append(sorted, d)
	}
	sort.Strings(sorted)
	for _, d := range sorted {
		es = append(es, dir(d))
	}
	for _, n := range names {
		// Read through symlinks: the image gets the library itself under
		// the name it is loaded by (redis-server is Debian's symlink to
		// redis-check-rdb, which picks its role from argv[0]).
		body, err := os.ReadFile(files[n])
		if err != nil {
			return nil, err
		}
		es = append(es, entry{name: n, typ: '0', mode: 0o755, body: body})
	}
	return dockerLayer(es...), nil
}

// sharedLibs lists the absolute paths ldd resolves for bin, the dynamic
// linker included.
func sharedLibs(bin string) ([]string, error) {
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		return nil, fmt.Errorf("ldd %s: %w", bin, err)
	}
	var libs []string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		// "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or
		// "/lib64/ld-linux-x86-64.so.2 (0x...)"
		f := strings.Fields(sc.Text())
		for _, w := range f {
			if strings.HasPrefix(w, "/") {
				libs = append(libs, w)
				break
			}
		}
	}
	if len(libs) == 0 {
		return nil, fmt.Errorf("ldd %s: no libraries listed", bin)
	}
	return libs, nil
}
