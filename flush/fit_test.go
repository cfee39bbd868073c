package flush_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/flush"
	"github.com/f2b-notify/f2b-notify/report"
)

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
func bigDigest(n int) *report.Digest {
	b := report.NewBuilder(report.Options{Host: "vm"})
	for i := range n {
		r := &buffer.Record{V: 1, Action: buffer.ActionBan, Jail: "sshd", IP: fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255), Time: float64(1000 + i), Failures: 3, User: "root", Matches: []string{"Nov 25 17:36:52 vm sshd[1001]: Invalid user root from x port 22"}}
		b.Add(r)
	}
	return b.Digest()
}

func TestFitCutsRowsAndKeepsTotals(t *testing.T) {
	ch := &limited{memChannel: memChannel{name: "small"}, limit: 4096}
	tg := targets(t, ch)[0]
	d := bigDigest(5000)
	m, err := tg.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	body := m.Bodies[channels.Text]
	if n := utf8.RuneCountInString(body); n > 4096 {
		t.Fatalf("body is %d characters, limit 4096", n)
	}
	if !strings.Contains(body, "5000") || !strings.Contains(body, "more offenders") {
		t.Errorf("cut report lost its totals or its 'and N more':\n%s", body)
	}
	if len(m.Pages) != 0 {
		t.Errorf("a channel that does not split got %d pages", len(m.Pages))
	}
}

// A split report takes at most the channel's cap of messages: the last one
// shows the offenders that fit and says how many more there are; every
// offender is either on exactly one page or counted in that "and N more".
func TestFitCapsTheMessagesOfASplitReport(t *testing.T) {
	for _, maxPages := range []int{1, 2, 3, 10} {
		ch := &limited{memChannel: memChannel{name: "capped"}, limit: 4096, split: true, maxPages: maxPages}
		tg := targets(t, ch)[0]
		d := bigDigest(2000)
		m, err := tg.Render(d)
		if err != nil {
			t.Fatal(err)
		}
		pages := m.Messages(channels.Text)
		if len(pages) != maxPages {
			t.Fatalf("cap %d: %d messages", maxPages, len(pages))
		}
		shown := 0
		for i, p := range pages {
			if n := utf8.RuneCountInString(p); n > 4096 {
				t.Errorf("cap %d: message %d is %d characters", maxPages, i+1, n)
			}
			if !strings.Contains(p, "2000") {
				t.Errorf("cap %d: message %d lost the totals", maxPages, i+1)
			}
			if maxPages > 1 && !strings.Contains(p, fmt.Sprintf("part %d of %d", i+1, maxPages)) {
				t.Errorf("cap %d: message %d does not say it is part %d of %d", maxPages, i+1, i+1, maxPages)
			}
			for _, o := range d.Offenders {
				if strings.Contains(p, " "+o.IP+" ") {
					shown++
				}
			}
		}
		last := pages[len(pages)-1]
		if want := fmt.Sprintf("%d more offenders", 2000-shown); !strings.Contains(last, want) {
			t.Errorf("cap %d: %d offenders shown, the last message lacks %q:\n%s", maxPages, shown, want, last)
		}
		for _, p := range pages[:len(pages)-1] {
			if strings.Contains(p, "more offenders") {
				t.Errorf("cap %d: a message before the last says offenders are left out", maxPages)
			}
		}
	}
}

func TestFitSplitsIntoPagesWithEveryOffenderOnce(t *testing.T) {
	ch := &limited{memChannel: memChannel{name: "paged"}, limit: 4096, split: true}
	tg := targets(t, ch)[0]
	d := bigDigest(600)
	m, err := tg.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Pages) < 2 {
		t.Fatalf("%d pages", len(m.Pages))
	}
	seen := map[string]int{}
	for i, p := range m.Pages {
		if n := utf8.RuneCountInString(p); n > 4096 {
			t.Errorf("page %d is %d characters", i+1, n)
		}
		if !strings.Contains(p, fmt.Sprintf("part %d of %d", i+1, len(m.Pages))) {
			t.Errorf("page %d does not say which part it is", i+1)
		}
		for _, o := range d.Offenders {
			if strings.Contains(p, " "+o.IP+" ") {
				seen[o.IP]++
			}
		}
	}
	for _, o := range d.Offenders {
		if seen[o.IP] != 1 {
			t.Fatalf("offender %s on %d pages, want 1", o.IP, seen[o.IP])
		}
	}
}

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

// twoFormats is a limited channel that also wants an HTML rendering, like
// Matrix: formatted body first, plain body second.
type twoFormats struct{ limited }

func (t *twoFormats) Formats() []channels.Format {
	return []channels.Format{channels.HTML, channels.Text}
}

func TestSecondaryFormatShowsTheRowsThePrimaryKept(t *testing.T) {
	ch := &twoFormats{limited{memChannel: memChannel{name: "two"}, limit: 6000}}
	tg := targets(t, ch)[0]
	d := bigDigest(400)
	m, err := tg.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	html, text := m.Bodies[channels.HTML], m.Bodies[channels.Text]
	if utf8.RuneCountInString(html) > 6000 {
		t.Fatalf("html is %d characters", utf8.RuneCountInString(html))
	}
	for _, o := range d.Offenders {
		if strings.Contains(html, ">"+o.IP+"<") != strings.Contains(text, " "+o.IP+" ") {
			t.Fatalf("offender %s is in one part and not the other", o.IP)
		}
	}
}

// A report cut or split to fit counts, in its notes, only the cut user names
// of the offender rows it shows.
func TestFitCountsTheCutTextOfTheRowsShown(t *testing.T) {
	b := report.NewBuilder(report.Options{Host: "vm"})
	for i := range 500 {
		r := &buffer.Record{V: 1, Action: buffer.ActionBan, Jail: "sshd", IP: fmt.Sprintf("10.0.%d.%d", i>>8, i&255), Time: float64(1000 + i), Failures: 3,
			User: fmt.Sprintf("u%d-%s", i, strings.Repeat("x", 200))}
		b.Add(r)
	}
	d := b.Digest()
	if d.Notes.CutUsers != 500 {
		t.Fatalf("the digest counts %d cut names, want 500", d.Notes.CutUsers)
	}
	note := regexp.MustCompile(`([0-9]+) user names? (was|were) cut to 64 characters`)
	for _, split := range []bool{false, true} {
		ch := &limited{memChannel: memChannel{name: "small"}, limit: 4096, split: split, maxPages: 3}
		m, err := targets(t, ch)[0].Render(d)
		if err != nil {
			t.Fatal(err)
		}
		for _, page := range m.Messages(channels.Text) {
			rows := strings.Count(page, "\n      users:  ")
			got := note.FindStringSubmatch(page)
			if rows == 0 || got == nil || got[1] != fmt.Sprint(rows) {
				t.Errorf("split %v: a message with %d offender rows says %q", split, rows, got)
			}
		}
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
