package e2e

// images, tag, rmi, image inspect, history and image prune, as Docker shows
// them.

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	units "github.com/docker/go-units"
)

var (
	sizeRe   = regexp.MustCompile(`^[0-9.]+(B|kB|MB|GB)$`)
	columnRe = regexp.MustCompile(`\s{2,}`)
)

// table splits `images`-style output into header and rows of columns
// (columns are separated by two or more spaces, as Docker's tabwriter does).
func table(out string) (header []string, rows [][]string) {
	ls := lines(out)
	if len(ls) == 0 {
		return nil, nil
	}
	for i, l := range ls {
		cols := columnRe.Split(strings.TrimSpace(l), -1)
		if i == 0 {
			header = cols
		} else {
			rows = append(rows, cols)
		}
	}
	return header, rows
}

func rowFor(rows [][]string, repo, tag string) []string {
	for _, r := range rows {
		if len(r) >= 2 && r[0] == repo && r[1] == tag {
			return r
		}
	}
	return nil
}

func TestImagesColumns(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		env.mustRun("pull", "-q", "busybox")
		env.mustRun("pull", "-q", "hello-world")
		header, rows := table(env.mustRun("images"))
		if got := strings.Join(header, "|"); got != "REPOSITORY|TAG|IMAGE ID|CREATED|SIZE" {
			t.Errorf("images header %q", got)
		}
		if len(rows) != 2 {
			t.Errorf("images shows %d rows, want 2: %v", len(rows), rows)
		}
		created := units.HumanDuration(time.Since(fixtureTime)) + " ago"
		for _, f := range []*Fixture{fx.Busybox, fx.Hello} {
			r := rowFor(rows, f.Short, "latest")
			if len(r) != 5 {
				t.Errorf("no 5-column row for %s: %v", f.Short, rows)
				continue
			}
			if r[2] != f.ShortID() || r[3] != created || !sizeRe.MatchString(r[4]) {
				t.Errorf("row %v, want id %s, created %q, a size like 4.2MB", r, f.ShortID(), created)
			}
		}

		ids := lines(env.mustRun("images", "-q"))
		if strings.Join(sortedSet(ids), " ") != strings.Join(sortedSet([]string{fx.Busybox.ShortID(), fx.Hello.ShortID()}), " ") {
			t.Errorf("images -q = %v", ids)
		}
		if out := env.mustRun("images", "--no-trunc"); !strings.Contains(out, fx.Busybox.ID) {
			t.Errorf("images --no-trunc lacks %s:\n%s", fx.Busybox.ID, out)
		}
		header, rows = table(env.mustRun("images", "--digests"))
		if got := strings.Join(header, "|"); got != "REPOSITORY|TAG|DIGEST|IMAGE ID|CREATED|SIZE" {
			t.Errorf("images --digests header %q", got)
		}
		if r := rowFor(rows, "busybox", "latest"); len(r) < 3 || r[2] != fx.Busybox.Digest {
			t.Errorf("images --digests row %v, want digest %s", r, fx.Busybox.Digest)
		}
		got := lines(env.mustRun("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"))
		want := []string{"busybox:latest " + fx.Busybox.ShortID(), "hello-world:latest " + fx.Hello.ShortID()}
		if strings.Join(sortedSet(got), "\n") != strings.Join(want, "\n") {
			t.Errorf("images --format = %q, want %q", got, want)
		}
		_, rows = table(env.mustRun("images", "busybox"))
		if len(rows) != 1 || rows[0][0] != "busybox" {
			t.Errorf("images busybox = %v", rows)
		}
		if got := lines(env.mustRun("images", "-q", "-f", "reference=hello*")); len(got) != 1 || got[0] != fx.Hello.ShortID() {
			t.Errorf("images -f reference=hello* = %v", got)
		}
	})
}

func sortedSet(s []string) []string {
	m := map[string]bool{}
	for _, x := range s {
		m[x] = true
	}
	return sortedKeys(m)
}

