package container

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestSummaryFields: ListSummaries gives the fields ps shows and filters
// on exactly as List does, and leaves the others out.
func TestSummaryFields(t *testing.T) {
	cs := testStore(t)
	full := &Container{
		ID: hexID("ab"), Name: "web", Created: time.Now().UTC().Truncate(time.Microsecond),
		Image: "docker.io/library/busybox:latest", ImageID: "sha256:" + hexID("cd"),
		Config: Config{
			Image: "busybox", Cmd: []string{"sleep", "1"}, Entrypoint: []string{"/bin/sh", "-c"},
			Labels: map[string]string{"a": "b"}, ExposedPorts: map[string]struct{}{"80/tcp": {}},
			Env: []string{"PATH=/bin"}, Hostname: "h", WorkingDir: "/w",
		},
		HostConfig: HostConfig{NetworkMode: "none", Binds: []string{"/a:/b"}, CapAdd: []string{"NET_ADMIN"}},
		Mounts:     []Mount{{Type: MountVolume, Name: "v", Source: "/s", Destination: "/d", RW: true}},
		Rootfs:     Rootfs{LowerDirs: []string{"/l"}, UpperDir: "/u", WorkDir: "/w", MergedDir: "/m"},
		State: State{Status: StatusExited, ExitCode: 3, Error: "e", StartedAt: time.Now().UTC(), FinishedAt: time.Now().UTC(),
			Ports: map[string][]PortBinding{"80/tcp": {{HostIP: "0.0.0.0", HostPort: "8080"}}}},
		LogPath: "/log", HostsPath: "/hosts",
	}
	if err := cs.Create(full); err != nil {
		t.Fatal(err)
	}
	// A record that is not JSON lists as dead in both.
	broken := hexID("ef")
	os.MkdirAll(cs.Dir(broken), 0o700)
	os.WriteFile(filepath.Join(cs.Dir(broken), recordFile), []byte("{"), 0o600)

	all, err := cs.List()
	if err != nil || len(all) != 2 {
		t.Fatalf("List: %d, %v", len(all), err)
	}
	sums, err := cs.ListSummaries()
	if err != nil || len(sums) != 2 {
		t.Fatalf("ListSummaries: %d, %v", len(sums), err)
	}
	for i := range all {
		f, s := all[i], sums[i]
		if f.ID == broken {
			if s.ID != broken || s.State.Status != StatusDead || f.State.Status != StatusDead {
				t.Errorf("broken record: list %+v, summary %+v", f.State, s.State)
			}
			continue
		}
		want := &Container{
			ID: f.ID, Name: f.Name, Created: f.Created, Image: f.Image, ImageID: f.ImageID,
			Mounts: f.Mounts, State: f.State,
		}
		want.Config.Image, want.Config.Cmd, want.Config.Entrypoint = f.Config.Image, f.Config.Cmd, f.Config.Entrypoint
		want.Config.Labels, want.Config.ExposedPorts = f.Config.Labels, f.Config.ExposedPorts
		want.HostConfig.NetworkMode = f.HostConfig.NetworkMode
		if !reflect.DeepEqual(s, want) {
			t.Errorf("summary\n%+v\nwant\n%+v", s, want)
		}
		if !reflect.DeepEqual(f, full) {
			t.Errorf("List\n%+v\nwant\n%+v", f, full)
		}
	}
}

// TestSummaryCache: listings served from ps.cache match the records, an
// updated or removed container is seen at once, and a damaged cache only
// costs reading the records.
func TestSummaryCache(t *testing.T) {
	cs := testStore(t)
	a := mustCreate(t, cs, hexID("a1"), "aa")
	mustCreate(t, cs, hexID("b2"), "bb")
	names := func() map[string]int {
		t.Helper()
		list, err := cs.ListSummaries()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, c := range list {
			out[c.Name] = c.State.ExitCode
		}
		return out
	}
	if got := names(); !reflect.DeepEqual(got, map[string]int{"aa": 0, "bb": 0}) {
		t.Fatalf("first listing: %v", got)
	}
	cache, err := os.ReadFile(cs.summaryCachePath())
	if err != nil || len(loadSummaryCache(cs.summaryCachePath())) != 2 {
		t.Fatalf("cache after a listing: %q, %v", cache, err)
	}
	if got := names(); !reflect.DeepEqual(got, map[string]int{"aa": 0, "bb": 0}) {
		t.Fatalf("listing from the cache: %v", got)
	}
	if _, err := cs.Update(a.ID, func(c *Container) error { c.State.ExitCode = 5; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := names(); got["aa"] != 5 {
		t.Errorf("after an update: %v", got)
	}
	if err := cs.Remove(a.ID); err != nil {
		t.Fatal(err)
	}
	if got := names(); !reflect.DeepEqual(got, map[string]int{"bb": 0}) {
		t.Errorf("after rm: %v", got)
	}
	// A cache whose entry claims the current key but holds garbage, and a
	// cut line: the record is read.
	data, _ := os.ReadFile(cs.summaryCachePath())
	line := string(data[:len(data)-1])
	f := strings.SplitN(line, " ", 5)
	bad := strings.Join(f[:4], " ") + " {not json\n" + hexID("cc") + " 1 2\n"
	if err := os.WriteFile(cs.summaryCachePath(), []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := names(); !reflect.DeepEqual(got, map[string]int{"bb": 0}) {
		t.Errorf("with a damaged cache: %v", got)
	}
}
