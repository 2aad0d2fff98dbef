package engine

import "testing"

func TestParseInvocation(t *testing.T) {
	tests := []struct {
		args    []string
		verb    string
		root    string
		runroot string
		inNS    bool
	}{
		{[]string{"skiff", "pull", "busybox"}, "pull", "", "", true},
		{[]string{"skiff", "--root", "/r", "--runroot=/rr", "rm", "-f", "x"}, "rm", "/r", "/rr", true},
		{[]string{"skiff", "container", "rm", "x"}, "rm", "", "", true},
		{[]string{"skiff", "image", "prune", "-a"}, "prune", "", "", true},
		{[]string{"skiff", "system", "prune"}, "prune", "", "", true},
		{[]string{"skiff", "system", "info"}, "info", "", "", false},
		{[]string{"skiff", "ps", "-a"}, "ps", "", "", false},
		{[]string{"skiff", "ps", "-as"}, "ps", "", "", true},
		{[]string{"skiff", "container", "ls", "--size"}, "ls", "", "", true},
		{[]string{"skiff", "inspect", "-s", "c"}, "inspect", "", "", true},
		{[]string{"skiff", "system", "df"}, "df", "", "", true},
		{[]string{"skiff", "exec", "c", "rm", "/x"}, "exec", "", "", false},
		{[]string{"skiff", "run", "-h", "host", "busybox"}, "run", "", "", true},
		{[]string{"skiff", "run", "--help"}, "run", "", "", true},
		{[]string{"skiff", "--log-level", "debug", "build", "."}, "build", "", "", true},
		{[]string{"skiff", "--version"}, "", "", "", false},
		{[]string{"skiff"}, "", "", "", false},
		{[]string{"skiff", "unshare", "ls", "-l"}, "unshare", "", "", true},
	}
	for _, tt := range tests {
		verb, flags := parseInvocation(tt.args)
		if verb != tt.verb || flags["--root"] != tt.root || flags["--runroot"] != tt.runroot {
			t.Errorf("parseInvocation(%q) = %q %v, want %q root %q runroot %q", tt.args, verb, flags, tt.verb, tt.root, tt.runroot)
		}
		if got := usernsCommands[verb] || sizeCommands[verb] && wantsSizes(tt.args); got != tt.inNS {
			t.Errorf("%q: in the user namespace = %v, want %v", tt.args, got, tt.inNS)
		}
	}
}
