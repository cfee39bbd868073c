package flush_test

import (
	"os"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
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

// BenchmarkDigestManyBatches digests 3,000 batches of 10 bans each, with a
// log line each: the backlog of a channel that has been down for a while.
func BenchmarkDigestManyBatches(b *testing.B) {
	e := newEnv(b)
	var paths []string
	for i := range 3000 {
		for k := range 10 {
			n := i*10 + k
			ip := "10.1." + itoa(n>>8&255) + "." + itoa(n&255)
			r := &buffer.Record{V: 1, Action: buffer.ActionBan, Jail: "sshd", IP: ip, Time: float64(1000 + n), Failures: 2,
				User: "root", Matches: []string{"Nov 25 17:36:52 vm sshd[1001]: Invalid user root from " + ip + " port 22"}}
			if err := e.buf.Append(r); err != nil {
				b.Fatal(err)
			}
		}
		batches, err := e.buf.Claim(time.Unix(0, int64(i+1)))
		if err != nil {
			b.Fatal(err)
		}
		paths = append(paths, buffer.Paths(batches)...)
	}
	cfg, _ := config.Defaults()
	b.ResetTimer()
	for b.Loop() {
		d, err := flush.Digest(cfg, paths)
		if err != nil || d.Totals.Bans != 30000 {
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
