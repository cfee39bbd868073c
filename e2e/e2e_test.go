//go:build integration

package e2e

import (
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/internal/f2btest"
	"github.com/f2b-notify/f2b-notify/report"
)

// TestTwoAttackersOneReport: fail2ban bans two attackers of sshd, and one
// `f2b-notify flush` mails one report listing both, with the jail, the
// failures, the user names tried and the log lines, in both parts.
func TestTwoAttackersOneReport(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	const ipA, ipB = "198.51.100.23", "203.0.113.77"
	linesA := r.attack(ipA, "alice", "alice")
	linesB := r.attack(ipB, "bob", "bob")

	recs := byIP(t, r.waitRecords(2))
	for ip, want := range map[string]buffer.Record{
		ipA: {Action: "ban", Jail: "sshd", IP: ipA, Failures: 2, Bantime: 600, User: "alice", Matches: linesA},
		ipB: {Action: "ban", Jail: "sshd", IP: ipB, Failures: 2, Bantime: 600, User: "bob", Matches: linesB},
	} {
		got := recs[ip]
		if got == nil || got.Action != want.Action || got.Jail != want.Jail || got.Failures != want.Failures ||
			got.Bantime != want.Bantime || got.Restored || got.User != want.User || !slices.Equal(got.Matches, want.Matches) {
			t.Errorf("record of %s:\n got %+v\nwant %+v", ip, got, want)
		}
	}

	if out := r.flush(); !strings.Contains(out, "admin-mail: sent 2 bans from 1 batch") {
		t.Errorf("flush said:\n%s", out)
	}
	m := r.oneMail()
	if !strings.HasPrefix(m.Subject, "[Fail2Ban] e2e.example.org: 2 bans, 2 addresses, 1 jail (") {
		t.Errorf("Subject %q", m.Subject)
	}
	if got := m.Header.Get("To"); !strings.Contains(got, "root@localhost") {
		t.Errorf("To %q", got)
	}
	wantSummary(t, m.Text, map[string]int{"Bans": 2, "Addresses": 2, "Failures": 4, "Jails": 1, "Unbans": 0})
	if !regexp.MustCompile(`(?m)^  sshd +2 +2 +4 +0$`).MatchString(section(m.Text, "JAILS")) {
		t.Errorf("JAILS should read sshd 2 bans, 2 IPs, 4 failures, 0 unbans:\n%s", m.Text)
	}
	offs := offenders(t, m.Text)
	if len(offs) != 2 {
		t.Errorf("want 2 offenders, got %d:\n%s", len(offs), m.Text)
	}
	for ip, users := range map[string]string{ipA: "alice", ipB: "bob"} {
		o := offs[ip]
		if o == nil {
			t.Errorf("offender %s missing:\n%s", ip, m.Text)
			continue
		}
		if o.bans != 1 || o.failures != 2 || o.jails != "sshd" {
			t.Errorf("offender %s: %+v, want 1 ban, 2 failures, jail sshd", ip, *o)
		}
		if !strings.Contains(o.detail, "      users:  "+users+"\n") {
			t.Errorf("offender %s: want users %q:\n%s", ip, users, o.detail)
		}
	}
	for _, l := range append(linesA, linesB...) {
		if !strings.Contains(m.Text, "  "+l+"\n") {
			t.Errorf("text part lacks the log line %q:\n%s", l, m.Text)
		}
		if !strings.Contains(m.HTML, l) {
			t.Errorf("html part lacks the log line %q", l)
		}
	}
	for _, s := range []string{ipA, ipB, ">sshd<", ">alice<", ">bob<"} {
		if !strings.Contains(m.HTML, s) {
			t.Errorf("html part lacks %q:\n%s", s, m.HTML)
		}
	}
	requireDrained(t, r.bufDir)
}

