package container

import (
	"regexp"
	"strings"
	"testing"
)

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		id := NewID()
		if !validID(id) {
			t.Fatalf("NewID() = %q: not 64 lowercase hex", id)
		}
		if regexp.MustCompile(`^[0-9]{12}`).MatchString(id) {
			t.Fatalf("NewID() = %q: short id is all digits", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestGenerateName(t *testing.T) {
	re := regexp.MustCompile(`^[a-z]+_[a-z]+[0-9]?$`)
	for i := 0; i < 100; i++ {
		n := GenerateName(nil)
		if !re.MatchString(n) || ValidateName(n) != nil {
			t.Fatalf("GenerateName() = %q", n)
		}
		if n == "boring_wozniak" {
			t.Fatal("boring_wozniak")
		}
	}
	// When every plain name is taken, a digit is appended.
	n := GenerateName(func(s string) bool { return !strings.ContainsAny(s, "0123456789") })
	if !regexp.MustCompile(`[0-9]$`).MatchString(n) {
		t.Fatalf("GenerateName with all plain names taken = %q", n)
	}
	if len(adjectives) < 100 || len(surnames) < 100 {
		t.Errorf("word lists too short: %d adjectives, %d surnames", len(adjectives), len(surnames))
	}
}

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"web", true}, {"my-app.1_x", true}, {"a", false}, {"", false},
		{"-web", false}, {"we/b", false}, {"we b", false}, {"_x", false}, {"9lives", true},
	}
	for _, tt := range tests {
		if err := ValidateName(tt.name); (err == nil) != tt.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}
