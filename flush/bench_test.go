package flush_test

import (
	"os"
	"testing"

	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/flush"
)

// BenchmarkDigestFile streams a buffer file into a digest: what a flush
// does before rendering. Set F2B_BENCH_FILE to a file from
// `go run ./internal/benchtool gen`; without it a small one is made.
func BenchmarkDigestFile(b *testing.B) {
	path := os.Getenv("F2B_BENCH_FILE")
	if path == "" {
		e := newEnv(b)
		for i := range 20000 {
			e.ban(b, "10.0."+itoa(i>>8&255)+"."+itoa(i&255), float64(1000+i))
		}
		path = e.buf.PendingPath()
	}
	cfg, _ := config.Defaults()
	for b.Loop() {
		d, err := flush.Digest(cfg, []string{path})
		if err != nil || d.Totals.Bans == 0 {
			b.Fatal(err)
		}
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}
