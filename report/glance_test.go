package report_test

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/internal/geoip"
	"github.com/f2b-notify/f2b-notify/internal/history"
	"github.com/f2b-notify/f2b-notify/report"
)

// TestDigestAtAGlance: networks, providers and countries from the demo
// databases, new and returning addresses from the history, the change from
// the previous report, and which bans still hold.
func TestDigestAtAGlance(t *testing.T) {
	base := 1795600000.0
	now := time.Unix(int64(base)+3600, 0)
	h := &history.History{}
	if err := h.Record(now.Add(-24*time.Hour), func(yield func(netip.Addr) bool) { yield(netip.MustParseAddr("192.0.2.1")) },
		[]history.JailTotal{{Jail: "sshd", Bans: 2, Addresses: 1}}); err != nil {
		t.Fatal(err)
	}
	withBantime := func(r *buffer.Record, bt int64) *buffer.Record { r.Bantime = bt; return r }
	d := build(report.Options{Generated: now, Geo: geoip.Demo(), History: h},
		withBantime(ban("sshd", "192.0.2.1", base, 3), 600),         // ended
		withBantime(ban("sshd", "192.0.2.7", base+3000, 3), 3600),   // holds
		withBantime(ban("recidive", "192.0.2.7", base+3100, 1), -1), // permanent
		withBantime(ban("nginx", "198.51.100.4", base+10, 3), -1),   // unbanned below
		&buffer.Record{V: 1, Action: buffer.ActionUnban, Jail: "nginx", IP: "198.51.100.4", At: int64(base) + 20},
	)
	tot := d.Totals
	if tot.Bans != 4 || tot.New != 2 || tot.Returning != 1 || tot.StillBanned != 1 || tot.Escalated != 1 || tot.Networks != 2 || tot.ASNs != 2 || tot.Countries != 2 {
		t.Fatalf("totals %+v", tot)
	}
	if n := d.Networks[0]; n.Prefix != "192.0.2.0/24" || n.Addresses != 2 || n.Bans != 3 || strings.Join(n.Jails, ",") != "recidive,sshd" {
		t.Errorf("top network %+v", n)
	}
	if a := d.ASNs[0]; a.ASN != 64496 || a.Org != "Example Hosting (demo data)" || a.Addresses != 2 || a.Bans != 3 {
		t.Errorf("top provider %+v", a)
	}
	if c := d.Countries[0]; c.Code != "NL" || c.Name != "Netherlands" {
		t.Errorf("top country %+v", c)
	}
	if d.Previous == nil || d.Previous.Bans != 2 || d.Previous.Trend() != "+100%" {
		t.Errorf("previous %+v", d.Previous)
	}
	rows := map[string]report.Offender{}
	for _, o := range d.Offenders {
		rows[o.IP] = o
	}
	if o := rows["192.0.2.1"]; !o.Returning || o.FirstReported.IsZero() || o.StillBanned || o.Country != "NL" || o.ASN != 64496 {
		t.Errorf("returning offender %+v", o)
	}
	if o := rows["192.0.2.7"]; o.Returning || !o.StillBanned || !o.BannedUntil.IsZero() || !o.Escalated {
		t.Errorf("escalated offender %+v", o)
	}
	if o := rows["198.51.100.4"]; o.StillBanned || o.ASOrg != "Documentation Cloud (demo data)" {
		t.Errorf("unbanned offender %+v", o)
	}
	if d.Sparkline == "" {
		t.Error("no sparkline for an hour of bans")
	}

	// Recording the digest makes its addresses returning next time.
	if err := d.Record(h, now, ""); err != nil {
		t.Fatal(err)
	}
	next := build(report.Options{Generated: now.Add(time.Hour), History: h}, ban("sshd", "198.51.100.4", base+5000, 1))
	if next.Totals.Returning != 1 || next.Previous.Bans != 4 || next.Previous.Trend() != "-75%" {
		t.Errorf("after recording: totals %+v, previous %+v", next.Totals, next.Previous)
	}
}

