package isolate

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps isolate a small OCI runtime: besides the standard
// library it may use only these (design.md's layering rule).
func TestImports(t *testing.T) {
	allowed := []string{
		"github.com/skiff-dev/skiff/isolate",
		"github.com/opencontainers/runtime-spec/",
		"golang.org/x/sys/",
		"golang.org/x/net/bpf", // classic BPF assembler for seccomp
		"github.com/moby/sys/mountinfo",
		"github.com/moby/sys/capability",
	}
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for dep := range strings.FieldsSeq(string(out)) {
		ok := false
		for _, a := range allowed {
			ok = ok || dep == a || strings.HasPrefix(dep, a)
		}
		if !ok {
			t.Errorf("isolate depends on %s", dep)
		}
	}
}
