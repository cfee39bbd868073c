package report_test

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/report"
)

func ban(jail, ip string, t float64, failures int) *buffer.Record {
	return &buffer.Record{V: 1, Action: buffer.ActionBan, Jail: jail, IP: ip, Time: t, Failures: failures}
}

func build(opt report.Options, recs ...*buffer.Record) *report.Digest {
	b := report.NewBuilder(opt)
	for _, r := range recs {
		b.Add(r)
	}
	return b.Digest()
}

func TestDigestCountsSortsAndDeduplicates(t *testing.T) {
	base := 1795600000.0
	retried := ban("sshd", "192.0.2.1", base+10, 5)
	d := build(report.Options{Host: "vm"},
		ban("sshd", "192.0.2.1", base, 3),
		retried,
		retried, // fail2ban ran the same actionban twice
		ban("recidive", "192.0.2.1", base+20, 1),
		ban("sshd", "2001:db8::7", base+5, 2),
		ban("sshd", "2001:db8::7", base+6, 2),
		ban("nginx", "198.51.100.1", base+1, 9),
		&buffer.Record{V: 1, Action: buffer.ActionBan, Jail: "sshd", IP: "203.0.113.9", Time: base - 9999, Restored: true},
		&buffer.Record{V: 1, Action: buffer.ActionUnban, Jail: "nginx", IP: "198.51.100.1", Time: base + 30},
	)
	tot := d.Totals
	if tot.Bans != 6 || tot.Duplicate != 1 || tot.Restored != 1 || tot.Unbans != 1 || tot.IPs != 3 || tot.IPv6 != 1 || tot.Jails != 3 || tot.Failures != 22 {
		t.Errorf("totals %+v", tot)
	}
	var order []string
	for _, o := range d.Offenders {
		order = append(order, o.IP)
	}
	// by bans, then failures, then address
	if got := strings.Join(order, " "); got != "192.0.2.1 2001:db8::7 198.51.100.1" {
		t.Errorf("offender order %q", got)
	}
	if o := d.Offenders[0]; strings.Join(o.Jails, ",") != "recidive,sshd" || o.Bans != 3 || o.Failures != 9 {
		t.Errorf("first offender %+v", o)
	}
	if !d.Offenders[1].IPv6 {
		t.Error("IPv6 offender not marked")
	}
	if d.Jails[0].Name != "sshd" || d.Jails[0].Bans != 4 || d.Jails[0].IPs != 2 {
		t.Errorf("jails %+v", d.Jails)
	}
	if !d.From.Equal(time.Unix(int64(base), 0)) || !d.To.Equal(time.Unix(int64(base+30), 0)) {
		t.Errorf("period %v – %v", d.From, d.To)
	}
	if len(d.Unbans) != 1 || d.Unbans[0].IP != "198.51.100.1" {
		t.Errorf("unbans %+v", d.Unbans)
	}
}

func TestRestoredBansCanBeIncluded(t *testing.T) {
	r := &buffer.Record{V: 1, Action: buffer.ActionBan, Jail: "sshd", IP: "203.0.113.9", Time: 100, Restored: true}
	if d := build(report.Options{IncludeRestored: true}, r); d.Totals.Bans != 1 || d.Totals.Restored != 0 {
		t.Errorf("include_restored: totals %+v", d.Totals)
	}
}

func TestCapsUsersAndMatchesKeepingTheLatest(t *testing.T) {
	var recs []*buffer.Record
	for i := range 10 {
		r := ban("sshd", "192.0.2.1", float64(100+i), 1)
		r.User = []string{"root", "admin", "root", "git", "oracle", "pi", "test"}[i%7]
		r.Matches = []string{"line " + string(rune('a'+i))}
		recs = append(recs, r)
	}
	d := build(report.Options{MaxUsers: 3, MaxMatches: 2}, recs...)
	o := d.Offenders[0]
	if strings.Join(o.Users, ",") != "root,admin,git" || o.MoreUsers != 3 {
		t.Errorf("users %v +%d", o.Users, o.MoreUsers)
	}
	if strings.Join(o.Matches, ",") != "line i,line j" || o.MoreMatches != 8 {
		t.Errorf("matches %v +%d", o.Matches, o.MoreMatches)
	}
}

func TestUntrustedTextIsNeutralised(t *testing.T) {
	r := ban("ssh\u202ed", "192.0.2.1", 1, 1)
	r.User = "root\x1b[2J\r\nX-Injected: yes"
	r.Matches = []string{"bad \xff utf8 \u200b zero width \x00 nul"}
	d := build(report.Options{}, r)
	o := d.Offenders[0]
	for _, s := range []string{o.Users[0], o.Matches[0], o.Jails[0], d.Jails[0].Name} {
		for _, c := range s {
			if c < 0x20 || c == 0x7f || c == 0x202e || c == 0x200b {
				t.Errorf("%q still holds %U", s, c)
			}
		}
	}
	if o.Users[0] != `root\x1b[2J\r\nX-Injected: yes` {
		t.Errorf("user shown as %q", o.Users[0])
	}
	if !strings.Contains(o.Matches[0], "\uFFFD") || !strings.Contains(o.Matches[0], "<U+200B>") || !strings.Contains(o.Matches[0], `\x00`) {
		t.Errorf("match shown as %q", o.Matches[0])
	}
}

