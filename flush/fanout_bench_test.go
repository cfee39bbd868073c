package flush_test

import (
	"context"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/flush"
	"github.com/f2b-notify/f2b-notify/render"
)

// slowChannel answers after delay, or hangs until its attempt times out.
type slowChannel struct {
	memChannel
	delay time.Duration
	hang  bool
}

func (s *slowChannel) Send(ctx context.Context, subject, body string) error {
	if s.hang {
		<-ctx.Done()
		return ctx.Err()
	}
	select {
	case <-time.After(s.delay):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// BenchmarkFanOut: six channels that each answer after 200 ms, one of them
// hanging to its 1 s timeout. The flush takes about as long as the slowest
// channel, not the sum: the metrics are the flush's time over the slowest
// channel's, and over the sum of all.
func BenchmarkFanOut(b *testing.B) {
	e := newEnv(b)
	var tg []*render.Target
	for i, name := range []string{"a", "b", "c", "d", "e", "hang"} {
		ch := &slowChannel{memChannel: memChannel{name: name}, delay: 200 * time.Millisecond, hang: i == 5}
		t, err := render.NewTarget(ch, config.Channel{Type: "slow", Timeout: time.Second, Retries: new(int)}, time.UTC)
		if err != nil {
			b.Fatal(err)
		}
		tg = append(tg, t)
	}
	var total time.Duration
	for b.Loop() {
		e.ban(b, "192.0.2.1", float64(time.Now().UnixNano()))
		start := time.Now()
		res, err := flush.Run(context.Background(), e.cfg, tg, flush.Options{})
		total += time.Since(start)
		if err != nil || len(res.Failed()) != 1 {
			b.Fatalf("%v %+v", err, res)
		}
	}
	per := total / time.Duration(b.N)
	b.ReportMetric(per.Seconds()/1.0, "x_slowest")     // slowest: the 1 s timeout
	b.ReportMetric(per.Seconds()/(5*0.2+1.0), "x_sum") // sum: 5 × 200 ms + 1 s
}
