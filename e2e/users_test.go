package e2e

// Test users for the rootless runs: skiffsub has subordinate id ranges,
// skiffnosub has none (skiff must fall back to a single mapping).

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// TestUser is an unprivileged account skiff runs as.
type TestUser struct {
	Name     string
	Uid, Gid int
	SubStart int // first subordinate uid/gid (0: none)
	SubCount int
}

// users maps a mode to its user; "root" maps to nil.
var users = map[string]*TestUser{"root": nil}

const (
	subStart = 200000
	subCount = 65536
)

// setupUsers creates the test users if missing and makes /etc/subuid and
// /etc/subgid say what the modes promise. Other suites may do the same at
// once, so it works under a lock and only appends what is missing.
func setupUsers() error {
	lock, err := os.OpenFile("/run/skiff-e2e-users.lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	for _, name := range []string{"skiffsub", "skiffnosub"} {
		u, err := ensureUser(name)
		if err != nil {
			return err
		}
		users[name] = u
	}
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		if err := dropSubIDs(f, "skiffnosub"); err != nil {
			return err
		}
		start, count, err := ensureSubIDs(f, "skiffsub")
		if err != nil {
			return err
		}
		users["skiffsub"].SubStart, users["skiffsub"].SubCount = start, count
	}
	return nil
}

// ensureUser creates a system account (so useradd adds no subordinate ids
// of its own) with its own group and no home.
func ensureUser(name string) (*TestUser, error) {
	if _, err := user.Lookup(name); err != nil {
		out, err := exec.Command("useradd", "--system", "--user-group", "--no-create-home",
			"--shell", "/bin/sh", name).CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("useradd %s: %v: %s", name, err, out)
		}
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &TestUser{Name: name, Uid: uid, Gid: gid}, nil
}

// ensureSubIDs returns name's range in file, appending subStart:subCount if
// it has none.
func ensureSubIDs(file, name string) (int, int, error) {
	entries, err := readSubIDs(file)
	if err != nil {
		return 0, 0, err
	}
	for _, e := range entries {
		if e[0] == name {
			s, _ := strconv.Atoi(e[1])
			c, _ := strconv.Atoi(e[2])
			return s, c, nil
		}
	}
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "%s:%d:%d\n", name, subStart, subCount)
	return subStart, subCount, err
}

// dropSubIDs removes every range of name from file.
func dropSubIDs(file, name string) error {
	data, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var keep []string
	changed := false
	for _, l := range strings.SplitAfter(string(data), "\n") {
		if strings.HasPrefix(l, name+":") {
			changed = true
			continue
		}
		keep = append(keep, l)
	}
	if !changed {
		return nil
	}
	tmp := file + ".skiff-e2e"
	if err := os.WriteFile(tmp, []byte(strings.Join(keep, "")), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, file)
}

func readSubIDs(file string) ([][]string, error) {
	f, err := os.Open(file)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if p := strings.Split(strings.TrimSpace(sc.Text()), ":"); len(p) == 3 {
			out = append(out, p)
		}
	}
	return out, sc.Err()
}
