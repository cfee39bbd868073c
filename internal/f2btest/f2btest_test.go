//go:build integration

package f2btest_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/internal/f2btest"
)

// TestShippedConfigPassesConfigTest checks action.d/f2b-notify.conf and
// action.d/jail.local.example with fail2ban's own configuration test, in a
// copy of the system's /etc/fail2ban (the example refers to stock files:
// jail.conf, the nftables-multiport banaction, the sshd filter).
func TestShippedConfigPassesConfigTest(t *testing.T) {
	f2btest.NeedFail2ban(t)
	root := f2btest.RepoRoot(t)
	dir := f2btest.TempDir(t)
	conf := filepath.Join(dir, "fail2ban")
	if err := os.CopyFS(conf, os.DirFS(f2btest.StockDir)); err != nil {
		t.Fatalf("copying %s: %v", f2btest.StockDir, err)
	}
	copyTo(t, filepath.Join(root, "action.d", "f2b-notify.conf"), filepath.Join(conf, "action.d", "f2b-notify.conf"))
	copyTo(t, filepath.Join(root, "action.d", "jail.local.example"), filepath.Join(conf, "jail.local"))
	// The example reads sshd's usual log (/var/log/auth.log on Debian), which a
	// test host may lack, and fail2ban's check fails on a missing log file.
	// Only the log's location is overridden (jail.d/*.local is read after
	// jail.local).
	authLog := filepath.Join(dir, "auth.log")
	writeFile(t, authLog, "")
	writeFile(t, filepath.Join(conf, "jail.d", "zz-f2btest.local"),
		"[sshd]\nlogpath = "+authLog+"\nbackend = polling\n")

	out, err := f2btest.ConfigTest(conf)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "OK: configuration test is successful") {
		t.Fatalf("fail2ban-client -t: unexpected output:\n%s", out)
	}

	// What fail2ban would send to its server: the firewall action first (the
	// nftables one, which works on hosts without iptables, Debian's default),
	// then f2b-notify with the example's binaries: the lean f2b-notify-ban for
	// bans and unbans, the full f2b-notify for the rest.
	dump := run(t, "fail2ban-client", "-c", conf, "-d")
	fw := strings.Index(dump, "['set', 'sshd', 'addaction', 'nftables-multiport']")
	fn := strings.Index(dump, "['set', 'sshd', 'addaction', 'f2b-notify']")
	if fw < 0 || fn < 0 || fw > fn {
		t.Fatalf("sshd should ban with nftables-multiport, then run f2b-notify (positions %d, %d):\n%s", fw, fn, dump)
	}
	for _, want := range []string{
		`['actionban', '"/usr/bin/f2b-notify-ban" --config "/etc/f2b-notify/config.yaml" ban --jail "sshd" --ip "<ip>" \\\n--failures "<failures>" --time "<time>" --bantime "<bantime>" \\\n--restored "<restored>" --user "<F-USER>" --matches "<matches>"']`,
		`['actionunban', '"/usr/bin/f2b-notify-ban" --config "/etc/f2b-notify/config.yaml" unban --jail "sshd" --ip "<ip>" \\\n--failures "<failures>" --time "<time>" --bantime "<bantime>" \\\n--restored "<restored>"']`,
		`['actionstart', '"/usr/bin/f2b-notify" --config "/etc/f2b-notify/config.yaml" start --jail "sshd"']`,
		`['actionstop', '"/usr/bin/f2b-notify" --config "/etc/f2b-notify/config.yaml" stop --jail "sshd"']`,
		`['actionflush', 'true']`,
		`['timeout', '30']`,
	} {
		if !strings.Contains(dump, want) {
			t.Errorf("fail2ban-client -d lacks %s", want)
		}
	}
	if strings.Contains(dump, "norestored") {
		t.Errorf("norestored must not be set: restored bans are recorded")
	}
}

// call is one run of the recording stand-in: its arguments.
type call []string

// flag returns the value after name, and whether name is there.
func (c call) flag(name string) (string, bool) {
	for i := 0; i+1 < len(c); i++ {
		if c[i] == name {
			return c[i+1], true
		}
	}
	return "", false
}

