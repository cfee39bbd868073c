package flush_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/flush"
	"github.com/f2b-notify/f2b-notify/internal/history"
)

func TestJailsFilterAndMinBans(t *testing.T) {
	e := newEnv(t)
	ssh := &memChannel{name: "ssh-only"}
	many := &memChannel{name: "many"}
	tg := targets(t, ssh, many)
	tg[0].Config.Jails = []string{"sshd"}
	tg[1].Config.MinBans = 3
	e.ban(t, "192.0.2.1", 100)
	if err := e.buf.Append(&buffer.Record{V: 1, Action: "ban", Jail: "nginx", IP: "198.51.100.1", Time: 101}); err != nil {
		t.Fatal(err)
	}
	res := e.run(t, tg, flush.Options{})
	if got := ssh.received(); len(got) != 1 || !strings.Contains(got[0], "192.0.2.1") || strings.Contains(got[0], "198.51.100.1") {
		t.Errorf("jails filter: %q", got)
	}
	if len(many.received()) != 0 || !res.Channels[1].Held {
		t.Fatalf("min_bans 3 sent with 2 bans: %+v", res.Channels[1])
	}
	e.ban(t, "192.0.2.3", 102)
	e.run(t, tg, flush.Options{})
	got := many.received()
	if len(got) != 1 || !strings.Contains(got[0], "192.0.2.1") || !strings.Contains(got[0], "192.0.2.3") || !strings.Contains(got[0], "198.51.100.1") {
		t.Fatalf("held bans not delivered once min_bans was reached: %q", got)
	}
	if b, _ := e.buf.Batches(); len(b) != 0 {
		t.Errorf("spool not empty: %v", b)
	}
}

// Records of jails a channel does not take are nothing for it: their batch
// is confirmed without a message, not kept waiting for it. An unban of one
// of its jails waits for its next report.
func TestJailsFilterConfirmsRecordsOfOtherJails(t *testing.T) {
	e := newEnv(t)
	ssh := &memChannel{name: "ssh-only"}
	all := &memChannel{name: "all"}
	tg := targets(t, ssh, all)
	tg[0].Config.Jails = []string{"sshd"}
	if err := e.buf.Append(&buffer.Record{V: 1, Action: "ban", Jail: "nginx", IP: "198.51.100.1", Time: 101}); err != nil {
		t.Fatal(err)
	}
	res := e.run(t, tg, flush.Options{})
	if len(ssh.received()) != 0 || len(all.received()) != 1 || res.Deleted != 1 || res.Channels[0].Skipped {
		t.Fatalf("a batch with nothing for the filtered channel: %+v, sent %d", res, len(ssh.received()))
	}
	if err := e.buf.Append(&buffer.Record{V: 1, Action: "unban", Jail: "sshd", IP: "192.0.2.9", Time: 90, At: 200}); err != nil {
		t.Fatal(err)
	}
	res = e.run(t, tg, flush.Options{})
	if len(ssh.received()) != 0 || !res.Channels[0].Skipped || res.Deleted != 0 {
		t.Fatalf("an unban of its jail alone: %+v", res)
	}
	e.ban(t, "192.0.2.3", 300)
	e.run(t, tg, flush.Options{})
	if got := ssh.received(); len(got) != 1 || !strings.Contains(got[0], "192.0.2.3") || !strings.Contains(got[0], "192.0.2.9") {
		t.Errorf("the next report of the filtered channel: %q", got)
	}
	if b, _ := e.buf.Batches(); len(b) != 0 {
		t.Errorf("spool not empty: %v", b)
	}
}

// TestTrendComparesEachChannelWithItsOwnPreviousReport: channels that take
// different jails are compared, over two flushes, each with the previous
// report it was sent, in its jails: not with the largest report of the
// flush, nor with every jail's total.
func TestTrendComparesEachChannelWithItsOwnPreviousReport(t *testing.T) {
	e := newEnv(t)
	ssh, web, all := &memChannel{name: "ssh-only"}, &memChannel{name: "web-only"}, &memChannel{name: "all"}
	tg := targets(t, ssh, web, all)
	tg[0].Config.Jails = []string{"sshd"}
	tg[1].Config.Jails = []string{"nginx"}
	bans := func(jail string, n, from int) {
		for i := range n {
			r := &buffer.Record{V: 1, Action: "ban", Jail: jail, IP: fmt.Sprintf("192.0.2.%d", from+i), Time: float64(1000 + from + i), Failures: 2}
			if err := e.buf.Append(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	first := time.Date(2026, 11, 30, 0, 17, 0, 0, time.UTC)
	bans("sshd", 4, 1)
	bans("nginx", 1, 100)
	e.run(t, tg, flush.Options{Now: first})
	bans("sshd", 6, 10)
	bans("nginx", 2, 110)
	e.run(t, tg, flush.Options{Now: first.Add(24 * time.Hour)})
	for _, c := range []struct {
		ch   *memChannel
		want string
	}{
		{ssh, "6 bans from 6 addresses, +50% on the previous report (4 bans)"},
		{web, "2 bans from 2 addresses, +100% on the previous report (1 ban)"},
		{all, "8 bans from 8 addresses, +60% on the previous report (5 bans)"},
	} {
		got := c.ch.received()
		if len(got) != 2 || !strings.Contains(got[1], c.want) {
			t.Errorf("%s: the second report does not say %q:\n%s", c.ch.name, c.want, strings.Join(got, "\n---\n"))
		}
	}
	h, err := history.Load(e.cfg.HistoryFile())
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := h.PreviousFor("web-only"); !ok || !reflect.DeepEqual(r.Jails, []history.JailTotal{{Jail: "nginx", Bans: 2, Addresses: 2}}) {
		t.Errorf("the history of web-only's last report: %+v", r)
	}
	if n := len(h.Reports()); n != 6 {
		t.Errorf("%d reports in the history, want one per channel and flush, 6", n)
	}
}
