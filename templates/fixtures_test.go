package templates

import (
	"time"

	"github.com/f2b-notify/f2b-notify/internal/history"
	"github.com/f2b-notify/f2b-notify/report"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// sampleDigest is a realistic digest: several jails, IPv4 and IPv6, repeat
// offenders with users and log lines, unbans and every note.
func sampleDigest() *report.Digest {
	return &report.Digest{
		Host:      "web1.example.org",
		Generated: at("2024-05-03T06:00:00Z"),
		From:      at("2024-05-01T08:12:04Z"),
		To:        at("2024-05-02T21:40:59Z"),
		Totals: report.Totals{
			Bans: 9, Unbans: 3, Failures: 87, IPs: 5, IPv6: 2, Jails: 3, Restored: 2, Duplicate: 1,
			Networks: 5, ASNs: 4, Countries: 3, New: 3, Returning: 2, StillBanned: 1, Escalated: 1,
		},
		Networks:  []report.Network{{Prefix: "203.0.113.0/24", Addresses: 1, Bans: 4, Jails: []string{"postfix-sasl", "sshd"}}},
		ASNs:      []report.ASN{{ASN: 64496, Org: "Example Hosting", Addresses: 2, Bans: 5}},
		Countries: []report.Country{{Code: "NL", Name: "Netherlands", Addresses: 3, Bans: 6}},
		Sparkline: "▁▂▅█▃▁",
		StandsOut: &report.StandOut{Address: "203.0.113.7", Jails: []string{"postfix-sasl", "sshd"}},
		Previous:  &report.Previous{Time: at("2024-05-01T06:00:00Z"), Bans: 6, Addresses: 4, Change: 50},
		Jails: []report.JailStat{
			{Name: "sshd", Bans: 5, Unbans: 2, IPs: 4, Failures: 55},
			{Name: "postfix-sasl", Bans: 3, Unbans: 1, IPs: 2, Failures: 27},
			{Name: "nginx-http-auth", Bans: 1, IPs: 1, Failures: 5},
		},
		Offenders: []report.Offender{
			{
				IP: "203.0.113.7", Jails: []string{"postfix-sasl", "sshd"}, Bans: 4, Failures: 40,
				FirstSeen: at("2024-05-01T08:12:04Z"), LastSeen: at("2024-05-02T21:40:59Z"), Bantime: 600,
				Users:       []string{"root", "admin", "oracle"},
				MoreUsers:   4,
				Matches:     []string{"May  2 21:40:58 web1 sshd[4123]: Failed password for root from 203.0.113.7 port 52144 ssh2", "May  2 21:40:59 web1 sshd[4123]: Failed password for admin from 203.0.113.7 port 52144 ssh2"},
				MoreMatches: 38,
				ASN:         64496, ASOrg: "Example Hosting", Country: "NL", CountryName: "Netherlands",
				Returning: true, FirstReported: at("2024-04-02T06:00:00Z"), Reports: 4,
			},
			{
				IP: "2001:db8:85a3::8a2e:370:7334", IPv6: true, Jails: []string{"sshd"}, Bans: 2, Failures: 20,
				FirstSeen: at("2024-05-01T23:05:00Z"), LastSeen: at("2024-05-02T03:30:00Z"), Bantime: -1,
				Users:   []string{"ubuntu"},
				Country: "BR", CountryName: "Brazil", Returning: true, FirstReported: at("2024-04-30T06:00:00Z"), Reports: 1,
				Matches: []string{"May  2 03:30:00 web1 sshd[999]: Invalid user ubuntu from 2001:db8:85a3::8a2e:370:7334 port 40022"},
			},
			{
				IP: "198.51.100.23", Jails: []string{"postfix-sasl"}, Bans: 1, Failures: 12,
				FirstSeen: at("2024-05-01T12:00:00Z"), LastSeen: at("2024-05-01T12:04:00Z"), Bantime: 3600,
				Matches: []string{"May  1 12:04:00 web1 postfix/smtpd[77]: warning: unknown[198.51.100.23]: SASL LOGIN authentication failed: UGFzc3dvcmQ6"},
			},
			{
				IP: "2001:db8::1", IPv6: true, Jails: []string{"nginx-http-auth"}, Bans: 1, Failures: 5,
				FirstSeen: at("2024-05-02T10:00:00Z"), LastSeen: at("2024-05-02T10:01:00Z"),
				Users: []string{"admin"},
			},
			{
				IP: "192.0.2.200", Jails: []string{"sshd"}, Bans: 1, Failures: 10,
				FirstSeen: at("2024-05-02T14:00:00Z"), LastSeen: at("2024-05-02T14:02:00Z"), Bantime: 90061,
			},
		},
		Unbans: []report.Unban{
			{IP: "192.0.2.15", Jails: []string{"sshd"}, Count: 1, Last: at("2024-05-01T09:00:00Z")},
			{IP: "203.0.113.7", Jails: []string{"postfix-sasl", "sshd"}, Count: 2, Last: at("2024-05-02T18:30:00Z")},
		},
		Notes: report.Notes{
			Batches: 3, Records: 14, TornLines: 1, Dropped: 2, MissedReports: 2,
			LastSuccess: at("2024-04-30T06:00:00Z"), MoreOffenders: 3,
		},
	}
}

// emptyDigest is what a flush with nothing to report renders.
func emptyDigest() *report.Digest {
	return &report.Digest{Host: "web1.example.org", Generated: at("2024-05-03T06:00:00Z")}
}

// hostileDigest carries markup, template syntax and escape sequences in every
// attacker-controlled field: some neutralised as the report does, some raw to
// prove the output filters.
func hostileDigest() *report.Digest {
	n := report.Neutralise
	script := "<script>alert(1)</script>"
	return &report.Digest{
		Host:      "evil\x1b[31m<b>host</b>",
		Generated: at("2024-05-03T06:00:00Z"),
		From:      at("2024-05-01T08:00:00Z"),
		To:        at("2024-05-01T09:00:00Z"),
		Totals:    report.Totals{Bans: 1, IPs: 1, Failures: 3, Jails: 1, Networks: 1, ASNs: 1, Countries: 1},
		ASNs:      []report.ASN{{ASN: 64496, Org: n(script + " @everyone <!channel> [x](http://e)"), Addresses: 1, Bans: 1}},
		Countries: []report.Country{{Code: "XX", Name: "raw\x1b[31m" + script + "\u202e", Addresses: 1, Bans: 1}},
		Jails:     []report.JailStat{{Name: n("jail" + script + "\x1b]0;pwned\x07"), Bans: 1, IPs: 1, Failures: 3}},
		Offenders: []report.Offender{{
			IP:        "192.0.2.1\x1b[2J",
			Jails:     []string{n(script), "&amp;\"'"},
			Bans:      1,
			Failures:  3,
			FirstSeen: at("2024-05-01T08:00:00Z"),
			LastSeen:  at("2024-05-01T09:00:00Z"),
			ASN:       64496, ASOrg: n(script + " @everyone <!channel> [x](http://e)"), Country: "XX", CountryName: "raw\x1b[31m" + script + "\u202e",
			Users:   []string{n(script), n("{{.Host}}"), n("root\x1b[31m\u202eevil"), "raw\x1b[31mred\r\u009b1m\u202e\xff", "`*bold*` _it_ [x](http://e)"},
			Matches: []string{n("Failed for " + script + " &amp; \"'\n\x1b[1A"), "raw\x1b[31m match\x00\x7f\r{{.Host}}"},
		}},
		Unbans: []report.Unban{{IP: "<img src=x onerror=alert(1)>", Jails: []string{script}, Count: 1, Last: at("2024-05-01T09:00:00Z")}},
	}
}

// quietDigest is the report report.send_empty sends when a flush finds no
// bans: since the previous report, with the last bans the history knows.
func quietDigest() *report.Digest {
	d := emptyDigest()
	d.Empty = true
	d.Since = at("2024-05-02T06:00:00Z")
	d.Notes.LastSuccess = d.Since
	d.Previous = &report.Previous{Time: d.Since}
	d.LastBans = &report.Previous{Time: at("2024-04-30T06:00:00Z"), Bans: 14, Addresses: 9, Jails: []history.JailTotal{
		{Jail: "nginx-http-auth", Bans: 2, Addresses: 1},
		{Jail: "postfix-sasl", Bans: 3, Addresses: 2},
		{Jail: "recidive", Bans: 1, Addresses: 1},
		{Jail: "sshd", Bans: 8, Addresses: 5},
	}}
	d.Fail2ban = &report.Fail2ban{Running: true, Started: at("2024-04-28T09:00:00Z"), JailsKnown: true,
		Jails: []string{"nginx-http-auth", "postfix-sasl", "recidive", "sshd"}}
	return d
}

// stoppedDigest is the report of no bans when the pid file names no live
// fail2ban-server.
func stoppedDigest() *report.Digest {
	d := quietDigest()
	d.Fail2ban = &report.Fail2ban{Why: "no process 4242 for pid file /var/run/fail2ban/fail2ban.pid"}
	return d
}
