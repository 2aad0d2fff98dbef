package container

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/skiff-dev/skiff/store"
)

// ExecUser is a -u value resolved against the container's /etc/passwd
// and /etc/group, as runc's GetExecUser does.
type ExecUser struct {
	UID, GID       uint32
	AdditionalGids []uint32
	Home           string
}

// rootfsFile opens path as the container will see it: the overlay upper
// dir first, then the layers top-down. A whiteout (a 0/0 char device)
// hides the file. Reading the layers directly avoids mounting the rootfs.
func rootfsFile(r Rootfs, path string) (*os.File, error) {
	dirs := []string{}
	if r.UpperDir != "" {
		dirs = append(dirs, r.UpperDir)
	}
	for i := len(r.LowerDirs) - 1; i >= 0; i-- {
		dirs = append(dirs, r.LowerDirs[i])
	}
	for _, d := range dirs {
		p := filepath.Join(d, path)
		fi, err := os.Lstat(p)
		if err != nil {
			continue
		}
		if fi.Mode()&os.ModeCharDevice != 0 || !fi.Mode().IsRegular() {
			break // a whiteout, or a symlink we do not follow out of the layer
		}
		return os.Open(p)
	}
	return nil, os.ErrNotExist
}

type passwdEntry struct {
	name     string
	uid, gid uint32
	home     string
}

type groupEntry struct {
	name    string
	gid     uint32
	members []string
}

func parseColonFile(r io.Reader, minFields int, fn func([]string)) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Split(line, ":")
		if len(f) >= minFields {
			fn(f)
		}
	}
}

func parsePasswd(r io.Reader) []passwdEntry {
	var out []passwdEntry
	parseColonFile(r, 6, func(f []string) {
		uid, err1 := strconv.ParseUint(f[2], 10, 32)
		gid, err2 := strconv.ParseUint(f[3], 10, 32)
		if err1 == nil && err2 == nil {
			out = append(out, passwdEntry{f[0], uint32(uid), uint32(gid), f[5]})
		}
	})
	return out
}

func parseGroup(r io.Reader) []groupEntry {
	var out []groupEntry
	parseColonFile(r, 3, func(f []string) {
		gid, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			return
		}
		var members []string
		if len(f) > 3 && f[3] != "" {
			members = strings.Split(f[3], ",")
		}
		out = append(out, groupEntry{f[0], uint32(gid), members})
	})
	return out
}

// resolveUserGroups is ResolveUser plus --group-add: group names (from
// the container's /etc/group) or ids, added to the supplementary groups.
func resolveUserGroups(r Rootfs, spec string, add []string) (*ExecUser, error) {
	u, err := ResolveUser(r, spec)
	if err != nil || len(add) == 0 {
		return u, err
	}
	var groups []groupEntry
	if f, err := rootfsFile(r, "/etc/group"); err == nil {
		groups = parseGroup(f)
		f.Close()
	}
	for _, g := range add {
		gid, err := resolveGroup(g, groups)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(u.AdditionalGids, gid) {
			u.AdditionalGids = append(u.AdditionalGids, gid)
		}
	}
	return u, nil
}

// ResolveUser resolves spec ("", user, uid, user:group, uid:gid) against
// the container's rootfs.
func ResolveUser(r Rootfs, spec string) (*ExecUser, error) {
	var passwd []passwdEntry
	var groups []groupEntry
	if f, err := rootfsFile(r, "/etc/passwd"); err == nil {
		passwd = parsePasswd(f)
		f.Close()
	}
	if f, err := rootfsFile(r, "/etc/group"); err == nil {
		groups = parseGroup(f)
		f.Close()
	}
	return resolveUser(spec, passwd, groups)
}

func resolveUser(spec string, passwd []passwdEntry, groups []groupEntry) (*ExecUser, error) {
	u := &ExecUser{Home: "/"}
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	if userPart == "" {
		userPart = "0"
	}
	var name string
	found := false
	n, numErr := strconv.ParseUint(userPart, 10, 32)
	for _, p := range passwd {
		if (numErr == nil && p.uid == uint32(n)) || (numErr != nil && p.name == userPart) {
			u.UID, u.GID, u.Home, name, found = p.uid, p.gid, p.home, p.name, true
			break
		}
	}
	if !found {
		if numErr != nil {
			return nil, store.Invalid("unable to find user %s: no matching entries in passwd file", userPart)
		}
		u.UID = uint32(n)
	}
	if hasGroup && groupPart != "" {
		g, err := resolveGroup(groupPart, groups)
		if err != nil {
			return nil, err
		}
		u.GID = g
	} else if name != "" {
		// Supplementary groups: those listing the user by name, as runc does
		// when no group is forced.
		for _, g := range groups {
			for _, m := range g.members {
				if m == name && g.gid != u.GID {
					u.AdditionalGids = append(u.AdditionalGids, g.gid)
				}
			}
		}
	}
	if u.Home == "" {
		u.Home = "/"
	}
	return u, nil
}

func resolveGroup(spec string, groups []groupEntry) (uint32, error) {
	n, numErr := strconv.ParseUint(spec, 10, 32)
	for _, g := range groups {
		if (numErr == nil && g.gid == uint32(n)) || (numErr != nil && g.name == spec) {
			return g.gid, nil
		}
	}
	if numErr != nil {
		return 0, store.Invalid("unable to find group %s: no matching entries in group file", spec)
	}
	return uint32(n), nil
}

func (u *ExecUser) String() string { return fmt.Sprintf("%d:%d", u.UID, u.GID) }
