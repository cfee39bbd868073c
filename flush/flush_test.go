package flush_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/flush"
	"github.com/f2b-notify/f2b-notify/render"
)

// memChannel keeps what it is sent; fail makes it refuse.
type memChannel struct {
	name   string
	mu     sync.Mutex
	fail   error
	bodies []string
	onSend func()
}

func (m *memChannel) Name() string               { return m.name }
func (m *memChannel) Formats() []channels.Format { return []channels.Format{channels.Text} }
func (m *memChannel) Limit() int                 { return 0 }
func (m *memChannel) setFail(err error)          { m.mu.Lock(); m.fail = err; m.mu.Unlock() }
func (m *memChannel) received() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.bodies...)
}
func (m *memChannel) Send(ctx context.Context, subject, body string) error {
	if m.onSend != nil {
		m.onSend()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.bodies = append(m.bodies, subject+"\n"+body)
	return nil
}

// limited is a channel with a size limit that may split.
type limited struct {
	memChannel
	limit    int
	split    bool
	maxPages int
}

func (l *limited) Limit() int       { return l.limit }
func (l *limited) Split() bool      { return l.split }
func (l *limited) MaxMessages() int { return l.maxPages }

type env struct {
	cfg *config.Config
	buf *buffer.Buffer
}

func newEnv(t testing.TB) *env {
	dir := t.TempDir()
	cfg, err := config.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Buffer = config.Buffer{Dir: filepath.Join(dir, "buf"), MaxAge: 24 * time.Hour, MaxSizeMB: 64}
	cfg.Flag = filepath.Join(dir, "mail.flag")
	cfg.Fail2ban.PidFile = filepath.Join(dir, "fail2ban.pid") // none: nothing is said of the machine's fail2ban
	cfg.Host = "vm"
	cfg.Report.Timezone = "UTC"
	return &env{cfg: cfg, buf: buffer.New(cfg.Buffer.Dir, false)}
}

func (e *env) ban(t testing.TB, ip string, tm float64) {
	t.Helper()
	r := &buffer.Record{V: 1, Action: buffer.ActionBan, Jail: "sshd", IP: ip, Time: tm, Failures: 2}
	if err := e.buf.Append(r); err != nil {
		t.Fatal(err)
	}
}

func targets(t testing.TB, chs ...channels.Channel) []*render.Target {
	var out []*render.Target
	for _, ch := range chs {
		tg, err := render.NewTarget(ch, config.Channel{Type: "mem", Retries: new(int)}, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tg)
	}
	return out
}

func (e *env) run(t *testing.T, tg []*render.Target, opt flush.Options) *flush.Result {
	t.Helper()
	res, err := flush.Run(context.Background(), e.cfg, tg, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func count(bodies []string, s string) int {
	n := 0
	for _, b := range bodies {
		n += strings.Count(b, s)
	}
	return n
}

func TestFailedChannelKeepsItsBansOthersGetThemOnce(t *testing.T) {
	e := newEnv(t)
	good := &memChannel{name: "good"}
	bad := &memChannel{name: "bad", fail: errors.New("connection refused")}
	tg := targets(t, good, bad)

	e.ban(t, "192.0.2.1", 100)
	res := e.run(t, tg, flush.Options{})
	if len(res.Failed()) != 1 || res.Failed()[0].Name != "bad" || !strings.Contains(res.Failed()[0].Err.Error(), `channel "bad"`) {
		t.Fatalf("failed channels: %+v", res.Channels)
	}
	if n := count(good.received(), "192.0.2.1"); n == 0 {
		t.Fatal("good channel got nothing")
	}
	if batches, _ := e.buf.Batches(); len(batches) != 1 {
		t.Fatalf("batch deleted although a channel has not confirmed it: %v", batches)
	}

	// A second ban arrives; the bad channel recovers.
	e.ban(t, "198.51.100.2", 200)
	bad.setFail(nil)
	e.run(t, tg, flush.Options{})
	goodBodies, badBodies := good.received(), bad.received()
	if n := count(goodBodies, "192.0.2.1"); n != 1 {
		t.Errorf("good channel saw 192.0.2.1 %d times, want once", n)
	}
	if count(goodBodies, "198.51.100.2") != 1 {
		t.Error("good channel missed the second ban")
	}
	if count(badBodies, "192.0.2.1") != 1 || count(badBodies, "198.51.100.2") != 1 {
		t.Errorf("recovered channel got %q", badBodies)
	}
	if !strings.Contains(badBodies[0], "missed 1") {
		t.Errorf("recovered channel's report does not say it missed a report:\n%s", badBodies[0])
	}
	if batches, _ := e.buf.Batches(); len(batches) != 0 {
		t.Errorf("batches left after every channel confirmed: %v", batches)
	}
	l, _ := e.buf.LoadLedger()
	if st := l.Channel("bad"); st.Missed != 0 || len(st.Confirmed) != 0 || st.LastSuccess.IsZero() {
		t.Errorf("ledger of the recovered channel: %+v", st)
	}
}

func TestFlagIsRemovedAfterTheReportAndIfFlagWaitsForIt(t *testing.T) {
	e := newEnv(t)
	ch := &memChannel{name: "c"}
	tg := targets(t, ch)
	e.ban(t, "192.0.2.1", 100)
	if res := e.run(t, tg, flush.Options{IfFlag: true}); !res.NoFlag || len(ch.received()) != 0 {
		t.Fatalf("sent without the flag: %+v", res)
	}
	if err := os.WriteFile(e.cfg.Flag, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e.run(t, tg, flush.Options{IfFlag: true})
	if len(ch.received()) != 1 {
		t.Fatalf("sent %d reports, want 1", len(ch.received()))
	}
	if _, err := os.Stat(e.cfg.Flag); !os.IsNotExist(err) {
		t.Error("flag still there after the report")
	}
}

func TestSecondFlushLeavesAtOnce(t *testing.T) {
	e := newEnv(t)
	unlock, ok, err := e.buf.TryLockFlush()
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	defer unlock()
	e.ban(t, "192.0.2.1", 100)
	ch := &memChannel{name: "c"}
	if res := e.run(t, targets(t, ch), flush.Options{}); !res.Busy || len(ch.received()) != 0 {
		t.Fatalf("result %+v", res)
	}
	if _, err := os.Stat(e.buf.PendingPath()); err != nil {
		t.Error("a busy flush touched the pending bans")
	}
}

func TestRetentionDropsOldBatchesAndCountsThem(t *testing.T) {
	e := newEnv(t)
	bad := &memChannel{name: "bad", fail: errors.New("down")}
	tg := targets(t, bad)
	e.ban(t, "192.0.2.1", 100)
	e.ban(t, "192.0.2.2", 101)
	e.run(t, tg, flush.Options{}) // fails, batch kept
	e.ban(t, "192.0.2.3", 102)
	bad.setFail(nil)
	res := e.run(t, tg, flush.Options{Now: time.Now().Add(25 * time.Hour)})
	if res.Dropped != 2 {
		t.Fatalf("dropped %d records, want 2", res.Dropped)
	}
	got := bad.received()
	if len(got) != 1 || count(got, "192.0.2.1") != 0 || count(got, "192.0.2.3") != 1 {
		t.Fatalf("after retention the channel got %q", got)
	}
	if !strings.Contains(got[0], "2 records") || !strings.Contains(strings.ToLower(got[0]), "retention") {
		t.Errorf("report does not count the dropped records:\n%s", got[0])
	}
}

func TestBrokenChannelConfigurationIsThatChannelsFailure(t *testing.T) {
	e := newEnv(t)
	good := &memChannel{name: "good"}
	tg := targets(t, good, &memChannel{name: "broken"})
	tg[1].Err = errors.New(`channel "broken": key to: missing`)
	e.ban(t, "192.0.2.1", 100)
	res := e.run(t, tg, flush.Options{})
	if len(res.Failed()) != 1 || len(good.received()) != 1 {
		t.Fatalf("result %+v", res.Channels)
	}
	if b, _ := e.buf.Batches(); len(b) != 1 {
		t.Error("bans of the broken channel were not kept")
	}
}

// TestBlankTemplateIsAFailureNotAnEmptyReport: a user's template that
// renders nothing (whitespace only) would confirm the bans with a message
// that shows none of them; the channel fails instead and keeps them.
func TestBlankTemplateIsAFailureNotAnEmptyReport(t *testing.T) {
	e := newEnv(t)
	blank := filepath.Join(t.TempDir(), "blank.tmpl")
	if err := os.WriteFile(blank, []byte("{{/* nothing */}}\n  \n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ch := &memChannel{name: "blank"}
	tg, err := render.NewTarget(ch, config.Channel{Type: "mem", Retries: new(int), Templates: map[string]string{"text": blank}}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	e.ban(t, "192.0.2.1", 100)
	res := e.run(t, []*render.Target{tg}, flush.Options{})
	if err := res.Channels[0].Err; err == nil || !strings.Contains(err.Error(), `channel "blank": the text template rendered an empty report`) {
		t.Fatalf("blank template: %+v", res.Channels[0])
	}
	if len(ch.received()) != 0 {
		t.Errorf("sent %q", ch.received())
	}
	if b, _ := e.buf.Batches(); len(b) != 1 {
		t.Error("the bans were not kept")
	}
}

// Unbans and restored bans with nothing else to say send no report, and
// are not confirmed unseen either: they wait for the next report that is
// sent, and appear in it.
func TestUnbansAloneWaitForTheNextReport(t *testing.T) {
	e := newEnv(t)
	ch := &memChannel{name: "c"}
	tg := targets(t, ch)
	unban := &buffer.Record{V: 1, Action: buffer.ActionUnban, Jail: "sshd", IP: "192.0.2.1", Time: 5, At: 1795600000}
	if err := e.buf.Append(unban); err != nil {
		t.Fatal(err)
	}
	restored := &buffer.Record{V: 1, Action: buffer.ActionBan, Jail: "sshd", IP: "192.0.2.3", Time: 6, Restored: true}
	if err := e.buf.Append(restored); err != nil {
		t.Fatal(err)
	}
	for range 2 { // and again with nothing new
		res := e.run(t, tg, flush.Options{})
		if len(ch.received()) != 0 || !res.Channels[0].Skipped || res.Deleted != 0 {
			t.Fatalf("result %+v, sent %d", res, len(ch.received()))
		}
		if st := e.ledger(t).Channel("c"); len(st.Confirmed) != 0 {
			t.Fatalf("batches confirmed unseen: %v", st.Confirmed)
		}
	}
	e.ban(t, "198.51.100.2", 200)
	res := e.run(t, tg, flush.Options{})
	got := ch.received()
	if len(got) != 1 || res.Channels[0].Batches != 2 || res.Deleted != 2 {
		t.Fatalf("result %+v, sent %q", res, got)
	}
	for _, want := range []string{"198.51.100.2", "UNBANS", "192.0.2.1", "Restored            1"} {
		if !strings.Contains(got[0], want) {
			t.Errorf("the report with the next ban has no %q:\n%s", want, got[0])
		}
	}
}

// Unbans that wait are still bounded by retention, and what it deletes is
// counted in the next report.
func TestWaitingUnbansAreBoundedByRetention(t *testing.T) {
	e := newEnv(t)
	ch := &memChannel{name: "c"}
	tg := targets(t, ch)
	if err := e.buf.Append(&buffer.Record{V: 1, Action: buffer.ActionUnban, Jail: "sshd", IP: "192.0.2.1", Time: 5}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	e.run(t, tg, flush.Options{Now: now})
	res := e.run(t, tg, flush.Options{Now: now.Add(e.cfg.Buffer.MaxAge + time.Hour)})
	if res.Dropped != 1 || res.Batches != 0 {
		t.Fatalf("result %+v, want the old batch dropped", res)
	}
	e.ban(t, "198.51.100.2", 200)
	e.run(t, tg, flush.Options{Now: now.Add(e.cfg.Buffer.MaxAge + 2*time.Hour)})
	if got := ch.received(); len(got) != 1 || !strings.Contains(got[0], "1 record was deleted by retention") {
		t.Errorf("sent %q, want one report counting the dropped unban", got)
	}
}

func TestChannelsAreSentInParallel(t *testing.T) {
	e := newEnv(t)
	var started sync.WaitGroup
	started.Add(2)
	both := make(chan struct{})
	go func() { started.Wait(); close(both) }()
	wait := func() {
		started.Done()
		select {
		case <-both:
		case <-time.After(10 * time.Second):
		}
	}
	a := &memChannel{name: "a", onSend: wait}
	b := &memChannel{name: "b", onSend: wait}
	e.ban(t, "192.0.2.1", 100)
	e.run(t, targets(t, a, b), flush.Options{})
	select {
	case <-both:
	default:
		t.Fatal("the channels were not sending at the same time")
	}
}

func TestNoChannelRefusesToFlush(t *testing.T) {
	e := newEnv(t)
	e.ban(t, "192.0.2.1", 100)
	if _, err := flush.Run(context.Background(), e.cfg, nil, flush.Options{}); err == nil {
		t.Fatal("flush with no channel succeeded")
	}
	if _, err := os.Stat(e.buf.PendingPath()); err != nil {
		t.Error("pending bans touched")
	}
}

func (e *env) ledger(t *testing.T) *buffer.Ledger {
	t.Helper()
	l, err := e.buf.LoadLedger()
	if err != nil {
		t.Fatal(err)
	}
	return l
}
