package main

import (
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestInterspersedArgs(t *testing.T) {
	app := newApp(io.Discard, io.Discard)
	tests := []struct{ in, want string }{
		{"skiff rmi busybox -f", "skiff rmi -f busybox"},
		{"skiff inspect web --format {{.Id}}", "skiff inspect --format {{.Id}} web"},
		{"skiff --root /r images busybox -q", "skiff --root /r images -q busybox"},
		{"skiff image inspect a -f x b", "skiff image inspect -f x a b"},
		{"skiff logs web --tail 3 -f", "skiff logs --tail 3 -f web"},
		{"skiff rm a -- -b", "skiff rm a -- -b"},
		// The container's command keeps its flags, as in Docker.
		{"skiff run --rm busybox ls -l", "skiff run --rm busybox ls -l"},
		{"skiff exec web ps -ef", "skiff exec web ps -ef"},
		{"skiff container run busybox sh -c x", "skiff container run busybox sh -c x"},
		{"skiff nosuchcommand a -b", "skiff nosuchcommand a -b"},
	}
	for _, tt := range tests {
		got := interspersedArgs(app, strings.Fields(tt.in))
		if want := strings.Fields(tt.want); !reflect.DeepEqual(got, want) {
			t.Errorf("%q:\n got %q\nwant %q", tt.in, got, want)
		}
	}
}
