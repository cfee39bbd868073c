package flush_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/flush"
)

// flaky is a splitting channel whose sends fail from call number failFrom
// on (counted from 1; 0: none fails).
type flaky struct {
	limited
	mu       sync.Mutex
	calls    int
	failFrom int
}

func (f *flaky) Send(ctx context.Context, subject, body string) error {
	f.mu.Lock()
	f.calls++
	fail := f.failFrom > 0 && f.calls >= f.failFrom
	f.mu.Unlock()
	if fail {
		return errors.New("503 Service Unavailable")
	}
	return f.limited.Send(ctx, subject, body)
}

func (f *flaky) failFromCall(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls, f.failFrom = 0, n
}

// TestSplitReportCutOffIsFinishedNotRepeated: a flush whose split report
// fails at message 3 leaves messages 1 and 2 delivered. The next flush sends
// messages 3 to the end as they were written, then a report of what came
// since; no ban reaches the channel twice.
func TestSplitReportCutOffIsFinishedNotRepeated(t *testing.T) {
	e := newEnv(t)
	ch := &flaky{limited: limited{memChannel: memChannel{name: "chat"}, limit: 1500, split: true}}
	tg := targets(t, ch)
	var ips []string
	for i := range 60 {
		ip := fmt.Sprintf("10.1.1.%d", 100+i)
		ips = append(ips, ip)
		e.ban(t, ip, float64(1000+i))
	}

	ch.failFromCall(3)
	res := e.run(t, tg, flush.Options{})
	if res.Channels[0].Err == nil || !strings.Contains(res.Channels[0].Err.Error(), "message 3 of") {
		t.Fatalf("want the flush to fail at message 3: %+v", res.Channels[0])
	}
	l, err := e.buf.LoadLedger()
	if err != nil {
		t.Fatal(err)
	}
	p := l.Channel("chat").Partial
	if p == nil || p.Sent != 2 || len(p.Pages) < 4 || len(p.Batches) != 1 {
		t.Fatalf("ledger after the cut: %+v", p)
	}
	if got := ch.received(); len(got) != 2 {
		t.Fatalf("%d messages delivered before the failure, want 2", len(got))
	}
	if b, _ := e.buf.Batches(); len(b) != 1 {
		t.Fatalf("the half-sent batch is gone: %v", b)
	}

	// A new ban arrives; the channel is back.
	const later = "192.0.2.200"
	e.ban(t, later, 5000)
	ch.failFromCall(0)
	res = e.run(t, tg, flush.Options{})
	if c := res.Channels[0]; c.Err != nil || c.Resumed != len(p.Pages)-2 || c.Batches != 1 {
		t.Fatalf("second flush: %+v, want %d messages resumed and 1 new batch", c, len(p.Pages)-2)
	}
	got := ch.received()
	rest := got[2:len(p.Pages)]
	for i, body := range rest {
		if want := p.Subject + "\n" + p.Pages[2+i]; body != want {
			t.Errorf("resumed message %d is not message %d of the cut report:\n%s", i+1, i+3, body)
		}
	}
	news := got[len(p.Pages):]
	if len(news) != 1 || !strings.Contains(news[0], later) {
		t.Fatalf("after the rest, want one report of the new ban; got %q", news)
	}
	for _, ip := range ips {
		if n := count(got, ip); n != 1 {
			t.Errorf("%s reached the channel %d times, want once", ip, n)
		}
		if strings.Contains(news[0], ip) {
			t.Errorf("the new report repeats %s", ip)
		}
	}
	if l, _ = e.buf.LoadLedger(); l.Channel("chat").Partial != nil {
		t.Errorf("the finished report is still in the ledger")
	}
	if b, _ := e.buf.Batches(); len(b) != 0 {
		t.Errorf("spool not empty: %v", b)
	}
}