func TestNeutraliseLeavesPlainTextAlone(t *testing.T) {
	for _, s := range []string{"", "root", "<b>markup</b> & *stars* `code` {{.Host}}", "Zürich 東京"} {
		if got := report.Neutralise(s); got != s {
			t.Errorf("Neutralise(%q) = %q", s, got)
		}
	}
}

func FuzzNeutralise(f *testing.F) {
	for _, s := range []string{"a\x1bb", "\u202e", "\xff\xfe", "ok", "\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := report.Neutralise(s)
		for _, c := range out {
			if c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x202e || c == 0x200b || c == 0x2028 {
				t.Fatalf("Neutralise(%q) = %q holds %U", s, out, c)
			}
		}
		if report.Neutralise(out) != out {
			t.Fatalf("not idempotent on %q", s)
		}
	})
}

// TestMaxOffendersKeepsTheWorst: with MaxOffenders, the rows are exactly
// the first ones of the full ranking (most bans, then most failures, then
// by address), the others counted in Notes.MoreOffenders; the totals still
// count everyone.
func TestMaxOffendersKeepsTheWorst(t *testing.T) {
	var recs []*buffer.Record
	for i := range 300 {
		// Bans 1-5 and failures 1-7 in an order unrelated to the address,
		// IPv4 and IPv6, so that every key of the ranking decides some pairs.
		ip := fmt.Sprintf("10.0.%d.%d", i/256, i%256)
		if i%3 == 0 {
			ip = fmt.Sprintf("2001:db8::%x:%x", i>>16, i&0xffff)
		}
		for b := range 1 + (i*7)%5 {
			recs = append(recs, ban(fmt.Sprintf("jail%d", b), ip, float64(1000+i), 1+(i*11)%7))
		}
	}
	all := build(report.Options{}, recs...)
	if len(all.Offenders) != 300 || all.Notes.MoreOffenders != 0 {
		t.Fatalf("without a cap: %d rows, %d more", len(all.Offenders), all.Notes.MoreOffenders)
	}
	for i := 1; i < len(all.Offenders); i++ {
		a, b := all.Offenders[i-1], all.Offenders[i]
		if a.Bans < b.Bans || a.Bans == b.Bans && a.Failures < b.Failures {
			t.Fatalf("rows %d and %d out of order: %+v then %+v", i-1, i, a, b)
		}
	}
	for _, n := range []int{1, 7, 100, 299, 300, 301} {
		d := build(report.Options{MaxOffenders: n}, recs...)
		want := all.Offenders[:min(n, 300)]
		if len(d.Offenders) != len(want) || d.Notes.MoreOffenders != 300-len(want) {
			t.Fatalf("cap %d: %d rows, %d more", n, len(d.Offenders), d.Notes.MoreOffenders)
		}
		for i := range want {
			if d.Offenders[i].IP != want[i].IP {
				t.Fatalf("cap %d: row %d is %s, want %s", n, i, d.Offenders[i].IP, want[i].IP)
			}
		}
		if d.Totals != all.Totals {
			t.Errorf("cap %d: totals %+v, want %+v", n, d.Totals, all.Totals)
		}
	}
}

// What the builder keeps per address holds no pointers, so that the garbage
// collector has nothing to scan in it however many addresses an attack
// brings: a flush of hundreds of thousands of them spent a third of its
// time collecting, and its peak memory grew by the collector's headroom.
func TestBuilderGivesTheCollectorNothingToScanPerAddress(t *testing.T) {
	const addrs = 100000
	b := report.NewBuilder(report.Options{MaxOffenders: 10})
	for i := range addrs {
		ip := fmt.Sprintf("10.%d.%d.%d", i>>16, i>>8&255, i&255)
		if i%4 == 0 {
			ip = fmt.Sprintf("2001:db8::%x:%x", i>>16, i&0xffff)
		}
		b.AddRef(&buffer.Record{V: 1, Action: buffer.ActionBan, Jail: []string{"sshd", "nginx"}[i%2], IP: ip, Time: float64(1795600000 + i), Failures: 3, User: []string{"root", "admin", "git"}[i%3], Lines: 2},
			report.LineRef{File: 0, Off: int64(i) * 300, Len: 299})
	}
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/scan/heap:bytes"}}
	metrics.Read(s)
	if scan := s[0].Value.Uint64(); scan > 2<<20 {
		t.Errorf("the collector scans %d bytes of heap for %d addresses (%.0f an address), want under 2 MiB in all", scan, addrs, float64(scan)/addrs)
	}
	if d := b.Digest(); d.Totals.IPs != addrs || d.Totals.IPv6 != addrs/4 {
		t.Errorf("totals %+v, want %d addresses, %d IPv6", d.Totals, addrs, addrs/4)
	}
}
