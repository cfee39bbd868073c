package render_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/render"
	"github.com/f2b-notify/f2b-notify/report"
)

// fakeChannel is a channel of the given formats (text when none is given)
// with a size limit, splitting or not; what it is sent goes nowhere.
type fakeChannel struct {
	name     string
	formats  []channels.Format
	limit    int
	split    bool
	maxPages int
}

func (c *fakeChannel) Name() string { return c.name }
func (c *fakeChannel) Formats() []channels.Format {
	if len(c.formats) == 0 {
		return []channels.Format{channels.Text}
	}
	return c.formats
}
func (c *fakeChannel) Limit() int                                          { return c.limit }
func (c *fakeChannel) Split() bool                                         { return c.split }
func (c *fakeChannel) MaxMessages() int                                    { return c.maxPages }
func (c *fakeChannel) Send(context.Context, string, string) error          { return nil }
func (c *fakeChannel) SendMessage(context.Context, channels.Message) error { return nil }

// target is ch with the default templates, as a flush would send to it.
func target(t testing.TB, ch channels.Channel) *render.Target {
	t.Helper()
	tg, err := render.NewTarget(ch, config.Channel{Type: "fake", Retries: new(int)}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func bigDigest(n int) *report.Digest {
	b := report.NewBuilder(report.Options{Host: "vm"})
	for i := range n {
		r := &buffer.Record{V: 1, Action: buffer.ActionBan, Jail: "sshd", IP: fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255), Time: float64(1000 + i), Failures: 3, User: "root", Matches: []string{"Nov 25 17:36:52 vm sshd[1001]: Invalid user root from x port 22"}}
		b.Add(r)
	}
	return b.Digest()
}

func TestFitCutsRowsAndKeepsTotals(t *testing.T) {
	ch := &fakeChannel{name: "small", limit: 4096}
	tg := target(t, ch)
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
		ch := &fakeChannel{name: "capped", limit: 4096, split: true, maxPages: maxPages}
		tg := target(t, ch)
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
	ch := &fakeChannel{name: "paged", limit: 4096, split: true}
	tg := target(t, ch)
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

func TestSecondaryFormatShowsTheRowsThePrimaryKept(t *testing.T) {
	// Like Matrix: formatted body first, plain body second.
	ch := &fakeChannel{name: "two", formats: []channels.Format{channels.HTML, channels.Text}, limit: 6000}
	tg := target(t, ch)
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
		ch := &fakeChannel{name: "small", limit: 4096, split: split, maxPages: 3}
		m, err := target(t, ch).Render(d)
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
