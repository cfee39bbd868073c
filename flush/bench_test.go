package flush_test

import (
	"context"
	"errors"
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

// BenchmarkRun is one whole flush of 200 bans in 20 batches to four
// channels: two plain, one splitting its report into 1,500-character
// messages (a ledger record per message) and one failing (its bans kept, a
// missed report recorded). The batches the failing channel keeps are
// deleted between flushes, so each one claims, digests, renders, sends,
// settles the ledger and sweeps the same amount.
func BenchmarkRun(b *testing.B) {
	e := newEnv(b)
	tg := targets(b, &memChannel{name: "a"}, &memChannel{name: "b"},
		&limited{memChannel: memChannel{name: "chat"}, limit: 1500, split: true},
		&memChannel{name: "down", fail: errors.New("connection refused")})
	n := 0
	for b.Loop() {
		b.StopTimer()
		for range 20 {
			for range 10 {
				n++
				e.ban(b, "10.2."+itoa(n>>8&255)+"."+itoa(n&255), float64(1000+n))
			}
			if _, err := e.buf.Claim(time.Now()); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		res, err := flush.Run(context.Background(), e.cfg, tg, flush.Options{})
		if err != nil || len(res.Failed()) != 1 || res.Channels[2].Err != nil || res.Channels[1].Batches != 20 {
			b.Fatalf("%v %+v", err, res)
		}
		b.StopTimer()
		kept, err := e.buf.Batches()
		if err != nil {
			b.Fatal(err)
		}
		for _, k := range kept {
			if err := e.buf.RemoveBatch(k.ID); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
	}
}
