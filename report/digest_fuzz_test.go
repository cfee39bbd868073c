package report_test

import (
	"net/netip"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/internal/geoip"
	"github.com/f2b-notify/f2b-notify/report"
)

// FuzzDigestIsNeutralised builds digests from records whose attacker-set
// fields (user, matches, jail) and host name are arbitrary: no string of the
// digest may hold invalid UTF-8, a control character, or an invisible or
// bidirectional format character, no field longer than its bound, and the
// totals must add up.
func FuzzDigestIsNeutralised(f *testing.F) {
	f.Add("sshd", "root", "Failed password for root", "web1", uint8(2))
	f.Add("jail\u202e", "us\x00er\x1b[2J", "line\r\n\x9b31m\u200b", "\xff\xfe", uint8(1))
	f.Add("", "<script>", "{{.Host}}", "\u2028", uint8(0))
	f.Fuzz(func(t *testing.T, jail, user, match, host string, n uint8) {
		// The provider and country names of a database file are as hostile.
		geo := hostileGeo{org: match + user, country: jail, name: user}
		b := report.NewBuilder(report.Options{Host: host, MaxUsers: 3, MaxMatches: 2, Geo: geo, Warnings: []string{match}})
		ips := []string{"192.0.2.1", "2001:db8::1", "198.51.100.7"}
		for i := range int(n%8) + 1 {
			b.Add(&buffer.Record{V: 1, Action: buffer.ActionBan, Jail: jail, IP: ips[i%len(ips)], Time: float64(1000 + i),
				Failures: i, User: user + string(rune('a'+i)), Matches: []string{match, match + "!"}})
			if i%3 == 2 {
				b.Add(&buffer.Record{V: 1, Action: buffer.ActionUnban, Jail: jail, IP: ips[i%len(ips)], Time: float64(2000 + i)})
			}
		}
		d := b.Digest()
		check := func(what, s string) {
			if !utf8.ValidString(s) {
				t.Fatalf("%s %q is not valid UTF-8", what, s)
			}
			for _, r := range s {
				if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029 {
					t.Fatalf("%s %q holds %U", what, s, r)
				}
			}
		}
		check("host", d.Host)
		bans := 0
		for _, j := range d.Jails {
			check("jail", j.Name)
		}
		for _, o := range d.Offenders {
			bans += o.Bans
			text := 0
			for _, s := range o.Users {
				check("user", s)
				if n := utf8.RuneCountInString(s); n > report.MaxUserLen {
					t.Fatalf("user name of %d characters shown", n)
				}
				text += utf8.RuneCountInString(s)
			}
			for _, s := range o.Matches {
				check("match", s)
				if n := utf8.RuneCountInString(s); n > report.MaxLineLen {
					t.Fatalf("log line of %d characters shown", n)
				}
				text += utf8.RuneCountInString(s)
			}
			if text > report.MaxOffenderText {
				t.Fatalf("%d characters of user names and log lines shown for one offender", text)
			}
			for _, s := range o.Jails {
				check("offender jail", s)
			}
			for _, s := range []string{o.ASOrg, o.Country, o.CountryName} {
				check("offender provider or country", s)
				if n := utf8.RuneCountInString(s); n > report.MaxNameLen {
					t.Fatalf("provider or country name of %d characters shown", n)
				}
			}
		}
		for _, a := range d.ASNs {
			check("provider", a.Org)
		}
		for _, c := range d.Countries {
			check("country", c.Code)
			check("country", c.Name)
		}
		for _, n := range d.Networks {
			for _, s := range n.Jails {
				check("network jail", s)
			}
		}
		for _, w := range d.Notes.Warnings {
			check("warning", w)
		}
		for _, u := range d.Unbans {
			for _, s := range u.Jails {
				check("unban jail", s)
			}
		}
		if bans != d.Totals.Bans || len(d.Offenders) != d.Totals.IPs {
			t.Fatalf("totals %+v do not add up: %d bans in %d offender rows", d.Totals, bans, len(d.Offenders))
		}
	})
}

// hostileGeo is a database whose names are whatever the fuzzer gives.
type hostileGeo struct{ org, country, name string }

func (g hostileGeo) Lookup(netip.Addr) (geoip.Info, error) {
	return geoip.Info{ASN: 64496, Org: g.org, Country: g.country, CountryName: g.name}, nil
}