// recorder writes a shell script that stands in for f2b-notify: it appends
// its argument count and every argument, each ended by a NUL byte (the one
// byte an argument cannot hold), to rec. The path holds a space to prove the
// action quotes <f2b_notify> too.
func recorder(t *testing.T, dir, rec string) string {
	t.Helper()
	bin := filepath.Join(dir, "bin dir", "f2b-notify")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\n{ printf '%s\\0' \"$#\"; for a in \"$@\"; do printf '%s\\0' \"$a\"; done; } >> '" + rec + "'\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// calls reads what the recorder wrote.
func calls(t *testing.T, rec string) []call {
	t.Helper()
	data, err := os.ReadFile(rec)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Split(string(data), "\x00")
	if fields[len(fields)-1] != "" {
		t.Fatalf("record file does not end with NUL: %q", data)
	}
	fields = fields[:len(fields)-1]
	var out []call
	for len(fields) > 0 {
		n, err := strconv.Atoi(fields[0])
		if err != nil || n > len(fields)-1 {
			t.Fatalf("bad record file at %q", fields)
		}
		out = append(out, call(fields[1:1+n]))
		fields = fields[1+n:]
	}
	return out
}

// waitCalls waits until the recorder has been run n times in all.
func waitCalls(t *testing.T, srv *f2btest.Server, rec string, n int) []call {
	t.Helper()
	var got []call
	if err := f2btest.WaitFor(15*time.Second, func() bool {
		got = calls(t, rec)
		return len(got) >= n
	}); err != nil {
		t.Fatalf("want %d action runs, got %d: %q\n%s", n, len(got), got, srv.Log())
	}
	return got
}

func sameCall(t *testing.T, what string, got, want call) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: argv\n got %q\nwant %q", what, got, want)
		return
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: argument %d\n got %q\nwant %q\n(full argv %q)", what, i, got[i], want[i], got)
		}
	}
}

var (
	floatTime = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)
	intTime   = regexp.MustCompile(`^[0-9]+$`)
)