// TestFlagFileSendsFromTheBan: the sendmail-cron way. With the flag file
// present, the action of the next ban starts a detached flush and returns at
// once; the report arrives, and the flag and the delivered batch are gone.
// The SMTP server takes 5 s to greet: fail2ban's own log shows that the
// ban's action did not wait for it.
func TestFlagFileSendsFromTheBan(t *testing.T) { eachBanBinary(t, testFlagFileSendsFromTheBan) }

func testFlagFileSendsFromTheBan(t *testing.T, ban string) {
	const delay = 5 * time.Second
	r := newRig(t, rigOptions{ban: ban, relay: slowRelay(delay)})
	const quiet, flagged = "198.51.100.10", "198.51.100.11"
	r.attack(quiet, "alice", "alice")
	r.waitRecords(1)
	// The record is visible before its command has looked for the flag:
	// a flag created in between would make this ban start the report.
	r.waitBanAction(quiet)
	if len(r.sink.Messages()) != 0 {
		t.Fatal("a ban without the flag sent mail")
	}
	if err := os.WriteFile(r.flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r.attack(flagged, "bob", "bob")

	m := r.oneMail()
	offs := offenders(t, m.Text)
	if len(offs) != 2 || offs[quiet] == nil || offs[flagged] == nil {
		t.Errorf("want both bans in the report:\n%s", m.Text)
	}
	if err := f2btest.WaitFor(wait, func() bool {
		_, err := os.Stat(r.flag)
		return os.IsNotExist(err)
	}); err != nil {
		t.Errorf("the flag is still there after the report: %v", err)
	}
	requireDrained(t, r.bufDir)

	log := r.srv.Log()
	dQuiet, dFlagged := actionTime(t, log, quiet), actionTime(t, log, flagged)
	t.Logf("actionban in fail2ban (Ban notice to return): without flag %v, with flag %v; the SMTP server greets after %v",
		dQuiet, dFlagged, delay)
	if dFlagged >= delay/2 {
		t.Errorf("with the flag, the ban's action took %v: it waited for the send (server delay %v)", dFlagged, delay)
	}
	if _, err := r.srv.Client("ping"); err != nil {
		t.Errorf("fail2ban does not answer after the flagged ban: %v", err)
	}
}

// TestFlaggedBanReturnsAtOnce runs the action's exact actionban command line,
// as fail2ban holds it, by hand through sh -c, alternately without and with
// the flag file, with an SMTP server that takes 5 s to greet. The command
// with the flag must return about as fast as without (medians within 50 ms),
// and no run may take as long as the server's delay. Afterwards every ban is
// reported exactly once.
func TestFlaggedBanReturnsAtOnce(t *testing.T) { eachBanBinary(t, testFlaggedBanReturnsAtOnce) }

func testFlaggedBanReturnsAtOnce(t *testing.T, ban string) {
	const (
		delay = 5 * time.Second
		runs  = 15
	)
	r := newRig(t, rigOptions{ban: ban, relay: slowRelay(delay)})
	tmpl, err := r.srv.Client("get", f2btest.Jail, "action", "f2b-notify", "actionban")
	if err != nil {
		t.Fatal(err)
	}
	tmpl = strings.TrimSpace(tmpl)
	if !strings.HasPrefix(tmpl, `"`+ban+`" --config "`+r.config+`" ban `) || !strings.Contains(tmpl, `"<matches>"`) {
		t.Fatalf("unexpected actionban: %q", tmpl)
	}
	// Two buffers: one whose flag is set before every ban, one without.
	type side struct {
		config, bufDir, flag string
		times                []time.Duration
	}
	mk := func(name string) *side {
		dir := filepath.Join(r.dir, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		s := &side{bufDir: filepath.Join(dir, "buf"), flag: filepath.Join(dir, "mail.flag")}
		s.config = writeConfig(t, dir, s.bufDir, s.flag, r.msmtp, r.smtp)
		return s
	}
	without, with := mk("without"), mk("with")
	runBan := func(s *side, ip string) {
		t.Helper()
		line := f2btest.AttackLine(time.Now(), 4242, ip, "alice")
		cmdline := strings.NewReplacer(
			`"`+r.config+`"`, `"`+s.config+`"`,
			"<ip>", ip, "<failures>", "2", "<time>", "1795628212.0", "<bantime>", "600",
			"<restored>", "0", "<F-USER>", "alice", "<matches>", line,
		).Replace(tmpl)
		// As fail2ban runs it: sh -c, stdout and stderr piped back; the
		// command has returned when both pipes are closed.
		cmd := exec.Command("/bin/sh", "-c", cmdline)
		start := time.Now()
		out, err := cmd.CombinedOutput()
		s.times = append(s.times, time.Since(start))
		if err != nil || len(out) != 0 {
			t.Fatalf("%s: %v: %q", cmdline, err, out)
		}
	}
	var ips []string
	for i := range runs {
		ip := fmt.Sprintf("192.0.2.%d", i+1)
		ips = append(ips, ip)
		runBan(without, ip)
		if err := os.WriteFile(with.flag, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		runBan(with, ip)
	}
	m0, m1 := median(without.times), median(with.times)
	t.Logf("actionban by hand, %d runs each: median without flag %v, with flag %v (max %v, %v); server delay %v",
		runs, m0, m1, slices.Max(without.times), slices.Max(with.times), delay)
	if m1 >= m0+50*time.Millisecond {
		t.Errorf("with the flag the ban takes %v (median), without %v: it waits for something", m1, m0)
	}
	if slowest := slices.Max(with.times); slowest >= delay {
		t.Errorf("a ban with the flag took %v, as long as the server's delay %v: it waited for the send", slowest, delay)
	}

	// The detached flush delivered what it claimed and removed the flag; the
	// bans that came during its send wait for the next flush.
	r.sink.WaitFor(t, 1, wait)
	if err := f2btest.WaitFor(wait, func() bool {
		_, err := os.Stat(with.flag)
		return os.IsNotExist(err) && len(procsNaming(with.config)) == 0
	}); err != nil {
		t.Fatalf("the background flush did not finish: %v", err)
	}
	if res := run(t, with.config, "flush"); res.code != 0 {
		t.Fatalf("flush: %v", res)
	}
	seen := map[string]int{}
	for _, msg := range r.sink.Messages() {
		for ip := range offenders(t, parseMail(t, msg).Text) {
			seen[ip]++
		}
	}
	for _, ip := range ips {
		if seen[ip] != 1 {
			t.Errorf("%s is in %d reports, want 1 (all: %v)", ip, seen[ip], seen)
		}
	}
	t.Logf("%d reports for %d bans", len(r.sink.Messages()), runs)
	requireDrained(t, with.bufDir)
	if n := len(records(t, without.bufDir)); n != runs {
		t.Errorf("without the flag: %d records pending, want %d", n, runs)
	}
}

// TestManualBanAndUnban: `fail2ban-client set sshd banip` and `unbanip` are
// recorded (a ban with no failures, then an unban) and reported: the ban
// among the offenders, the unban under UNBANS.
func TestManualBanAndUnban(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	const ip = "192.0.2.7"
	if err := r.srv.BanIP(f2btest.Jail, ip); err != nil {
		t.Fatal(err)
	}
	r.waitRecords(1)
	if err := r.srv.UnbanIP(f2btest.Jail, ip); err != nil {
		t.Fatal(err)
	}
	recs := r.waitRecords(2)
	if b := recs[0]; b.Action != "ban" || b.IP != ip || b.Jail != "sshd" || b.Failures != 0 || b.User != "" || len(b.Matches) != 0 || b.Restored {
		t.Errorf("banip recorded %+v", *b)
	}
	if u := recs[1]; u.Action != "unban" || u.IP != ip || u.Jail != "sshd" {
		t.Errorf("unbanip recorded %+v", *u)
	}

	r.flush()
	m := r.oneMail()
	wantSummary(t, m.Text, map[string]int{"Bans": 1, "Addresses": 1, "Failures": 0, "Unbans": 1})
	if o := offenders(t, m.Text)[ip]; o == nil || o.bans != 1 || o.failures != 0 {
		t.Errorf("offender %s: %+v\n%s", ip, o, m.Text)
	}
	unbans := section(m.Text, "UNBANS")
	if !regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(ip) + ` +1  [A-Z][a-z]{2} [0-9]{2} [0-9]{2}:[0-9]{2}  sshd$`).MatchString(unbans) {
		t.Errorf("UNBANS should list %s once in sshd:\n%s", ip, m.Text)
	}
	if !strings.Contains(m.HTML, ">Unbans</h2>") || strings.Count(m.HTML, ip) != 2 {
		t.Errorf("html part should list %s as offender and under Unbans:\n%s", ip, m.HTML)
	}
	requireDrained(t, r.bufDir)
}

// TestRestartReplaysBansAsRestored: a restart sends what is pending
// (actionstop), then fail2ban replays its bans with restored=1. The next
// report counts them as restored, not as bans, and lists none of them as an
// offender; a flush with nothing but restored bans sends nothing, and keeps
// them for the next report.
func TestRestartReplaysBansAsRestored(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	const ipA, ipB, ipC = "198.51.100.31", "198.51.100.32", "203.0.113.33"
	r.attack(ipA, "alice", "alice")
	r.attack(ipB, "bob", "bob")
	r.waitRecords(2)
	r.waitStored(ipA, ipB)

	r.srv.Restart()
	first := r.oneMail() // sent by actionstop
	if offs := offenders(t, first.Text); len(offs) != 2 || offs[ipA] == nil || offs[ipB] == nil {
		t.Errorf("the restart's actionstop should mail both bans:\n%s", first.Text)
	}
	recs := byIP(t, r.waitRecords(2))
	for _, ip := range []string{ipA, ipB} {
		if rec := recs[ip]; rec == nil || rec.Action != "ban" || !rec.Restored || rec.Failures != 2 {
			t.Errorf("replayed ban of %s: %+v", ip, rec)
		}
	}

	r.attack(ipC, "carol", "carol")
	r.waitRecords(3)
	r.flush()
	msgs := r.sink.WaitFor(t, 2, wait)
	second := parseMail(t, msgs[1])
	wantSummary(t, second.Text, map[string]int{"Bans": 1, "Addresses": 1, "Restored": 2})
	if offs := offenders(t, second.Text); len(offs) != 1 || offs[ipC] == nil {
		t.Errorf("the report after the restart should list only %s as an offender:\n%s", ipC, second.Text)
	}
	if !strings.HasPrefix(second.Subject, "[Fail2Ban] e2e.example.org: 1 ban, 1 address, 1 jail") {
		t.Errorf("Subject %q", second.Subject)
	}

	// Again, with nothing new: three restored bans, no mail.
	r.waitStored(ipA, ipB, ipC)
	r.srv.Restart()
	for _, rec := range r.waitRecords(3) {
		if !rec.Restored {
			t.Errorf("after the second restart: %+v", *rec)
		}
	}
	if out := r.flush(); !strings.Contains(out, "admin-mail: nothing to send; 1 batch without new bans waits for the next report") {
		t.Errorf("flush of restored bans only said:\n%s", out)
	}
	if n := len(r.sink.Messages()); n != 2 {
		t.Errorf("restored bans alone sent a report: %d messages", n)
	}
	// They wait for the next report, not confirmed unseen.
	if bs := batches(t, r.bufDir); len(bs) != 1 {
		t.Errorf("%d batches in the spool, want the restored bans' one waiting", len(bs))
	}
}

// waitStored waits until fail2ban's database holds exactly ips as banned,
// so that a restart replays them.
func (r *rig) waitStored(ips ...string) {
	r.t.Helper()
	want := slices.Sorted(slices.Values(ips))
	var got []string
	if err := f2btest.WaitFor(wait, func() bool {
		got, _ = r.srv.StoredBans(f2btest.Jail)
		return slices.Equal(got, want)
	}); err != nil {
		r.t.Fatalf("fail2ban's database holds %q, want %q", got, want)
	}
}

// TestStopFlushesWithoutUnbans: stopping fail2ban runs actionflush (one
// `true`) instead of one unban per ban, and actionstop mails what is
// pending: the report has every ban and no unban, and nothing is left.
func TestStopFlushesWithoutUnbans(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	const ipA, ipB, ipC = "198.51.100.41", "198.51.100.42", "192.0.2.43"
	r.attack(ipA, "alice", "alice")
	r.attack(ipB, "bob", "bob")
	if err := r.srv.BanIP(f2btest.Jail, ipC); err != nil {
		t.Fatal(err)
	}
	r.waitRecords(3)

	r.srv.Stop()
	m := r.oneMail()
	wantSummary(t, m.Text, map[string]int{"Bans": 3, "Addresses": 3, "Unbans": 0})
	if offs := offenders(t, m.Text); len(offs) != 3 || offs[ipA] == nil || offs[ipB] == nil || offs[ipC] == nil {
		t.Errorf("the stop's report should list the three bans:\n%s", m.Text)
	}
	if strings.Contains(m.Text, "\nUNBANS\n") {
		t.Errorf("stopping fail2ban recorded unbans:\n%s", m.Text)
	}
	requireDrained(t, r.bufDir)
	if !strings.Contains(r.srv.Log(), "Flush ticket(s) with f2b-notify") {
		t.Errorf("fail2ban's log does not show actionflush at stop")
	}
}

// TestHostileLogLinesStayData: a user name and log line holding shell
// syntax, HTML, quotes, CRLF-looking text and non-ASCII reach f2b-notify
// byte for byte, nothing in them runs, and the report shows them intact in
// the text part and escaped in the HTML part.
func TestHostileLogLinesStayData(t *testing.T) { eachBanBinary(t, testHostileLogLinesStayData) }

func testHostileLogLinesStayData(t *testing.T, ban string) {
	r := newRig(t, rigOptions{ban: ban})
	canary := filepath.Join(r.dir, "CANARY")
	const ip, dashIP = "198.51.100.66", "198.51.100.67"
	user := `x$(touch ` + canary + `)` + "`touch " + canary + "`" +
		` ;|&<>'"<b>bold</b>&amp;<script>alert(1)</script>\r\nBcc: evil@example.com é✓日本 ${HOME} <ip> %(name)s`
	// A value that looks like an option must stay the value of --user.
	const dashUser = "--config=/nonexistent -h"
	// A user name shaped like a fail2ban tag is still the attacker's.
	const tagIP, tagUser = "198.51.100.68", "<admin>"
	users := map[string]string{ip: user, dashIP: dashUser, tagIP: tagUser}
	lines := map[string][]string{ip: r.attack(ip, user, user), dashIP: r.attack(dashIP, dashUser, dashUser), tagIP: r.attack(tagIP, tagUser, tagUser)}

	for addr, rec := range byIP(t, r.waitRecords(3)) {
		if rec.User != users[addr] {
			t.Errorf("%s: user name not byte for byte:\n got %q\nwant %q", addr, rec.User, users[addr])
		}
		if !slices.Equal(rec.Matches, lines[addr]) {
			t.Errorf("%s: log lines not byte for byte:\n got %q\nwant %q", addr, rec.Matches, lines[addr])
		}
	}

	r.flush()
	m := r.oneMail()
	if strings.Contains(m.Subject, "touch") || m.Header.Get("Bcc") != "" {
		t.Errorf("attacker text reached the headers: Subject %q, Bcc %q", m.Subject, m.Header.Get("Bcc"))
	}
	// Text: intact (a user name cut to the length a report shows; the log
	// lines hold it whole).
	offs := offenders(t, m.Text)
	for addr, u := range users {
		if o := offs[addr]; o == nil || !strings.Contains(o.detail, "      users:  "+report.ShowUser(u)+"\n") {
			t.Errorf("text part does not show the user name of %s intact:\n%s", addr, m.Text)
		}
		for _, l := range lines[addr] {
			if !strings.Contains(m.Text, "  "+l+"\n") {
				t.Errorf("text part does not show the log line intact: %q\n%s", l, m.Text)
			}
		}
	}
	// HTML: escaped, and the same text once unescaped.
	for _, raw := range []string{"<b>bold", "<script>", "'\"<b"} {
		if strings.Contains(m.HTML, raw) {
			t.Errorf("html part holds %q unescaped:\n%s", raw, m.HTML)
		}
	}
	for _, esc := range []string{"&lt;b&gt;bold&lt;/b&gt;&amp;amp;&lt;script&gt;alert(1)&lt;/script&gt;", "&#39;&#34;", "é✓日本"} {
		if !strings.Contains(m.HTML, esc) {
			t.Errorf("html part lacks %q:\n%s", esc, m.HTML)
		}
	}
	plain := html.UnescapeString(m.HTML)
	for _, s := range append(append([]string{report.ShowUser(user), dashUser}, lines[ip]...), lines[dashIP]...) {
		if !strings.Contains(plain, s) {
			t.Errorf("html part, unescaped, lacks %q", s)
		}
	}
	requireDrained(t, r.bufDir)
	r.srv.Stop() // the last command that gets the text: actionstop
	requireGone(t, canary)
}

// TestMailServerDown: with the mail server down, flush exits 1 naming the
// channel and keeps the batch; once the server is back, the next flush
// delivers everything, each address in exactly one mail.
func TestMailServerDown(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	const ipA, ipB, ipC = "198.51.100.51", "198.51.100.52", "203.0.113.53"
	r.attack(ipA, "alice", "alice")
	r.attack(ipB, "bob", "bob")
	r.waitRecords(2)

	r.sink.Stop()
	res := run(t, r.config, "flush")
	if res.code != 1 || !strings.Contains(res.stderr, "admin-mail: FAILED: ") || !strings.Contains(res.stderr, "channel admin-mail failed; its bans are kept for the next flush") {
		t.Errorf("flush with the server down: want exit 1 naming admin-mail; %v", res)
	}
	bs := batches(t, r.bufDir)
	if len(bs) != 1 {
		t.Fatalf("want the batch kept in the spool, have %v", bs)
	}
	var kept []string
	if _, err := buffer.ScanFile(bs[0].Path, func(rec *buffer.Record) error {
		kept = append(kept, rec.IP)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if slices.Sort(kept); !slices.Equal(kept, []string{ipA, ipB}) {
		t.Errorf("kept batch holds %q", kept)
	}

	r.attack(ipC, "carol", "carol")
	r.waitRecords(1)
	r.sink.Restart(t)
	if out := r.flush(); !strings.Contains(out, "admin-mail: sent 3 bans from 2 batches") {
		t.Errorf("flush after the server came back said:\n%s", out)
	}
	m := r.oneMail()
	if offs := offenders(t, m.Text); len(offs) != 3 || offs[ipA] == nil || offs[ipB] == nil || offs[ipC] == nil {
		t.Errorf("want the three bans in one report:\n%s", m.Text)
	}
	if !strings.Contains(section(m.Text, "NOTES"), "missed 1 earlier report") {
		t.Errorf("the report does not say a report was missed:\n%s", m.Text)
	}
	if out := r.flush(); !strings.Contains(out, "no bans to report") {
		t.Errorf("third flush said:\n%s", out)
	}
	if n := len(r.sink.Messages()); n != 1 {
		t.Errorf("%d messages, want 1: something was sent twice", n)
	}
	requireDrained(t, r.bufDir)
}

// TestIPv6Attackers: IPv6 attackers are banned and reported like IPv4 ones,
// including one whose failure lines name no user.
func TestIPv6Attackers(t *testing.T) {
	t.Parallel()
	r := newRig(t, rigOptions{})
	const v6a, v6b, v4 = "2001:db8::23", "2001:db8:0:1::99", "203.0.113.5"
	linesA := r.attack(v6a, "carol", "carol")
	linesB := r.attack(v6b, "", "")
	r.attack(v4, "dave", "dave")

	recs := byIP(t, r.waitRecords(3))
	for ip, want := range map[string][]string{v6a: linesA, v6b: linesB} {
		rec := recs[ip]
		if rec == nil || rec.Failures != 2 || !slices.Equal(rec.Matches, want) {
			t.Errorf("record of %s: %+v", ip, rec)
		}
	}
	if rec := recs[v6b]; rec != nil && rec.User != "" {
		t.Errorf("record of %s: user %q, want none", v6b, rec.User)
	}

	r.flush()
	m := r.oneMail()
	wantSummary(t, m.Text, map[string]int{"Bans": 3, "Addresses": 3, "Failures": 6})
	if !strings.Contains(section(m.Text, "SUMMARY"), "  (2 IPv6)") {
		t.Errorf("SUMMARY should count 2 IPv6 addresses:\n%s", m.Text)
	}
	offs := offenders(t, m.Text)
	for _, ip := range []string{v6a, v6b, v4} {
		if o := offs[ip]; o == nil || o.bans != 1 || o.failures != 2 || o.jails != "sshd" {
			t.Errorf("offender %s: %+v\n%s", ip, o, m.Text)
		}
		if !strings.Contains(m.HTML, ">"+ip+"<") {
			t.Errorf("html part lacks %s", ip)
		}
	}
	if o := offs[v6a]; o != nil && !strings.Contains(o.detail, "users:  carol\n") {
		t.Errorf("offender %s: want user carol:\n%s", v6a, o.detail)
	}
	for _, l := range append(linesA, linesB...) {
		if !strings.Contains(m.Text, "  "+l+"\n") {
			t.Errorf("text part lacks %q", l)
		}
	}
	requireDrained(t, r.bufDir)
}

// TestShippedFilesPassConfigTest: fail2ban's own check accepts the shipped
// action file with action.d/jail.local.example in a copy of the system's
// /etc/fail2ban, pointed at the built binaries and a real configuration, and
// f2b-notify's check accepts that configuration. The private servers of the
// other tests load the action file as shipped too.
func TestShippedFilesPassConfigTest(t *testing.T) {
	t.Parallel()
	f2btest.NeedFail2ban(t)
	root := f2btest.RepoRoot(t)
	dir := f2btest.TempDir(t)
	conf := filepath.Join(dir, "fail2ban")
	if err := os.CopyFS(conf, os.DirFS(f2btest.StockDir)); err != nil {
		t.Fatal(err)
	}
	for src, dst := range map[string]string{"f2b-notify.conf": "action.d/f2b-notify.conf", "jail.local.example": "jail.local"} {
		data, err := os.ReadFile(filepath.Join(root, "action.d", src))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(conf, dst), string(data))
	}
	// check finds the sendmail program: one that is there, as on a host
	// with a mail server.
	sendmail := filepath.Join(dir, "sendmail")
	writeFile(t, sendmail, "#!/bin/sh\ncat >/dev/null\n")
	if err := os.Chmod(sendmail, 0o755); err != nil {
		t.Fatal(err)
	}
	config := writeConfig(t, dir, filepath.Join(dir, "buf"), filepath.Join(dir, "mail.flag"), sendmail, "127.0.0.1:25")
	authLog := filepath.Join(dir, "auth.log")
	writeFile(t, authLog, "")
	// Only what a host differs in: where sshd logs, and where the binary
	// and its configuration are.
	writeFile(t, filepath.Join(conf, "jail.d", "zz-e2e.local"), fmt.Sprintf(
		"[DEFAULT]\nf2b_notify_bin = %s\nf2b_notify_ban_bin = %s\nf2b_notify_config = %s\n\n[sshd]\nlogpath = %s\nbackend = polling\n",
		f2bNotify, f2bNotifyBan, config, authLog))

	out, err := f2btest.ConfigTest(conf)
	if err != nil || !strings.Contains(out, "OK: configuration test is successful") {
		t.Fatalf("fail2ban-client -t: %v\n%s", err, out)
	}
	dump, err := exec.Command("fail2ban-client", "-c", conf, "-d").CombinedOutput()
	if err != nil {
		t.Fatalf("fail2ban-client -d: %v\n%s", err, dump)
	}
	for _, want := range []string{
		`['actionstart', '"` + f2bNotify + `" --config "` + config + `" start --jail "sshd"']`,
		`['actionstop', '"` + f2bNotify + `" --config "` + config + `" stop --jail "sshd"']`,
		`['actionban', '"` + f2bNotifyBan + `" --config "` + config + `" ban --jail "sshd" --ip "<ip>"`,
		`['actionunban', '"` + f2bNotifyBan + `" --config "` + config + `" unban --jail "sshd" --ip "<ip>"`,
	} {
		if !strings.Contains(string(dump), want) {
			t.Errorf("fail2ban-client -d lacks %s\n%s", want, dump)
		}
	}
	if res := run(t, config, "check"); res.code != 0 {
		t.Errorf("f2b-notify check: %v", res)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// actionTime reads fail2ban's log: the time from the notice that it bans ip
// to the return of the next action command, that ban's actionban.
func actionTime(t *testing.T, log, ip string) time.Duration {
	t.Helper()
	d, done, err := banAction(log, ip)
	if err != nil {
		t.Fatal(err)
	}
	if !done {
		t.Fatalf("fail2ban's log shows no completed action for the ban of %s:\n%s", ip, log)
	}
	return d
}

// waitBanAction waits until fail2ban's log shows that the actionban of ip
// has returned: the record is in the buffer before that, while the command
// still runs (it looks for the flag file after appending).
func (r *rig) waitBanAction(ip string) {
	r.t.Helper()
	var perr error
	err := f2btest.WaitFor(wait, func() bool {
		_, done, err := banAction(r.srv.Log(), ip)
		perr = err
		return done || err != nil
	})
	if perr != nil {
		r.t.Fatal(perr)
	}
	if err != nil {
		r.t.Fatalf("the actionban of %s did not return: %v\n%s", ip, err, r.srv.Log())
	}
}

// banAction parses fail2ban's log: done once the action command after the
// notice "Ban ip" has returned successfully, with the time between the two;
// an error if that command failed or its log line has no time.
func banAction(log, ip string) (d time.Duration, done bool, err error) {
	const stamp = "2006-01-02 15:04:05,000"
	at := func(line string) (time.Time, error) {
		if len(line) < len(stamp) {
			return time.Time{}, fmt.Errorf("fail2ban log line without a time: %q", line)
		}
		tm, err := time.Parse(stamp, line[:len(stamp)])
		if err != nil {
			return time.Time{}, fmt.Errorf("fail2ban log line: %w", err)
		}
		return tm, nil
	}
	lines := strings.Split(log, "\n")
	for i, l := range lines {
		if !strings.HasSuffix(l, "] Ban "+ip) {
			continue
		}
		for _, l2 := range lines[i+1:] {
			if strings.Contains(l2, " -- returned successfully ") {
				t1, err := at(l)
				if err != nil {
					return 0, false, err
				}
				t2, err := at(l2)
				if err != nil {
					return 0, false, err
				}
				return t2.Sub(t1), true, nil
			}
			if strings.Contains(l2, " -- returned ") || strings.Contains(l2, " -- timed out ") || strings.Contains(l2, " -- killed ") {
				return 0, false, fmt.Errorf("the action of the ban of %s failed: %s", ip, l2)
			}
		}
	}
	return 0, false, nil
}