// TestImagesDanglingPrune: re-pulling a tag that moved leaves the old image
// dangling; -f dangling=true finds it and image prune removes only it.
func TestImagesDanglingPrune(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		repo := "e2e/moving-" + env.Mode
		if err := reg.push(repo+":latest", fx.Busybox.Image); err != nil {
			t.Fatal(err)
		}
		env.mustRun("pull", "-q", repo)
		if got := env.mustRun("images", "-q", "-f", "dangling=true"); got != "" {
			t.Errorf("dangling images before the tag moved: %q", got)
		}
		if err := reg.push(repo+":latest", fx.Hello.Image); err != nil {
			t.Fatal(err)
		}
		env.mustRun("pull", "-q", repo)
		if got := lines(env.mustRun("images", "-q", "-f", "dangling=true")); len(got) != 1 || got[0] != fx.Busybox.ShortID() {
			t.Errorf("images -f dangling=true = %v, want [%s]", got, fx.Busybox.ShortID())
		}
		// (Not checked: Docker's dangling=false still lists an untagged
		// image that has a repo digest.)
		out := env.mustRun("image", "prune", "-f")
		for _, want := range []string{"Deleted Images:", "deleted: " + fx.Busybox.ID, "Total reclaimed space:"} {
			if !strings.Contains(out, want) {
				t.Errorf("image prune output lacks %q:\n%s", want, out)
			}
		}
		if got := lines(env.mustRun("images", "-q", "--no-trunc")); len(got) != 1 || got[0] != fx.Hello.ID {
			t.Errorf("after prune images -q = %v, want only %s", got, fx.Hello.ID)
		}
		env.mustRun("image", "prune", "-a", "-f")
		if got := env.mustRun("images", "-a", "-q"); got != "" {
			t.Errorf("after image prune -a images -a -q = %q", got)
		}
	})
}

// TestTagRmi: tag adds names to one image; rmi untags until the last name,
// then deletes; an id with several names needs -f.
func TestTagRmi(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		env.mustRun("pull", "-q", "busybox")
		if out := env.mustRun("tag", "busybox", "mybox:v1"); out != "" {
			t.Errorf("tag printed %q", out)
		}
		env.mustRun("tag", "busybox:latest", "localhost:5000/ns/app:2")
		got := sortedSet(lines(env.mustRun("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")))
		id := fx.Busybox.ShortID()
		want := []string{"busybox:latest " + id, "localhost:5000/ns/app:2 " + id, "mybox:v1 " + id}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("images after tag = %q, want %q", got, want)
		}
		if out := env.mustRun("rmi", "mybox:v1"); strings.TrimSpace(out) != "Untagged: mybox:v1" {
			t.Errorf("rmi mybox:v1 printed %q", out)
		}
		if res := env.run("rmi", id); res.Code == 0 || !strings.Contains(res.Stderr, "must be forced") {
			t.Errorf("rmi of an id with two names: exit %d, stderr %q; want a 'must be forced' error", res.Code, res.Stderr)
		}
		out := env.mustRun("rmi", "busybox")
		if !strings.Contains(out, "Untagged: busybox:latest") || strings.Contains(out, "Deleted:") {
			t.Errorf("rmi busybox (still tagged elsewhere) printed %q", out)
		}
		out = env.mustRun("rmi", "localhost:5000/ns/app:2")
		if !strings.Contains(out, "Untagged: localhost:5000/ns/app:2") || !strings.Contains(out, "Deleted: "+fx.Busybox.ID) {
			t.Errorf("rmi of the last name printed %q", out)
		}
		if got := env.mustRun("images", "-a", "-q"); got != "" {
			t.Errorf("images after rmi: %q", got)
		}
		if res := env.run("rmi", "busybox"); res.Code == 0 || !strings.Contains(res.Stderr, "No such image") {
			t.Errorf("rmi of a removed image: exit %d, stderr %q", res.Code, res.Stderr)
		}
		if res := env.run("tag", "nosuch", "x:y"); res.Code == 0 || !strings.Contains(res.Stderr, "No such image") {
			t.Errorf("tag of a missing image: exit %d, stderr %q", res.Code, res.Stderr)
		}
		env.mustRun("pull", "-q", "busybox")
		env.mustRun("tag", "busybox", "other:1")
		out = env.mustRun("rmi", "-f", id)
		if !strings.Contains(out, "Untagged: busybox:latest") || !strings.Contains(out, "Untagged: other:1") || !strings.Contains(out, "Deleted: "+fx.Busybox.ID) {
			t.Errorf("rmi -f %s printed %q", id, out)
		}
	})
}