// TestActionPassesEveryTagByteForByte runs a private fail2ban with the
// shipped action file and a recording stand-in for the binary, and checks the
// argv of every action command: attacks (IPv4 with a hostile user name, IPv6
// with no user), a manual ban and unban, a restart (restored bans), unban
// --all and stop (actionflush, no unban per ban).
func TestActionPassesEveryTagByteForByte(t *testing.T) {
	f2btest.NeedFail2ban(t)
	dir := f2btest.TempDir(t)
	rec := filepath.Join(dir, "argv.rec")
	bin := recorder(t, dir, rec)
	cfg := filepath.Join(dir, "my config.yaml")
	canary := filepath.Join(dir, "CANARY")

	srv := f2btest.Start(t, f2btest.Options{BinPath: bin, ConfigPath: cfg})
	pid1 := srv.PID()
	if _, err := f2btest.ConfigTest(srv.ConfDir()); err != nil {
		t.Fatalf("the harness's own configuration: %v", err)
	}

	got := waitCalls(t, srv, rec, 1)
	sameCall(t, "actionstart", got[0], call{"--config", cfg, "start", "--jail", "sshd"})

	// Shell syntax of every kind, quotes, a backslash, fail2ban's own tag and
	// interpolation syntax, and non-ASCII text, in the user name and thus in
	// the log lines.
	user := `x$(touch ` + canary + `)` + "`touch " + canary + "`" +
		` ;|&<>'"\ ${HOME} <ip> <F-USER> %(name)s %s %% *?[a] ~ é✓日本`
	const ip4 = "198.51.100.23"
	before := time.Now().Unix()
	l1 := srv.Attack(0, ip4, user)
	l2 := srv.Attack(0, ip4, user)
	after := time.Now().Unix()
	if err := srv.WaitBanned(f2btest.Jail, ip4, 15*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, srv.Log())
	}
	got = waitCalls(t, srv, rec, 2)
	ban := got[1]
	banTime, _ := ban.flag("--time")
	sameCall(t, "actionban after two failures", ban, call{
		"--config", cfg, "ban", "--jail", "sshd", "--ip", ip4,
		"--failures", "2", "--time", banTime, "--bantime", "600", "--restored", "0",
		"--user", user, "--matches", l1 + "\n" + l2,
	})
	// <time> is the last failure's time from the log line (whole seconds),
	// written as a Python float.
	if !strings.HasSuffix(banTime, ".0") || !floatTime.MatchString(banTime) {
		t.Errorf("--time %q: want a float such as 1795628212.0", banTime)
	}
	if sec, _ := strconv.ParseFloat(banTime, 64); int64(sec) < before || int64(sec) > after {
		t.Errorf("--time %q: want the attack's time, between %d and %d", banTime, before, after)
	}

	// IPv6, and a failure line from which the filter captures no user.
	const ip6 = "2001:db8::23"
	m1 := srv.Attack(0, ip6, "")
	m2 := srv.Attack(0, ip6, "")
	if err := srv.WaitBanned(f2btest.Jail, ip6, 15*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, srv.Log())
	}
	got = waitCalls(t, srv, rec, 3)
	ban6 := got[2]
	ban6Time, _ := ban6.flag("--time")
	sameCall(t, "actionban IPv6, no user", ban6, call{
		"--config", cfg, "ban", "--jail", "sshd", "--ip", ip6,
		"--failures", "2", "--time", ban6Time, "--bantime", "600", "--restored", "0",
		"--user", "", "--matches", m1 + "\n" + m2,
	})

	// A manual ban: no failures, no log lines, no user; the time is now,
	// a float with a fraction.
	const manual = "192.0.2.7"
	if err := srv.BanIP(f2btest.Jail, manual); err != nil {
		t.Fatal(err)
	}
	got = waitCalls(t, srv, rec, 4)
	manualTime, _ := got[3].flag("--time")
	sameCall(t, "actionban of banip", got[3], call{
		"--config", cfg, "ban", "--jail", "sshd", "--ip", manual,
		"--failures", "0", "--time", manualTime, "--bantime", "600", "--restored", "0",
		"--user", "", "--matches", "",
	})
	if !floatTime.MatchString(manualTime) {
		t.Errorf("banip --time %q: want a float", manualTime)
	}
	if err := srv.UnbanIP(f2btest.Jail, manual); err != nil {
		t.Fatal(err)
	}
	got = waitCalls(t, srv, rec, 5)
	sameCall(t, "actionunban of unbanip", got[4], call{
		"--config", cfg, "unban", "--jail", "sshd", "--ip", manual,
		"--failures", "0", "--time", manualTime, "--bantime", "600", "--restored", "0",
	})

	// Restart: stop runs actionflush (`true`, not recorded) instead of one
	// actionunban per ban, then actionstop; start replays the bans of the
	// database with restored 1, an integer time, and the stored failures,
	// matches and user.
	srv.Restart()
	got = waitCalls(t, srv, rec, 9)
	if len(got) != 9 {
		t.Fatalf("after restart: want 9 action runs, got %d: %q", len(got), got)
	}
	sameCall(t, "actionstop", got[5], call{"--config", cfg, "stop", "--jail", "sshd"})
	sameCall(t, "actionstart after restart", got[6], call{"--config", cfg, "start", "--jail", "sshd"})
	restored := map[string]call{}
	for _, c := range got[7:] {
		ip, _ := c.flag("--ip")
		restored[ip] = c
	}
	if c, ok := restored[ip4]; !ok {
		t.Errorf("no restored ban of %s: %q", ip4, got[7:])
	} else {
		sameCall(t, "restored ban", c, call{
			"--config", cfg, "ban", "--jail", "sshd", "--ip", ip4,
			"--failures", "2", "--time", strings.TrimSuffix(banTime, ".0"), "--bantime", "600", "--restored", "1",
			"--user", user, "--matches", l1 + "\n" + l2,
		})
	}
	if c, ok := restored[ip6]; !ok {
		t.Errorf("no restored ban of %s: %q", ip6, got[7:])
	} else {
		tm, _ := c.flag("--time")
		if !intTime.MatchString(tm) {
			t.Errorf("restored --time %q: want an integer", tm)
		}
		sameCall(t, "restored IPv6 ban", c, call{
			"--config", cfg, "ban", "--jail", "sshd", "--ip", ip6,
			"--failures", "2", "--time", tm, "--bantime", "600", "--restored", "1",
			"--user", "", "--matches", m1 + "\n" + m2,
		})
	}

	// unban --all runs actionflush once: nothing is recorded; then stop.
	if _, err := srv.Client("unban", "--all"); err != nil {
		t.Fatal(err)
	}
	if banned, err := srv.Banned(f2btest.Jail, ip4); err != nil || banned {
		t.Errorf("after unban --all: %s banned=%v, %v", ip4, banned, err)
	}
	pid2 := srv.PID()
	srv.Stop()
	got = calls(t, rec)
	if len(got) != 10 {
		t.Fatalf("after unban --all and stop: want 10 action runs (one more: stop), got %d: %q", len(got), got[9:])
	}
	sameCall(t, "actionstop", got[9], call{"--config", cfg, "stop", "--jail", "sshd"})

	// Nothing in a tag ever ran.
	if _, err := os.Stat(canary); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("canary %s exists (err %v): a tag value was run by the shell", canary, err)
	}
	// Both servers are gone.
	for _, pid := range []int{pid1, pid2} {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("fail2ban-server pid %d still there after Stop: %v", pid, err)
		}
	}
	if pid1 == pid2 {
		t.Errorf("restart kept pid %d", pid1)
	}
}

