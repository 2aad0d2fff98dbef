package engine

import "testing"

func TestSplitCopyArg(t *testing.T) {
	for _, tc := range []struct{ arg, ctr, path string }{
		{"web:/etc/hosts", "web", "/etc/hosts"},
		{"web:", "web", ""},
		{"/tmp/a:b", "", "/tmp/a:b"},
		{"./x:y", "", "./x:y"},
		{"dir/file:1", "", "dir/file:1"},
		{"plain", "", "plain"},
		{"-", "", "-"},
	} {
		ctr, p := SplitCopyArg(tc.arg)
		if ctr != tc.ctr || p != tc.path {
			t.Errorf("SplitCopyArg(%q) = %q, %q; want %q, %q", tc.arg, ctr, p, tc.ctr, tc.path)
		}
	}
}
