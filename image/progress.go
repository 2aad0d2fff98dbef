package image

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// progress reports a pull layer by layer: live bars on a terminal, Docker's
// plain status lines otherwise, nothing when quiet.
type progress interface {
	layer(hex string, size int64) layerProgress
	wait()
}

type layerProgress interface {
	exists()
	reader(r io.Reader) io.Reader
	complete()
	fail()
}

func newProgress(out io.Writer, terminal bool) progress {
	switch {
	case out == nil:
		return noProgress{}
	case terminal:
		return &barProgress{p: mpb.New(mpb.WithOutput(out), mpb.WithWidth(40), mpb.WithAutoRefresh())}
	}
	return &lineProgress{out: out}
}

type noProgress struct{}

func (noProgress) layer(string, int64) layerProgress { return noProgress{} }
func (noProgress) wait()                             {}
func (noProgress) exists()                           {}
func (noProgress) reader(r io.Reader) io.Reader      { return r }
func (noProgress) complete()                         {}
func (noProgress) fail()                             {}

// lineProgress prints Docker's non-terminal lines, one event per line.
type lineProgress struct {
	mu  sync.Mutex
	out io.Writer
}

func (p *lineProgress) printf(format string, a ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.out, format, a...)
}

func (p *lineProgress) layer(hex string, _ int64) layerProgress {
	return &lineLayer{p: p, id: hex[:12]}
}
func (p *lineProgress) wait() {}

type lineLayer struct {
	p  *lineProgress
	id string
}

func (l *lineLayer) exists() { l.p.printf("%s: Already exists\n", l.id) }
func (l *lineLayer) reader(r io.Reader) io.Reader {
	l.p.printf("%s: Pulling fs layer\n", l.id)
	return &eofNotifier{r: r, fn: func() { l.p.printf("%s: Download complete\n", l.id) }}
}

// eofNotifier calls fn once, when r first reports io.EOF.
type eofNotifier struct {
	r    io.Reader
	fn   func()
	done bool
}

func (e *eofNotifier) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err == io.EOF && !e.done {
		e.done = true
		e.fn()
	}
	return n, err
}
func (l *lineLayer) complete() { l.p.printf("%s: Pull complete\n", l.id) }
func (l *lineLayer) fail()     {}

// barProgress draws one mpb bar per layer.
type barProgress struct{ p *mpb.Progress }

func (b *barProgress) layer(hex string, size int64) layerProgress {
	status := &atomic.Value{}
	status.Store("Waiting")
	// One more than the size: the proxy reader must not complete the bar
	// when the download ends, since unpacking and verifying come after.
	bar := b.p.AddBar(size+1,
		mpb.PrependDecorators(
			decor.Name(hex[:12]+": "),
			decor.Any(func(decor.Statistics) string { return status.Load().(string) }, decor.WCSyncSpaceR),
		),
		mpb.AppendDecorators(decor.OnComplete(decor.CountersKiloByte("% .1f / % .1f"), "")),
		mpb.BarFillerOnComplete(""),
	)
	return &barLayer{bar: bar, status: status}
}

func (b *barProgress) wait() { b.p.Wait() }

type barLayer struct {
	bar    *mpb.Bar
	status *atomic.Value
}

func (l *barLayer) exists() {
	l.status.Store("Already exists")
	l.bar.SetTotal(-1, true)
}
func (l *barLayer) reader(r io.Reader) io.Reader {
	l.status.Store("Downloading")
	pr, err := l.bar.ProxyReader(r)
	if err != nil {
		return r
	}
	return pr
}
func (l *barLayer) complete() {
	l.status.Store("Pull complete")
	l.bar.SetTotal(-1, true)
}
func (l *barLayer) fail() {
	l.status.Store("Failed")
	l.bar.Abort(false)
}