// TestStockActionAlongside runs the stock sendmail-buffered action next to
// f2b-notify (the comparison the harness is for), a permanent ban, and a
// crash: Kill runs no actionstop, Restart brings the ban back once.
func TestStockActionAlongside(t *testing.T) {
	f2btest.NeedFail2ban(t)
	dir := f2btest.TempDir(t)
	rec := filepath.Join(dir, "argv.rec")
	bin := recorder(t, dir, rec)
	mail := filepath.Join(dir, "mail.txt")
	srv := f2btest.Start(t, f2btest.Options{
		BinPath:     bin,
		ActionFiles: []string{"sendmail-buffered.conf"},
		Actions: []string{`sendmail-buffered[lines=1, tmpfile="` + filepath.Join(dir, "tmp-mail.txt") +
			`", mailcmd="cat >> ` + mail + `"]`},
		Jail: map[string]string{"bantime": "-1"},
	})
	if _, err := os.Stat(filepath.Join(srv.ConfDir(), "action.d", "sendmail-common.conf")); err != nil {
		t.Errorf("the include of sendmail-buffered.conf was not copied: %v", err)
	}
	const ip = "203.0.113.9"
	srv.Attack(0, ip, "bob")
	srv.Attack(0, ip, "bob")
	if err := srv.WaitBanned(f2btest.Jail, ip, 15*time.Second); err != nil {
		t.Fatalf("%v\n%s", err, srv.Log())
	}
	if err := f2btest.WaitFor(15*time.Second, func() bool {
		data, _ := os.ReadFile(mail)
		return bytes.Contains(data, []byte(ip+" (2 failures)"))
	}); err != nil {
		data, _ := os.ReadFile(mail)
		t.Fatalf("sendmail-buffered mailed no summary: %v\n%s\n%s", err, data, srv.Log())
	}
	got := waitCalls(t, srv, rec, 2)
	if b, _ := got[1].flag("--bantime"); b != "-1" {
		t.Errorf("permanent ban: --bantime %q, want -1", b)
	}

	// fail2ban writes a ban to its database a moment after running the
	// actions: wait for it, or the crash would lose the ban.
	if err := f2btest.WaitFor(15*time.Second, func() bool {
		ips, err := srv.StoredBans(f2btest.Jail)
		return err == nil && len(ips) == 1 && ips[0] == ip
	}); err != nil {
		ips, err2 := srv.StoredBans(f2btest.Jail)
		t.Fatalf("ban not stored: %v: %q %v", err, ips, err2)
	}
	srv.Kill()
	srv.Restart()
	// After a crash the ban comes back exactly once, but in one of two forms,
	// depending on a race inside fail2ban: the crash also lost the read
	// position of the log, so the new server reads the two failure lines again.
	// If the ban restored from the database is handled first, actionban gets
	// --restored 1 and an integer --time; if the re-read lines ban first, it
	// gets --restored 0 and the float --time, and the restored ticket is then
	// "already banned". Either way --time is the same instant, so a recorder
	// can tell the repeat by jail, ip and the numeric time.
	waitCalls(t, srv, rec, 4)
	srv.Stop()
	got = calls(t, rec)
	if len(got) != 5 || got[2][2] != "start" || got[3][2] != "ban" || got[4][2] != "stop" {
		t.Fatalf("crash, restart, stop: want start, one ban, stop; got %q", got[2:])
	}
	t1, _ := got[1].flag("--time")
	t2, _ := got[3].flag("--time")
	r, _ := got[3].flag("--restored")
	f1, _ := strconv.ParseFloat(t1, 64)
	f2, _ := strconv.ParseFloat(t2, 64)
	switch {
	case r == "1" && intTime.MatchString(t2) && f1 == f2:
	case r == "0" && t2 == t1:
	default:
		t.Errorf("ban after a crash: --restored %q --time %q; first ban --time %q", r, t2, t1)
	}
	t.Logf("ban after a crash: --restored %s --time %s (first ban --time %s)", r, t2, t1)
}

func copyTo(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dst, string(data))
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

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
