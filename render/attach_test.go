package render_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/render"
	"github.com/f2b-notify/f2b-notify/report"
)

// attachingChannel is a fakeChannel that takes the attachments named.
type attachingChannel struct {
	fakeChannel
	takes []channels.AttachmentKind
}

func (c *attachingChannel) Attaches(k channels.AttachmentKind) bool {
	for _, t := range c.takes {
		if t == k {
			return true
		}
	}
	return false
}

// dayDigest is n bans, one every ten minutes from midnight, of addresses
// whose user names look like spreadsheet formulas.
func dayDigest(n int) *report.Digest {
	b := report.NewBuilder(report.Options{Host: "vm"})
	midnight := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		jail := "sshd"
		if i%3 == 0 {
			jail = "nginx-http-auth"
		}
		b.Add(&buffer.Record{V: 1, Action: buffer.ActionBan, Jail: jail, IP: fmt.Sprintf("198.51.%d.%d", i/250, i%250+1),
			Time: float64(midnight.Add(time.Duration(i) * 10 * time.Minute).Unix()), Failures: 3, User: "=HYPERLINK(\"x\")"})
	}
	return b.Digest()
}

func attachTarget(t *testing.T, ch channels.Channel, attachments *[]string) *render.Target {
	t.Helper()
	tg, err := render.NewTarget(ch, config.Channel{Type: "fake", Retries: new(int), Attachments: attachments}, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// TestFullListGoesWithACutReport: when the limit cuts offender rows, the
// message says where the rest is and a CSV with every row goes with it;
// uncut, no list and no mention of one.
func TestFullListGoesWithACutReport(t *testing.T) {
	d := dayDigest(140)
	ch := &attachingChannel{fakeChannel{name: "small", limit: 3000}, []channels.AttachmentKind{channels.FullList}}
	m, err := attachTarget(t, ch, nil).Render(d)
	if err != nil {
		t.Fatal(err)
	}
	body := m.Bodies[channels.Text]
	if !strings.Contains(body, "more offenders (all listed in the attached offenders.csv)") {
		t.Errorf("the cut report does not say where the rest is:\n%s", body)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Name != render.FullListCSV || m.Attachments[0].Kind != channels.FullList {
		t.Fatalf("attachments %v, want offenders.csv", names(m.Attachments))
	}
	rows, err := csv.NewReader(bytes.NewReader(m.Attachments[0].Data)).ReadAll()
	if err != nil {
		t.Fatalf("the list is not CSV: %v", err)
	}
	if len(rows) != 1+len(d.Offenders) || rows[0][0] != "ip" {
		t.Fatalf("%d lines, want a header and %d offenders", len(rows), len(d.Offenders))
	}
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		seen[r[0]] = true
		if users := r[len(r)-2]; !strings.HasPrefix(users, "'=") {
			t.Errorf("row %s: users cell %q would run as a spreadsheet formula", r[0], users)
		}
	}
	for _, o := range d.Offenders {
		if !seen[o.IP] {
			t.Errorf("offender %s is missing from the list", o.IP)
		}
	}

	ch.limit = 0
	m, err = attachTarget(t, ch, nil).Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 0 || strings.Contains(m.Bodies[channels.Text], "offenders.csv") {
		t.Errorf("an uncut report got %v, or mentions the list", names(m.Attachments))
	}
}

// TestChartGoesWhereItIsTaken: a channel that takes the chart gets a PNG
// of the day; the attachments key can turn it off; a channel that takes
// none gets none.
func TestChartGoesWhereItIsTaken(t *testing.T) {
	d := dayDigest(140)
	ch := &attachingChannel{fakeChannel{name: "chat"}, []channels.AttachmentKind{channels.Chart, channels.FullList}}
	m, err := attachTarget(t, ch, nil).Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 1 || m.Attachments[0].Kind != channels.Chart || m.Attachments[0].Type != "image/png" {
		t.Fatalf("attachments %v, want the chart", names(m.Attachments))
	}
	img, err := png.Decode(bytes.NewReader(m.Attachments[0].Data))
	if err != nil || img.Bounds().Dx() < 200 {
		t.Fatalf("the chart is not a PNG worth showing: %v", err)
	}
	if c := m.Attachments[0].Caption; c != "Bans per hour and jail, 2026-12-01 00:00 – 2026-12-02 00:00 UTC" {
		t.Errorf("caption %q", c)
	}

	for _, tt := range []struct {
		name string
		ch   channels.Channel
		keys *[]string
	}{
		{"attachments: []", ch, &[]string{}},
		{"attachments: [full_list], not cut", ch, &[]string{"full_list"}},
		{"a channel that takes none", &fakeChannel{name: "plain"}, nil},
	} {
		m, err := attachTarget(t, tt.ch, tt.keys).Render(d)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Attachments) != 0 {
			t.Errorf("%s: attachments %v, want none", tt.name, names(m.Attachments))
		}
	}
}

func names(as []channels.Attachment) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Name)
	}
	return out
}

// TestFullListOfAReportCutByMaxOffenders: when report.max_offenders left
// offenders out of the report already, the list holds the report's rows
// only, and the cut message does not claim that all the offenders it
// leaves out are in it.
func TestFullListOfAReportCutByMaxOffenders(t *testing.T) {
	b := report.NewBuilder(report.Options{Host: "vm", MaxOffenders: 50})
	midnight := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := range 140 {
		b.Add(&buffer.Record{V: 1, Action: buffer.ActionBan, Jail: "sshd", IP: fmt.Sprintf("198.51.100.%d", i+1),
			Time: float64(midnight.Add(time.Duration(i) * time.Minute).Unix()), Failures: 3})
	}
	d := b.Digest()
	ch := &attachingChannel{fakeChannel{name: "small", limit: 1500}, []channels.AttachmentKind{channels.FullList}}
	m, err := attachTarget(t, ch, nil).Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 1 {
		t.Fatalf("attachments %v, want offenders.csv", names(m.Attachments))
	}
	if rows := bytes.Count(m.Attachments[0].Data, []byte("\n")) - 1; rows != 50 {
		t.Errorf("the list has %d rows, want the report's 50", rows)
	}
	body := m.Bodies[channels.Text]
	if strings.Contains(body, "all listed in the attached") {
		t.Errorf("the message says all the offenders it leaves out are in the list, which holds 50 of 140:\n%s", body)
	}
	if !strings.Contains(body, "(the busiest of them listed in the attached offenders.csv; see notes)") {
		t.Errorf("the message does not say which of them the list holds:\n%s", body)
	}
}
