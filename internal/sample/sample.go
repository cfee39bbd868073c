// Package sample makes a realistic set of ban records for the demo and for
// `check`: several jails, IPv4 and IPv6, repeat offenders, user names, log
// lines, a retried command, a restored ban and unbans.
package sample

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/internal/history"
)

type attacker struct {
	ip    string
	jail  string
	bans  int
	users []string
	line  string // log line pattern: %s is the time, %d the PID, %s user, %s ip
}

var attackers = []attacker{
	{"203.0.113.45", "sshd", 4, []string{"root", "admin", "ubuntu"}, "%s vm sshd[%d]: Invalid user %s from %s port 53112"},
	{"2001:db8:4::17", "sshd", 3, []string{"oracle", "git"}, "%s vm sshd[%d]: Invalid user %s from %s port 40022"},
	{"198.51.100.23", "sshd", 2, []string{"alice"}, "%s vm sshd[%d]: Failed password for invalid user %s from %s port 22 ssh2"},
	{"192.0.2.150", "postfix-sasl", 2, []string{"info@example.org"}, "%s vm postfix/smtpd[%d]: warning: unknown[%[4]s]: SASL LOGIN authentication failed: %[3]s"},
	{"203.0.113.45", "recidive", 1, nil, "%s vm fail2ban.actions[%d]: NOTICE [sshd] Ban %[4]s"},
	{"2001:db8:beef::2", "nginx-http-auth", 1, []string{"wp-admin"}, "%s vm nginx[%d]: user \"%s\" was not found in \"/etc/nginx/.htpasswd\", client: %s"},
	{"198.51.100.77", "dovecot", 1, []string{"postmaster"}, "%s vm dovecot[%d]: auth: pam(%s,%s): unknown user"},
	{"192.0.2.9", "sshd", 1, []string{"<script>alert(1)</script>"}, "%s vm sshd[%d]: Invalid user %s from %s port 2222"},
}

// Records returns the sample, in the order fail2ban would have run the
// actions, ending at end.
func Records(end time.Time) []*buffer.Record {
	var out []*buffer.Record
	t := end.Add(-20 * time.Hour)
	pid := 4100
	for round := 0; round < 4; round++ {
		for _, a := range attackers {
			if round >= a.bans {
				continue
			}
			t = t.Add(37 * time.Minute)
			pid += 7
			r := &buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionBan, Jail: a.jail, IP: a.ip,
				Time: float64(t.Unix()), At: t.Unix() + 1, Failures: 3 + round, Bantime: 600 << round}
			if len(a.users) > 0 {
				r.User = a.users[round%len(a.users)]
			}
			stamp := t.UTC().Format(time.Stamp)
			r.Matches = []string{fmt.Sprintf(a.line, stamp, pid, r.User, a.ip), fmt.Sprintf(a.line, stamp, pid+1, r.User, a.ip)}
			out = append(out, r)
			if a.ip == "198.51.100.23" && round == 0 {
				dup := *r // fail2ban retried a timed-out actionban: counted once
				out = append(out, &dup)
			}
		}
	}
	out = append(out,
		&buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionBan, Jail: "sshd", IP: "192.0.2.200",
			Time: float64(end.Add(-30 * 24 * time.Hour).Unix()), At: end.Add(-19 * time.Hour).Unix(), Restored: true, Bantime: -1},
		&buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionUnban, Jail: "sshd", IP: "198.51.100.23",
			Time: float64(end.Add(-2 * time.Hour).Unix()), At: end.Add(-2 * time.Hour).Unix()},
		&buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionUnban, Jail: "dovecot", IP: "198.51.100.77",
			Time: float64(end.Add(-time.Hour).Unix()), At: end.Add(-time.Hour).Unix()},
	)
	return out
}

// History returns a record of earlier reports to go with Records(end): one
// a day before end and one a week before, which had two of the sample's
// addresses, so that a report of the sample shows returning addresses and
// a trend. The older one also had the mail jails, so that nginx-http-auth
// is the one jail that bans for the first time.
func History(end time.Time) *history.History {
	h := &history.History{}
	for _, back := range []time.Duration{7 * 24 * time.Hour, 24 * time.Hour} {
		addrs := func(yield func(netip.Addr) bool) {
			_ = yield(netip.MustParseAddr("203.0.113.45")) && yield(netip.MustParseAddr("2001:db8:4::17"))
		}
		// The sample's times are valid: Record refuses only times before
		// 1970 or after 2106.
		jails := []history.JailTotal{{Jail: "recidive", Bans: 1, Addresses: 1}, {Jail: "sshd", Bans: 7, Addresses: 2}}
		if back > 24*time.Hour {
			jails = append(jails, history.JailTotal{Jail: "dovecot", Bans: 1, Addresses: 1}, history.JailTotal{Jail: "postfix-sasl", Bans: 2, Addresses: 1})
		}
		_ = h.Record(end.Add(-back), addrs, jails)
	}
	return h
}