// TestSplitReportCutOffAgainGoesOnFromThere: the rest fails again part way;
// the ledger moves on with it, and the new bans wait behind it.
func TestSplitReportCutOffAgainGoesOnFromThere(t *testing.T) {
	e := newEnv(t)
	ch := &flaky{limited: limited{memChannel: memChannel{name: "chat"}, limit: 1500, split: true}}
	tg := targets(t, ch)
	for i := range 60 {
		e.ban(t, fmt.Sprintf("10.1.1.%d", 100+i), float64(1000+i))
	}
	ch.failFromCall(2)
	e.run(t, tg, flush.Options{})
	e.ban(t, "192.0.2.200", 5000)
	ch.failFromCall(2) // message 2 goes, message 3 fails
	res := e.run(t, tg, flush.Options{})
	if c := res.Channels[0]; c.Err == nil || c.Resumed != 1 {
		t.Fatalf("second flush: %+v, want it to fail after one resumed message", c)
	}
	l, _ := e.buf.LoadLedger()
	p := l.Channel("chat").Partial
	if p == nil || p.Sent != 2 {
		t.Fatalf("ledger: %+v, want 2 messages delivered", p)
	}
	if got := ch.received(); len(got) != 2 || count(got, "192.0.2.200") != 0 {
		t.Fatalf("delivered %d messages (%d with the new ban): the new report went before the old one was out", len(got), count(got, "192.0.2.200"))
	}
	ch.failFromCall(0)
	e.run(t, tg, flush.Options{})
	got := ch.received()
	if len(got) != len(p.Pages)+1 || count(got, "192.0.2.200") != 1 {
		t.Fatalf("%d messages in all for a %d-message report and a new one", len(got), len(p.Pages))
	}
	if !slices.Equal(got[:len(p.Pages)], prefixed(p.Subject, p.Pages)) {
		t.Errorf("the report did not arrive whole, once, in order")
	}
}

// TestPartialInAnotherFormatIsSentWholeAgain: the channel's format changed
// since the report was cut (its type was changed in the configuration); the
// rest cannot be sent as it was written, so the report goes out again whole.
func TestPartialInAnotherFormatIsSentWholeAgain(t *testing.T) {
	e := newEnv(t)
	ch := &memChannel{name: "chat"}
	tg := targets(t, ch)
	e.ban(t, "10.1.1.100", 1000)
	if _, err := e.buf.Claim(time.Now()); err != nil {
		t.Fatal(err)
	}
	batches, _ := e.buf.Batches()
	l, _ := e.buf.LoadLedger()
	l.Channel("chat").Partial = &buffer.Partial{Batches: []string{batches[0].ID}, Format: "html", Pages: []string{"<b>1</b>", "<b>2</b>"}, Sent: 1}
	if err := e.buf.SaveLedger(l); err != nil {
		t.Fatal(err)
	}
	res := e.run(t, tg, flush.Options{})
	if c := res.Channels[0]; c.Err != nil || c.Resumed != 0 {
		t.Fatalf("flush: %+v", c)
	}
	if got := ch.received(); len(got) != 1 || !strings.Contains(got[0], "10.1.1.100") || strings.Contains(got[0], "<b>") {
		t.Fatalf("want the report whole in the channel's format; got %q", got)
	}
	if l, _ = e.buf.LoadLedger(); l.Channel("chat").Partial != nil {
		t.Errorf("the stale partial report is still in the ledger")
	}
}

// TestPartialWhoseBatchesAreGoneIsDropped: the batches of a cut report are
// no longer in the spool (retention deleted them and counted them as
// dropped): the rest of that old report is not sent.
func TestPartialWhoseBatchesAreGoneIsDropped(t *testing.T) {
	e := newEnv(t)
	ch := &memChannel{name: "chat"}
	tg := targets(t, ch)
	l, _ := e.buf.LoadLedger()
	l.Channel("chat").Partial = &buffer.Partial{Batches: []string{"00000000000000000001"}, Format: "text", Pages: []string{"old 1", "old 2"}, Sent: 1}
	if err := e.buf.SaveLedger(l); err != nil {
		t.Fatal(err)
	}
	e.ban(t, "10.1.1.100", 1000)
	res := e.run(t, tg, flush.Options{})
	if c := res.Channels[0]; c.Err != nil || c.Resumed != 0 {
		t.Fatalf("flush: %+v", c)
	}
	if got := ch.received(); len(got) != 1 || strings.Contains(got[0], "old 2") || !strings.Contains(got[0], "10.1.1.100") {
		t.Fatalf("want only the new report; got %q", got)
	}
	if l, _ = e.buf.LoadLedger(); l.Channel("chat").Partial != nil {
		t.Errorf("the stale partial report is still in the ledger")
	}
}

func prefixed(subject string, pages []string) []string {
	out := make([]string, len(pages))
	for i, p := range pages {
		out[i] = subject + "\n" + p
	}
	return out
}
