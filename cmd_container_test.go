package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// runCLI runs skiff in-process against a private store.
func runCLI(t *testing.T, root string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	full := append([]string{"skiff", "--root", filepath.Join(root, "root"), "--runroot", filepath.Join(root, "run")}, args...)
	code := run(full, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCreateRejectsBadInput(t *testing.T) {
	root := t.TempDir()
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"create", "-v", "/a:rel", "img"}, "invalid volume specification: '/a:rel': mount path must be absolute"},
		{[]string{"create", "-v", "a:b:c:d", "img"}, "invalid volume specification: 'a:b:c:d'"},
		{[]string{"create", "--env-file", "/nonexistent/env", "img"}, "open /nonexistent/env: no such file or directory"},
		{[]string{"create", "-w", "rel", "img"}, "the working directory 'rel' is invalid"},
		{[]string{"create", "--tmpfs", "rel", "img"}, "mount path must be absolute"},
		{[]string{"create", "-m", "lots", "img"}, `invalid argument "lots" for "--memory" flag`},
		{[]string{"create", "-p", "x:80", "img"}, "invalid hostPort: x"},
		{[]string{"create"}, `"skiff create" requires at least 1 argument.`},
		{[]string{"create", "--name", "bad name", "img"}, "Invalid container name (bad name)"},
		{[]string{"create", "--network", "bridge0", "img"}, "network bridge0 not found"},
	}
	for _, tt := range tests {
		code, _, stderr := runCLI(t, root, tt.args...)
		if code != 125 || !strings.Contains(stderr, tt.msg) {
			t.Errorf("%v: exit %d, stderr %q; want 125 and %q", tt.args, code, stderr, tt.msg)
		}
	}
	// Nothing was written for any of them.
	if ents, _ := os.ReadDir(filepath.Join(root, "root", "containers")); len(ents) > 0 {
		for _, e := range ents {
			if e.Name() != "names" {
				t.Errorf("bad input left %s in the store", e.Name())
			}
		}
	}
}

func TestEnvAndLabels(t *testing.T) {
	dir := t.TempDir()
	envFile := filepath.Join(dir, "env")
	os.WriteFile(envFile, []byte("# comment\n\nA=1\nFROMHOST\nB=x,y\n"), 0o644)
	t.Setenv("FROMHOST", "h")
	os.Unsetenv("UNSET_VAR_FOR_TEST")
	env, err := ctrEnv([]string{envFile}, []string{"C=3", "UNSET_VAR_FOR_TEST", "A=override"})
	if err != nil {
		t.Fatal(err)
	}
	want := "A=1 FROMHOST=h B=x,y C=3 A=override"
	if got := strings.Join(env, " "); got != want {
		t.Errorf("env = %q, want %q", got, want)
	}
	labels, err := ctrLabels(nil, []string{"a=b", "c", "d=e=f"})
	if err != nil || labels["a"] != "b" || labels["c"] != "" || labels["d"] != "e=f" {
		t.Errorf("labels = %v, %v", labels, err)
	}
}

func TestPsEmptyAndVolumeLifecycle(t *testing.T) {
	root := t.TempDir()
	code, out, stderr := runCLI(t, root, "ps", "-a")
	if code != 0 || strings.TrimSpace(out) != "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES" {
		t.Errorf("ps -a on an empty store: %d %q %q", code, out, stderr)
	}
	if code, _, stderr := runCLI(t, root, "ps", "-f", "status=bogus"); code != 125 || !strings.Contains(stderr, "invalid filter 'status=bogus'") {
		t.Errorf("bad filter: %d %q", code, stderr)
	}
	if code, out, _ := runCLI(t, root, "volume", "create", "vol1"); code != 0 || out != "vol1\n" {
		t.Errorf("volume create: %d %q", code, out)
	}
	if code, out, _ := runCLI(t, root, "volume", "ls", "-q"); code != 0 || out != "vol1\n" {
		t.Errorf("volume ls -q: %d %q", code, out)
	}
	if code, out, _ := runCLI(t, root, "volume", "inspect", "-f", "{{.Name}} {{.Driver}}", "vol1"); code != 0 || out != "vol1 local\n" {
		t.Errorf("volume inspect: %d %q", code, out)
	}
	if code, _, stderr := runCLI(t, root, "volume", "rm", "nosuch"); code != 1 || !strings.Contains(stderr, "No such volume: nosuch") {
		t.Errorf("volume rm nosuch: %d %q", code, stderr)
	}
	if code, out, _ := runCLI(t, root, "volume", "rm", "vol1"); code != 0 || out != "vol1\n" {
		t.Errorf("volume rm: %d %q", code, out)
	}
	if code, _, stderr := runCLI(t, root, "rm", "nosuch"); code != 1 || !strings.Contains(stderr, "No such container: nosuch") {
		t.Errorf("rm nosuch: %d %q", code, stderr)
	}
	if code, out, stderr := runCLI(t, root, "rm", "-f", "nosuch"); code != 0 || out != "" || !strings.Contains(stderr, "No such container: nosuch") {
		t.Errorf("rm -f nosuch: %d %q %q (Docker says so on stderr and exits 0)", code, out, stderr)
	}
}

// TestAliasedListFlags: -e and --env (and -l/--label, -v/--volume) mix in
// one command, as Docker allows, and help still shows both spellings.
func TestAliasedListFlags(t *testing.T) {
	app := newApp(&bytes.Buffer{}, &bytes.Buffer{})
	var got []string
	cmd := *findCommand(t, app.Commands, "create")
	cmd.Action = func(c *cli.Context) error {
		got = append(append(ctrValues(c, "env"), ctrValues(c, "label")...), ctrValues(c, "volume")...)
		return nil
	}
	app.Commands = []*cli.Command{&cmd}
	err := app.Run([]string{"skiff", "create", "-e", "A=1,2", "--env", "B=2", "-l", "x=y", "--label", "z=w,v", "--volume", "/a:/b", "-v", "/c:/d", "img"})
	if want := "A=1,2 B=2 x=y z=w,v /a:/b /c:/d"; err != nil || strings.Join(got, " ") != want {
		t.Errorf("mixed flag spellings: %q, %v; want %q", got, err, want)
	}
	// Flags after positionals (interspersedArgs) know -f takes a value.
	if got := interspersedArgs(app, []string{"skiff", "create", "img", "-e", "X=1", "--label", "a=b", "-q"}); strings.Join(got, " ") != "skiff create img -e X=1 --label a=b -q" {
		t.Errorf("create keeps its arguments: %q", got)
	}
	if got := interspersedArgs(newApp(&bytes.Buffer{}, &bytes.Buffer{}), []string{"skiff", "ps", "-f", "status=exited", "-q"}); strings.Join(got, " ") != "skiff ps -f status=exited -q" {
		t.Errorf("ps -f VALUE: %q", got)
	}
	if help := (&aliasedFlag{GenericFlag: &cli.GenericFlag{Name: "env", Usage: "set `VAR`", Value: &ctrList{}}, aliases: []string{"e"}}).String(); !strings.Contains(help, "--env VAR, -e VAR") {
		t.Errorf("help line %q lacks the alias", help)
	}
}

func findCommand(t *testing.T, cmds []*cli.Command, name string) *cli.Command {
	t.Helper()
	for _, c := range cmds {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %s command", name)
	return nil
}
