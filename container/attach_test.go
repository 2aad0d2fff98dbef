package container

import (
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFrameRoundTrip(t *testing.T) {
	frames := []struct {
		typ byte
		p   []byte
	}{
		{FrameStdout, []byte("hello\n")},
		{FrameStderr, nil},
		{FrameResize, resizePayload(24, 80)},
		{FrameExit, uint32Payload(0xffffffff)},
		{FrameStdin, bytes.Repeat([]byte{'x'}, 100000)},
	}
	var buf bytes.Buffer
	for _, f := range frames {
		if err := WriteFrame(&buf, f.typ, f.p); err != nil {
			t.Fatal(err)
		}
	}
	if got := buf.Bytes()[:8]; !bytes.Equal(got, []byte{1, 0, 0, 0, 0, 0, 0, 6}) {
		t.Errorf("header %v, want stdcopy's shape", got)
	}
	scratch := make([]byte, 16)
	for _, f := range frames {
		typ, p, err := ReadFrame(&buf, scratch)
		if err != nil {
			t.Fatal(err)
		}
		if typ != f.typ || !bytes.Equal(p, f.p) {
			t.Errorf("frame %d: got %d %q", f.typ, typ, p)
		}
	}
	if _, _, err := ReadFrame(&buf, nil); err != io.EOF {
		t.Errorf("after the last frame: %v, want EOF", err)
	}
	if rows, cols, ok := parseResize(resizePayload(50, 132)); !ok || rows != 50 || cols != 132 {
		t.Errorf("resize %d %d %v", rows, cols, ok)
	}
}

func TestReadFrameErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		{"short header", []byte{1, 0, 0}},
		{"short payload", []byte{1, 0, 0, 0, 0, 0, 0, 5, 'a'}},
		{"too large", []byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}},
	}
	for _, tt := range tests {
		if _, _, err := ReadFrame(bytes.NewReader(tt.in), nil); err == nil || err == io.EOF {
			t.Errorf("%s: err %v", tt.name, err)
		}
	}
	if err := WriteFrame(io.Discard, FrameStdout, make([]byte, maxFrame+1)); err == nil {
		t.Error("oversized frame written")
	}
}

func TestParseDetachKeys(t *testing.T) {
	tests := []struct {
		in   string
		want []byte
		bad  bool
	}{
		{"", []byte{16, 17}, false},
		{"ctrl-p,ctrl-q", []byte{16, 17}, false},
		{"ctrl-a", []byte{1}, false},
		{"ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_", []byte{0, 27, 28, 29, 30, 31}, false},
		{"e,x,i,t,@", []byte("exit@"), false},
		{"X,ctrl-z", []byte{'X', 26}, false},
		{"ctrl-", nil, true},
		{"ctrl-A", nil, true},
		{"ctrl-1", nil, true},
		{"ab", nil, true},
		{"a,,b", nil, true},
	}
	for _, tt := range tests {
		got, err := ParseDetachKeys(tt.in)
		if (err != nil) != tt.bad || !bytes.Equal(got, tt.want) {
			t.Errorf("ParseDetachKeys(%q) = %v, %v", tt.in, got, err)
		}
		if err != nil && !strings.Contains(err.Error(), "Invalid detach keys") {
			t.Errorf("ParseDetachKeys(%q): message %q", tt.in, err)
		}
	}
}

func TestDetachFilter(t *testing.T) {
	keys := []byte{16, 17}
	tests := []struct {
		name   string
		chunks []string
		want   string
		detach bool
	}{
		{"plain", []string{"ls\n"}, "ls\n", false},
		{"sequence", []string{"ab\x10\x11cd"}, "ab", true},
		{"split across reads", []string{"ab\x10", "\x11"}, "ab", true},
		{"broken sequence passes through", []string{"a\x10b"}, "a\x10b", false},
		{"held byte released next read", []string{"a\x10", "b"}, "a\x10b", false},
		{"repeated first key", []string{"\x10\x10\x11"}, "\x10", true},
	}
	for _, tt := range tests {
		f := &detachFilter{keys: keys}
		var out []byte
		detached := false
		for _, c := range tt.chunks {
			o, d := f.feed([]byte(c))
			out = append(out, o...)
			if d {
				detached = true
				break
			}
		}
		if string(out) != tt.want || detached != tt.detach {
			t.Errorf("%s: got %q detach=%v", tt.name, out, detached)
		}
	}
}

// TestAttachConn drives the client against a scripted supervisor end.
func TestAttachConn(t *testing.T) {
	cli, srv := net.Pipe()
	defer srv.Close()
	go func() {
		typ, p, err := ReadFrame(srv, nil)
		if err != nil || typ != FrameHello || !strings.Contains(string(p), `"Stdout":true`) {
			srv.Close()
			return
		}
		WriteFrame(srv, FrameStdout, []byte("out"))
		WriteFrame(srv, FrameStderr, []byte("err"))
		WriteFrame(srv, FrameExit, uint32Payload(3))
	}()
	var out, errb bytes.Buffer
	code, err := attachConn(cli, nil, AttachOptions{Stdout: &out, Stderr: &errb})
	if err != nil || code != 3 || out.String() != "out" || errb.String() != "err" {
		t.Fatalf("code %d err %v out %q stderr %q", code, err, out.String(), errb.String())
	}
}

// TestLongSocketPath binds and dials a socket whose path overflows
// sun_path, as a run root under /run/user/<uid> or a test temp dir does.
func TestLongSocketPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 60), strings.Repeat("e", 64))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, AttachSocket)
	ln, err := listenSocket(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("socket not at its real path: %v", err)
	}
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Write([]byte("x"))
			c.Close()
		}
	}()
	conn, err := dialSocket(path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	b := make([]byte, 1)
	if _, err := io.ReadFull(conn, b); err != nil || b[0] != 'x' {
		t.Fatalf("read %q, %v", b, err)
	}
}

// TestAttachDetachKeys: with a tty the detach keys end the session and
// what came before them reaches the container; without one they are data.
func TestAttachDetachKeys(t *testing.T) {
	for _, tty := range []bool{true, false} {
		cli, srv := net.Pipe()
		got := make(chan string, 1)
		go func() {
			defer srv.Close()
			var in []byte
			for {
				typ, p, err := ReadFrame(srv, nil)
				if err != nil {
					got <- string(in)
					return
				}
				switch typ {
				case FrameStdin:
					in = append(in, p...)
				case FrameCloseStdin:
					got <- string(in)
					WriteFrame(srv, FrameExit, uint32Payload(0))
					return
				}
			}
		}()
		_, err := attachConn(cli, nil, AttachOptions{Stdin: strings.NewReader("ls\x10\x11more"), Stdout: io.Discard, Tty: tty})
		cli.Close() // as dialSession does once attachConn returns
		in := <-got
		if tty && (err != ErrDetached || in != "ls") {
			t.Errorf("tty: err %v, container got %q", err, in)
		}
		if !tty && (err != nil || in != "ls\x10\x11more") {
			t.Errorf("no tty: err %v, container got %q", err, in)
		}
	}
}
