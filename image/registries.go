package image

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	toml "github.com/pelletier/go-toml/v2"

	"github.com/skiff-dev/skiff/store"
)

// Registries is a containers-registries.conf(5) file (version 2 format).
type Registries struct {
	UnqualifiedSearch []string
	Registry          []Registry
	searchSet         bool // the file sets unqualified-search-registries (a drop-in may set it empty)
}

// registriesFile is the file's TOML: a nil UnqualifiedSearch is a file
// that does not set it.
type registriesFile struct {
	UnqualifiedSearch *[]string  `toml:"unqualified-search-registries"`
	Registry          []Registry `toml:"registry"`
}

// Registry is one [[registry]] table.
type Registry struct {
	Prefix   string   `toml:"prefix"`
	Location string   `toml:"location"`
	Insecure bool     `toml:"insecure"`
	Blocked  bool     `toml:"blocked"`
	Mirror   []Mirror `toml:"mirror"`
}

// Mirror is one [[registry.mirror]] table.
type Mirror struct {
	Location string `toml:"location"`
	Insecure bool   `toml:"insecure"`
}

// Endpoint is one place to fetch a reference from: the reference rewritten
// to a mirror or the registry's location, and whether plain HTTP is allowed.
type Endpoint struct {
	Ref      name.Reference
	Insecure bool
}

// RegistriesFile is the registries.conf in effect: $CONTAINERS_REGISTRIES_CONF,
// else ~/.config/containers/registries.conf when it exists, else
// /etc/containers/registries.conf.
func RegistriesFile() string {
	if f := os.Getenv("CONTAINERS_REGISTRIES_CONF"); f != "" {
		return f
	}
	if user := userConfigDir(); user != "" {
		f := filepath.Join(user, "registries.conf")
		if _, err := os.Stat(f); err == nil {
			return f
		}
	}
	return "/etc/containers/registries.conf"
}

// LoadRegistries reads the registries.conf in effect, then its drop-ins
// (RegistriesDropIns) in order, each overriding what it sets; a missing
// file is an empty configuration.
func LoadRegistries() (*Registries, error) {
	conf, err := ParseRegistriesFile(RegistriesFile())
	if err != nil {
		return nil, err
	}
	for _, f := range RegistriesDropIns() {
		drop, err := ParseRegistriesFile(f)
		if err != nil {
			return nil, err
		}
		conf.merge(drop)
	}
	return conf, nil
}

// RegistriesDropIns lists the drop-in files applied over RegistriesFile, as
// containers-registries.conf.d(5) orders them: the *.conf files of
// /etc/containers/registries.conf.d, then of
// ~/.config/containers/registries.conf.d, each directory in alphanumeric
// order; only the user's when the user's registries.conf is the main file.
// A file named by $CONTAINERS_REGISTRIES_CONF is a configuration of its
// own: only the registries.conf.d beside it applies (so a test or CI
// configuration is not changed by the host's drop-ins).
func RegistriesDropIns() []string {
	main := RegistriesFile()
	var dirs []string
	switch user := userConfigDir(); {
	case os.Getenv("CONTAINERS_REGISTRIES_CONF") != "":
		dirs = []string{filepath.Join(filepath.Dir(main), "registries.conf.d")}
	case user != "" && main == filepath.Join(user, "registries.conf"):
		dirs = []string{filepath.Join(user, "registries.conf.d")}
	default:
		dirs = []string{filepath.Join(filepath.Dir(main), "registries.conf.d")}
		if user != "" {
			dirs = append(dirs, filepath.Join(user, "registries.conf.d"))
		}
	}
	var files []string
	for _, d := range dirs {
		ents, _ := os.ReadDir(d) // sorted by name
		for _, e := range ents {
			if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".conf") {
				files = append(files, filepath.Join(d, e.Name()))
			}
		}
	}
	return files
}

// userConfigDir is ${XDG_CONFIG_HOME:-~/.config}/containers, or "".
func userConfigDir() string {
	cfg := os.Getenv("XDG_CONFIG_HOME")
	if cfg == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		cfg = filepath.Join(home, ".config")
	}
	return filepath.Join(cfg, "containers")
}

// merge applies a drop-in over c: a search list it sets replaces c's, and
// a [[registry]] replaces the one with the same prefix or is added.
func (c *Registries) merge(drop *Registries) {
	if drop.searchSet {
		c.UnqualifiedSearch = drop.UnqualifiedSearch
	}
	for _, reg := range drop.Registry {
		i := slices.IndexFunc(c.Registry, func(r Registry) bool { return r.Prefix == reg.Prefix })
		if i >= 0 {
			c.Registry[i] = reg
		} else {
			c.Registry = append(c.Registry, reg)
		}
	}
}

// ParseRegistriesFile reads one registries.conf.
func ParseRegistriesFile(path string) (*Registries, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Registries{}, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseRegistries(string(data), path)
}