// inspected is the part of Docker's image inspect JSON the tests check.
type inspected struct {
	Id           string
	RepoTags     []string
	RepoDigests  []string
	Created      time.Time
	Architecture string
	Os           string
	Size         int64
	Config       struct {
		Cmd []string
		Env []string
	}
	RootFS struct {
		Type   string
		Layers []string
	}
}

func TestImageInspect(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		env.mustRun("pull", "-q", "busybox")
		for _, args := range [][]string{{"image", "inspect", "busybox"}, {"inspect", "busybox"}, {"image", "inspect", fx.Busybox.ShortID()}} {
			var got []inspected
			out := env.mustRun(args...)
			if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 1 {
				t.Errorf("%v: want a JSON array of one image (%v):\n%s", args, err, out)
				continue
			}
			i := got[0]
			if i.Id != fx.Busybox.ID || strings.Join(i.RepoTags, ",") != "busybox:latest" ||
				strings.Join(i.RepoDigests, ",") != "busybox@"+fx.Busybox.Digest {
				t.Errorf("%v: Id %s RepoTags %v RepoDigests %v", args, i.Id, i.RepoTags, i.RepoDigests)
			}
			if !i.Created.Equal(fixtureTime) || i.Os != "linux" || i.Architecture == "" || i.Size <= 0 {
				t.Errorf("%v: Created %v Os %q Architecture %q Size %d", args, i.Created, i.Os, i.Architecture, i.Size)
			}
			if strings.Join(i.Config.Cmd, " ") != "sh" || strings.Join(i.Config.Env, " ") != pathEnv {
				t.Errorf("%v: Config %+v", args, i.Config)
			}
			if i.RootFS.Type != "layers" || strings.Join(i.RootFS.Layers, " ") != strings.Join(fx.Busybox.DiffIDs, " ") {
				t.Errorf("%v: RootFS %+v", args, i.RootFS)
			}
		}
		if got := inspectID(t, env, "busybox"); got != fx.Busybox.ID {
			t.Errorf("--format {{.Id}} = %s", got)
		}
		res := env.run("image", "inspect", "nosuch")
		if res.Code == 0 || !strings.Contains(res.Stderr, "No such image") {
			t.Errorf("inspect of a missing image: exit %d, stderr %q", res.Code, res.Stderr)
		}
	})
}

func TestHistory(t *testing.T) {
	t.Parallel()
	forEachMode(t, func(t *testing.T, env *Env) {
		env.mustRun("pull", "-q", "busybox")
		header, rows := table(env.mustRun("history", "busybox"))
		if got := strings.Join(header, "|"); got != "IMAGE|CREATED|CREATED BY|SIZE|COMMENT" {
			t.Errorf("history header %q", got)
		}
		if len(rows) != 2 {
			t.Fatalf("history rows %v, want 2", rows)
		}
		created := units.HumanDuration(time.Since(fixtureTime)) + " ago"
		if rows[0][0] != fx.Busybox.ShortID() || rows[0][1] != created || rows[0][2] != `CMD ["sh"]` || rows[0][3] != "0B" {
			t.Errorf("newest history row %v", rows[0])
		}
		if rows[1][0] != "<missing>" || !strings.HasPrefix(rows[1][2], "ADD busybox-rootfs.tar") || !sizeRe.MatchString(rows[1][3]) {
			t.Errorf("base history row %v", rows[1])
		}
		got := lines(env.mustRun("history", "--no-trunc", "--format", "{{.ID}}|{{.CreatedBy}}", "busybox"))
		want := []string{fx.Busybox.ID + `|CMD ["sh"]`, "<missing>|ADD busybox-rootfs.tar / # e2e"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("history --format = %q, want %q", got, want)
		}
	})
}
