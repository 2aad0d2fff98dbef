package image

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkUnpack unpacks a ~100 MB layer shaped like a distro image: many
// small files in nested directories and a few large ones.
func BenchmarkUnpack(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	blob := make([]byte, 8<<20)
	for i := range blob {
		blob[i] = byte(rng.Uint32())
	}
	var ents []upEnt
	total := 0
	for d := 0; total < 100<<20; d++ {
		dir := fmt.Sprintf("usr/lib/pkg%03d/", d)
		ents = append(ents, upDir(dir))
		for f := 0; f < 40 && total < 100<<20; f++ {
			size := 512 + rng.IntN(64<<10)
			if f == 0 && d%10 == 0 {
				size = 4 << 20
			}
			off := rng.IntN(len(blob) - size)
			ents = append(ents, upFile(fmt.Sprintf("%sf%02d", dir, f), string(blob[off:off+size])))
			total += size
		}
		ents = append(ents, upSymlink(dir+"link", "f00"))
	}
	data := upTar(b, ents...)
	b.SetBytes(int64(total))
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		dir := filepath.Join(b.TempDir(), fmt.Sprint(i))
		if _, err := Unpack(bytes.NewReader(data), dir, UnpackOptions{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		os.RemoveAll(dir)
		b.StartTimer()
	}
}