// ParseRegistries parses registries.conf text; path only names it in errors.
// It uses go-toml rather than BurntSushi/toml, whose package init loads the
// local time zone (reads and parses /etc/localtime) for TOML's local-time
// types: ~0.1 ms of every skiff process's start-up, supervisors included.
func ParseRegistries(text, path string) (*Registries, error) {
	var f registriesFile
	if err := toml.Unmarshal([]byte(text), &f); err != nil {
		return nil, store.Invalid("%s: %s", path, oneLine(err.Error()))
	}
	r := Registries{Registry: f.Registry}
	if f.UnqualifiedSearch != nil {
		r.UnqualifiedSearch, r.searchSet = *f.UnqualifiedSearch, true
	}
	for i := range r.Registry {
		reg := &r.Registry[i]
		if reg.Prefix == "" {
			reg.Prefix = reg.Location
		}
		if reg.Prefix == "" {
			return nil, store.Invalid("%s: [[registry]] needs a prefix or a location", path)
		}
		reg.Prefix = strings.TrimSuffix(reg.Prefix, "/")
		if reg.Prefix == dockerHub {
			reg.Prefix = dockerHubName
		}
		if strings.HasPrefix(reg.Prefix, "*.") && reg.Location != "" {
			return nil, store.Invalid("%s: wildcard prefix %q cannot have a location", path, reg.Prefix)
		}
	}
	return &r, nil
}

// match finds the [[registry]] whose prefix matches repo ("docker.io/library/busybox")
// the longest, as registries.conf(5) says.
func (c *Registries) match(repo string) *Registry {
	var best *Registry
	bestLen := -1
	for i := range c.Registry {
		reg := &c.Registry[i]
		n := prefixMatch(reg.Prefix, repo)
		if n > bestLen {
			best, bestLen = reg, n
		}
	}
	return best
}

// prefixMatch returns how much of repo the prefix covers, or -1.
func prefixMatch(prefix, repo string) int {
	if host, ok := strings.CutPrefix(prefix, "*."); ok {
		h, _, _ := strings.Cut(repo, "/")
		if strings.HasSuffix(h, "."+host) {
			return len(prefix)
		}
		return -1
	}
	if repo == prefix || strings.HasPrefix(repo, prefix+"/") {
		return len(prefix)
	}
	return -1
}

// Endpoints lists where to fetch r from: its registry's mirrors in order,
// then its location (itself when no [[registry]] matches). A blocked
// registry is an error naming the reference.
func (c *Registries) Endpoints(r name.Reference) ([]Endpoint, error) {
	repo := repoName(r.Context())
	reg := c.match(repo)
	if reg == nil {
		return []Endpoint{{Ref: r, Insecure: false}}, nil
	}
	if reg.Blocked {
		return nil, store.Invalid("registry %s is blocked in %s: %s", reg.Prefix, RegistriesFile(), FamiliarName(Canonical(r)))
	}
	rest := strings.TrimPrefix(repo, reg.Prefix)
	var eps []Endpoint
	for _, m := range reg.Mirror {
		ep, err := rewrite(r, m.Location+rest, m.Insecure)
		if err != nil {
			return nil, err
		}
		eps = append(eps, ep)
	}
	loc := reg.Location
	if loc == "" || strings.HasPrefix(reg.Prefix, "*.") {
		loc = reg.Prefix
		rest = ""
		if strings.HasPrefix(loc, "*.") {
			loc = repo
		}
	}
	ep, err := rewrite(r, loc+rest, reg.Insecure)
	if err != nil {
		return nil, err
	}
	return append(eps, ep), nil
}

// rewrite points r at repository repo, keeping its tag or digest.
func rewrite(r name.Reference, repo string, insecure bool) (Endpoint, error) {
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	// A location of docker.io means Docker Hub's own layout: one-word
	// repositories live under library/.
	if rest, ok := strings.CutPrefix(repo, dockerHubName+"/"); ok && !strings.Contains(rest, "/") {
		repo = dockerHubName + "/library/" + rest
	}
	nr, err := name.ParseReference(repo+sep(r)+r.Identifier(), opts...)
	if err != nil {
		return Endpoint{}, store.Invalid("registries.conf rewrites %s to an invalid reference %q", Canonical(r), repo)
	}
	return Endpoint{Ref: nr, Insecure: insecure}, nil
}

// Candidates are the fully qualified references a user's ref may mean: the
// ref itself when it names a registry, else one per
// unqualified-search-registries entry (Docker Hub when there are none). An
// unparsable ref has none.
func Candidates(ref string) []name.Reference {
	r, err := Normalize(ref)
	if err != nil {
		return nil
	}
	if qualified(ref) {
		return []name.Reference{r}
	}
	conf, err := LoadRegistries()
	if err != nil || len(conf.UnqualifiedSearch) == 0 {
		return []name.Reference{r}
	}
	var out []name.Reference
	for _, reg := range conf.UnqualifiedSearch {
		if c, err := Normalize(reg + "/" + ref); err == nil {
			if reg == dockerHubName || reg == dockerHub {
				c = r
			}
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return []name.Reference{r}
	}
	return out
}

// qualified reports whether ref names its registry, as Docker decides: the
// first component has a dot or a colon, or is localhost.
func qualified(ref string) bool {
	first, _, ok := strings.Cut(ref, "/")
	return ok && (strings.ContainsAny(first, ".:") || first == "localhost")
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
