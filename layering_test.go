package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering enforces design.md's import rules from `go list -deps`, so the
// package shape cannot drift unnoticed: arrows only point down
// main -> engine -> {image, container} -> {store, isolate}.
func TestLayering(t *testing.T) {
	const mod = "github.com/skiff-dev/skiff"
	forbidden := map[string][]string{
		"store":     {"image", "container", "isolate", "engine"},
		"isolate":   {"store", "image", "container", "engine"},
		"image":     {"container", "isolate", "engine"},
		"container": {"image", "engine"},
		"e2e":       {},
		"engine":    {},
	}
	for pkg, bad := range forbidden {
		t.Run(pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "-test=false", "./"+pkg).Output()
			if err != nil {
				t.Fatalf("go list %s: %v", pkg, err)
			}
			deps := strings.Fields(string(out))
			for _, d := range deps {
				for _, b := range bad {
					if d == mod+"/"+b || strings.HasPrefix(d, mod+"/"+b+"/") {
						t.Errorf("%s imports %s: against design.md's layering", pkg, d)
					}
				}
			}
		})
	}
	// Only main may import engine.
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] == mod {
			continue
		}
		for _, imp := range f[1:] {
			if imp == mod+"/engine" {
				t.Errorf("%s imports engine; only main may", f[0])
			}
		}
	}
}

// TestThirdPartyImports keeps the bottom packages small: isolate a
// self-contained OCI runtime (stdlib, runtime-spec, x/sys, mountinfo and
// the small capability/seccomp libraries), store stdlib (and x/sys) only (design.md).
func TestThirdPartyImports(t *testing.T) {
	allowed := map[string][]string{
		"./isolate": {
			"github.com/opencontainers/runtime-spec/",
			"golang.org/x/sys/",
			"golang.org/x/net/bpf", // seccomp filters are assembled with its BPF assembler
			"github.com/moby/sys/mountinfo",
			"github.com/moby/sys/capability",
			"github.com/elastic/go-seccomp-bpf",
			"github.com/moby/profiles/seccomp",
		},
		"./store": {"golang.org/x/sys/"}, // the Go project's own syscall package
	}
	for pkg, prefixes := range allowed {
		out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, imp := range strings.Fields(string(out)) {
			if !strings.Contains(strings.SplitN(imp, "/", 2)[0], ".") {
				continue // stdlib
			}
			ok := false
			for _, a := range prefixes {
				if strings.HasPrefix(imp, a) {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s imports %s, which design.md does not allow it", pkg, imp)
			}
		}
	}
}
