package engine

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// parseRun parses one RUN line as the builder would.
func parseRun(t *testing.T, src string) *instructions.RunCommand {
	t.Helper()
	ast, err := parser.Parse(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := instructions.ParseCommand(ast.AST.Children[0])
	if err != nil {
		t.Fatal(err)
	}
	return cmd.(*instructions.RunCommand)
}

func TestRunArgv(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		shell []string
		want  []string
	}{
		{"shell form", "RUN echo hi", nil, []string{"/bin/sh", "-c", "echo hi"}},
		{"exec form", `RUN ["echo", "hi"]`, nil, []string{"echo", "hi"}},
		{"SHELL", "RUN echo hi", []string{"/bin/bash", "-ec"}, []string{"/bin/bash", "-ec", "echo hi"}},
		{"heredoc script", "RUN <<EOF\necho a\necho b\nEOF\n", nil, []string{"/bin/sh", "-c", "echo a\necho b\n"}},
		{"heredoc in a command", "RUN cat <<EOF > /f\nx\nEOF\n", nil, []string{"/bin/sh", "-c", "cat <<EOF > /f\nx\nEOF"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := runArgv(&v1.Config{Shell: tt.shell}, parseRun(t, tt.src))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("runArgv = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestExposedPorts(t *testing.T) {
	tests := []struct {
		in      []string
		want    []string
		wantErr bool
	}{
		{[]string{"80"}, []string{"80/tcp"}, false},
		{[]string{"53/UDP", "8000-8002"}, []string{"53/udp", "8000/tcp", "8001/tcp", "8002/tcp"}, false},
		{[]string{"http"}, nil, true},
		{[]string{"9-3"}, nil, true},
		{[]string{"70000"}, nil, true},
	}
	for _, tt := range tests {
		got, err := exposedPorts(tt.in)
		if (err != nil) != tt.wantErr || (!tt.wantErr && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("exposedPorts(%q) = %q, %v", tt.in, got, err)
		}
	}
}

func TestGlobPrefix(t *testing.T) {
	for in, want := range map[string]string{
		"/out/*.txt": "/out", "/a/b/c": "/a/b/c", "/*": "/", "/a/b?/c": "/a",
	} {
		if got := globPrefix(in); got != want {
			t.Errorf("globPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestLayerLookup: the top layer wins, a whiteout or a file in place of a
// parent hides lower layers, an opaque directory hides their entries.
func TestLayerLookup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("whiteouts (0/0 char devices) need root")
	}
	base, mid, top := t.TempDir(), t.TempDir(), t.TempDir()
	write := func(dir, rel, data string) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(base, "a/x", "base")
	write(base, "a/y", "base")
	write(base, "gone", "base")
	write(base, "d/z", "base")
	write(base, "o/lower", "base")
	write(mid, "a/x", "mid")
	if err := syscall.Mknod(filepath.Join(mid, "gone"), syscall.S_IFCHR, 0); err != nil {
		t.Fatal(err)
	}
	write(top, "d", "a file over a dir")
	write(top, "o/upper", "top")
	if err := syscall.Setxattr(filepath.Join(top, "o"), "trusted.overlay.opaque", []byte("y"), 0); err != nil {
		t.Fatal(err)
	}
	layers := []string{base, mid, top}
	for _, tt := range []struct {
		path string
		want string // content, "" when hidden
	}{
		{"/a/x", "mid"}, {"/a/y", "base"}, {"/gone", ""}, {"/d/z", ""},
		{"/o/upper", "top"}, {"/o/lower", ""}, {"/nowhere", ""},
	} {
		host, _, ok := layerLookup(layers, tt.path)
		got := ""
		if ok {
			data, _ := os.ReadFile(host)
			got = string(data)
		}
		if got != tt.want {
			t.Errorf("%s: %q, want %q", tt.path, got, tt.want)
		}
	}
}
