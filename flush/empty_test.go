package flush_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/flush"
	"github.com/f2b-notify/f2b-notify/internal/jailstate"
	"github.com/f2b-notify/f2b-notify/render"
)

// hook is a fake webhook endpoint that keeps every body it is posted.
type hook struct {
	mu     sync.Mutex
	bodies []string
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.bodies = append(h.bodies, string(b))
	h.mu.Unlock()
}

func (h *hook) received() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.bodies...)
}

// realChannels configures a file channel and a webhook channel posting to
// a fake endpoint, as a user would, and prepares them.
func (e *env) realChannels(t *testing.T, h *hook) (file string, tg []*render.Target) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	file = filepath.Join(t.TempDir(), "reports.log")
	e.cfg.Channels = map[string]config.Channel{
		"log":  {Type: "file", Settings: map[string]any{"path": file}},
		"hook": {Type: "webhook", Retries: new(int), Settings: map[string]any{"url": srv.URL}},
	}
	tg, err := render.Prepare(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range tg {
		if x.Err != nil {
			t.Fatal(x.Err)
		}
	}
	return file, tg
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// TestSendEmptySendsOneShortReport: with report.send_empty, a flush that
// finds no ban sends every channel one short report saying since when there
// were none (the previous report it was sent), marked "empty" in the JSON;
// it confirms and deletes nothing. Without it, nothing is sent, as before.
func TestSendEmptySendsOneShortReport(t *testing.T) {
	e := newEnv(t)
	h := &hook{}
	file, tg := e.realChannels(t, h)

	e.cfg.Report.SendEmpty = false
	res := e.run(t, tg, flush.Options{})
	if got := readFile(t, file); got != "" || len(h.received()) != 0 || len(res.Failed()) != 0 {
		t.Fatalf("send_empty false sent %q and %q (%+v)", got, h.received(), res.Failed())
	}

	e.cfg.Report.SendEmpty = true
	first := time.Date(2026, 11, 30, 0, 17, 0, 0, time.UTC)
	res = e.run(t, tg, flush.Options{Now: first})
	if len(res.Failed()) != 0 || res.Deleted != 0 || res.Claimed {
		t.Fatalf("result %+v", res)
	}
	for _, c := range res.Channels {
		if !c.Empty || c.Batches != 0 {
			t.Errorf("channel %s: %+v, want an empty report of no batch", c.Name, c)
		}
	}
	text := readFile(t, file)
	if n := strings.Count(text, "No bans to report"); n != 1 || len(text) > 400 {
		t.Errorf("the file channel got %d reports of no bans (%d bytes), want one short one:\n%s", n, len(text), text)
	}
	bodies := h.received()
	if len(bodies) != 1 {
		t.Fatalf("the webhook got %d posts, want 1", len(bodies))
	}
	var payload struct {
		Text   string `json:"text"`
		Digest struct {
			Empty  bool `json:"empty"`
			Totals struct {
				Bans int `json:"bans"`
			} `json:"totals"`
		} `json:"digest"`
	}
	if err := json.Unmarshal([]byte(bodies[0]), &payload); err != nil || !payload.Digest.Empty || payload.Digest.Totals.Bans != 0 || !strings.HasPrefix(payload.Text, "No bans to report\n") {
		t.Fatalf("webhook payload (%v): %s", err, bodies[0])
	}

	// The next one says since when: the report before it.
	e.run(t, tg, flush.Options{Now: first.Add(24 * time.Hour)})
	if text := readFile(t, file); !strings.Contains(text, "No bans since 2026-11-30 00:17 UTC") {
		t.Errorf("the second report of no bans does not say since when:\n%s", text)
	}
	if st := e.ledger(t).Channel("log"); len(st.Confirmed) != 0 || st.Sent != 2 {
		t.Errorf("ledger of the file channel: %+v", st)
	}

	// The history has the report of no bans: the next report compares
	// with it.
	e.ban(t, "192.0.2.1", 100)
	e.run(t, tg, flush.Options{Now: first.Add(48 * time.Hour)})
	if text := readFile(t, file); !strings.Contains(text, "1 ban from 1 address; the previous report had none") {
		t.Errorf("the report after one of no bans does not compare with it:\n%s", text)
	}
}

// TestSendEmptyOnlyWhenNothingElseIsSent: a report with bans is not
// followed by an empty one; a channel whose jails had no ban gets the empty
// report, which confirms the batch that held nothing for it; unbans alone
// go out in the empty report and are confirmed by it; a flush told NoEmpty
// (the one a stopping jail starts) sends none.
func TestSendEmptyOnlyWhenNothingElseIsSent(t *testing.T) {
	e := newEnv(t)
	e.cfg.Report.SendEmpty = true
	ssh, all := &memChannel{name: "ssh-only"}, &memChannel{name: "all"}
	tg := targets(t, ssh, all)
	tg[0].Config.Jails = []string{"sshd"}
	if err := e.buf.Append(&buffer.Record{V: 1, Action: "ban", Jail: "nginx", IP: "198.51.100.1", Time: 101}); err != nil {
		t.Fatal(err)
	}
	res := e.run(t, tg, flush.Options{})
	if got := all.received(); len(got) != 1 || !strings.Contains(got[0], "198.51.100.1") || res.Channels[1].Empty {
		t.Errorf("the channel with a ban: %+v, sent %q", res.Channels[1], got)
	}
	if got := ssh.received(); len(got) != 1 || !strings.Contains(got[0], "No bans to report") || strings.Contains(got[0], "198.51.100.1") || !res.Channels[0].Empty {
		t.Errorf("the channel without a ban: %+v, sent %q", res.Channels[0], got)
	}
	if res.Deleted != 1 {
		t.Errorf("%d batches deleted, want the one both channels have", res.Deleted)
	}

	if err := e.buf.Append(&buffer.Record{V: 1, Action: "unban", Jail: "sshd", IP: "192.0.2.9", Time: 90, At: 200}); err != nil {
		t.Fatal(err)
	}
	res = e.run(t, tg, flush.Options{NoEmpty: true})
	if len(ssh.received()) != 1 || len(all.received()) != 1 || res.Deleted != 0 {
		t.Fatalf("NoEmpty sent a report without bans: %+v", res)
	}
	res = e.run(t, tg, flush.Options{})
	for i, ch := range []*memChannel{ssh, all} {
		got := ch.received()
		if len(got) != 2 || !strings.Contains(got[1], "192.0.2.9") || !strings.Contains(got[1], "No bans since") || !res.Channels[i].Empty {
			t.Errorf("%s: %+v, sent %q", ch.name, res.Channels[i], got)
		}
	}
	if b, _ := e.buf.Batches(); len(b) != 0 || res.Deleted != 1 {
		t.Errorf("the unban shown in the empty reports is not confirmed: %d deleted, spool %v", res.Deleted, b)
	}
}

// TestSendEmptyNotWhileMinBansHolds: a channel whose min_bans holds its bans
// back is sent no report of no bans: it has bans, kept for later.
func TestSendEmptyNotWhileMinBansHolds(t *testing.T) {
	e := newEnv(t)
	e.cfg.Report.SendEmpty = true
	held := &memChannel{name: "held"}
	tg := targets(t, held)
	tg[0].Config.MinBans = 5
	e.ban(t, "192.0.2.1", 100)
	res := e.run(t, tg, flush.Options{})
	if len(held.received()) != 0 || !res.Channels[0].Held || res.Channels[0].Empty || res.Deleted != 0 {
		t.Errorf("a channel holding its bans for min_bans: %+v, sent %q", res, held.received())
	}
}

// TestSendEmptySaysFail2banIsNotRunning: a pid file that names a live
// process which is not fail2ban-server (a pid reused after fail2ban was
// killed) makes the report of no bans say first that fail2ban is not
// running, and the JSON say fail2ban_running false; a pid file that is
// missing while every recorded jail stopped says so too; no pid file and
// no records say nothing of fail2ban.
func TestSendEmptySaysFail2banIsNotRunning(t *testing.T) {
	e := newEnv(t)
	e.cfg.Report.SendEmpty = true
	h := &hook{}
	file, tg := e.realChannels(t, h)

	type payload struct {
		Text   string `json:"text"`
		Digest struct {
			Running *bool  `json:"fail2ban_running"`
			Why     string `json:"fail2ban_why"`
			Jails   *int   `json:"jails_running"`
		} `json:"digest"`
	}
	last := func() payload {
		t.Helper()
		bodies := h.received()
		var p payload
		if err := json.Unmarshal([]byte(bodies[len(bodies)-1]), &p); err != nil {
			t.Fatal(err)
		}
		p.Text = strings.ReplaceAll(p.Text, "\n  ", " ") // the text report wraps its first lines at 80 columns
		return p
	}

	e.run(t, tg, flush.Options{})
	if p := last(); p.Digest.Running != nil || p.Digest.Jails != nil || strings.Contains(readFile(t, file), "fail2ban") {
		t.Errorf("no pid file, no records: fail2ban_running %v, jails_running %v, want null; file:\n%s", p.Digest.Running, p.Digest.Jails, readFile(t, file))
	}

	if err := os.WriteFile(e.cfg.Fail2ban.PidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := jailstate.Record(e.cfg.Buffer.Dir, "sshd", true, time.Now(), false); err != nil {
		t.Fatal(err)
	}
	os.Remove(file)
	e.run(t, tg, flush.Options{})
	want := fmt.Sprintf("fail2ban is not running (process %d of pid file %s is not fail2ban-server)", os.Getpid(), e.cfg.Fail2ban.PidFile)
	if text := readFile(t, file); !strings.Contains(strings.ReplaceAll(text, "\n  ", " "), want) {
		t.Errorf("the file channel's report does not say %q:\n%s", want, text)
	}
	if p := last(); p.Digest.Running == nil || *p.Digest.Running || p.Digest.Jails == nil || *p.Digest.Jails != 0 || !strings.HasPrefix(p.Text, want) {
		t.Errorf("webhook: text %q, fail2ban_running %v, jails_running %v, want it first, false and 0", p.Text, p.Digest.Running, p.Digest.Jails)
	}

	// fail2ban stopped cleanly: its jails stopped, its pid file removed.
	if err := jailstate.Record(e.cfg.Buffer.Dir, "sshd", false, time.Now(), false); err != nil {
		t.Fatal(err)
	}
	os.Remove(e.cfg.Fail2ban.PidFile)
	e.run(t, tg, flush.Options{})
	if p := last(); p.Digest.Running == nil || *p.Digest.Running || !strings.HasPrefix(p.Text, "fail2ban is not running (no pid file "+e.cfg.Fail2ban.PidFile+", and every jail stopped)") {
		t.Errorf("webhook: text %q, fail2ban_running %v, want not running", p.Text, p.Digest.Running)
	}
}