// TestWhatStandsOut: a jail that no earlier report had comes first, then a
// spike of bans in one bucket, then an address banned by several jails
// (recidive aside); a quiet, even day has nothing.
func TestWhatStandsOut(t *testing.T) {
	base := 1795600800.0 // on the hour
	h := &history.History{}
	if err := h.Record(time.Unix(int64(base)-86400, 0), func(func(netip.Addr) bool) {}, []history.JailTotal{{Jail: "sshd", Bans: 1, Addresses: 1}}); err != nil {
		t.Fatal(err)
	}
	even := func(jail string) []*buffer.Record { // a ban an hour for a day
		var out []*buffer.Record
		for i := range 24 {
			out = append(out, ban(jail, "192.0.2."+strconv.Itoa(i+1), base+float64(i)*3600, 3))
		}
		return out
	}
	spike := append(even("sshd"), func() []*buffer.Record {
		var out []*buffer.Record
		for i := range 30 {
			out = append(out, ban("sshd", "198.51.100."+strconv.Itoa(i+1), base+5*3600+float64(i), 3))
		}
		return out
	}()...)
	several := append(even("sshd"), ban("dovecot", "192.0.2.5", base+100, 3), ban("postfix", "192.0.2.5", base+200, 3), ban("recidive", "192.0.2.5", base+300, 3))
	for _, tt := range []struct {
		name string
		opt  report.Options
		recs []*buffer.Record
		want string
	}{
		{"even", report.Options{History: h}, even("sshd"), "<nil>"},
		{"a new jail", report.Options{History: h}, append(even("sshd"), ban("nginx", "203.0.113.1", base, 3)), "new jails [nginx]"},
		{"a new jail, without a history", report.Options{}, append(even("sshd"), ban("nginx", "203.0.113.1", base, 3)), "<nil>"},
		{"a spike", report.Options{History: h}, spike, "spike of 31 at 15:00 UTC per 1h0m0s"},
		{"several jails", report.Options{}, append(several, ban("dovecot", "192.0.2.9", base, 3)), "192.0.2.5 in [dovecot postfix sshd]"},
	} {
		so := build(tt.opt, tt.recs...).StandsOut
		got := "<nil>"
		switch {
		case so == nil:
		case so.NewJails != nil:
			got = fmt.Sprintf("new jails %v", so.NewJails)
		case so.Spike != nil:
			got = fmt.Sprintf("spike of %d at %s per %v", so.Spike.Bans, so.Spike.At.UTC().Format("15:04 MST"), so.Spike.Step)
		default:
			got = fmt.Sprintf("%s in %v", so.Address, so.Jails)
		}
		if got != tt.want {
			t.Errorf("%s: stands out: %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestPreviousForChannel: a channel's digest compares with the previous
// report that channel was sent; until it has one, with a report recorded
// for no channel in particular (a history from before reports were recorded
// per channel), restricted to the jails it takes.
func TestPreviousForChannel(t *testing.T) {
	base := 1795600000.0
	now := time.Unix(int64(base)+3600, 0)
	none := func(func(netip.Addr) bool) {}
	h := &history.History{}
	if err := h.Record(now.Add(-48*time.Hour), none, []history.JailTotal{{Jail: "nginx", Bans: 6, Addresses: 6}, {Jail: "sshd", Bans: 4, Addresses: 4}}); err != nil {
		t.Fatal(err)
	}
	if err := h.RecordFor(now.Add(-24*time.Hour), "all", none, []history.JailTotal{{Jail: "nginx", Bans: 1, Addresses: 1}, {Jail: "sshd", Bans: 1, Addresses: 1}}); err != nil {
		t.Fatal(err)
	}
	d := build(report.Options{Generated: now, History: h}, ban("sshd", "192.0.2.1", base, 3), ban("sshd", "192.0.2.2", base, 3))
	for _, c := range []struct {
		channel string
		jails   []string
		bans    int
		trend   string
	}{
		{"all", nil, 2, "±0%"},                    // its own previous report
		{"ssh-only", []string{"sshd"}, 4, "-50%"}, // the old report's sshd bans
		{"new", nil, 10, "-80%"},                  // the old report, every jail
	} {
		p := d.PreviousFor(c.channel, c.jails).Previous
		if p == nil || p.Bans != c.bans || p.Trend() != c.trend {
			t.Errorf("%s: previous %+v, want %d bans and %s", c.channel, p, c.bans, c.trend)
		}
	}
	if d.Previous == nil || d.Previous.Bans != 2 {
		t.Errorf("the digest's own previous report (any channel's latest): %+v", d.Previous)
	}
}
