package flush_test

import (
	"strings"
	"testing"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/flush"
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
