package reliability

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// flushesRunning counts the flushes of the configuration cfg that run now
// (a ban starts them detached, in a session of their own), from /proc.
func flushesRunning(cfg string) int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		hasCfg, hasFlush := false, false
		for _, a := range args {
			hasCfg = hasCfg || a == cfg
			hasFlush = hasFlush || a == "flush"
		}
		if hasCfg && hasFlush {
			n++
		}
	}
	return n
}

// waitNoFlush waits until no flush of the site runs. A ban returns once the
// flush it starts has been exec'd, so after the ban a started flush is seen.
func waitNoFlush(t *testing.T, s *site) {
	t.Helper()
	waitFor(t, 60*time.Second, "the detached flushes to end", func() bool { return flushesRunning(s.cfg) == 0 })
}

// banBinaryList is banBinaries in a fixed order, so that bans alternate.
func banBinaryList() []string {
	out := []string{binary}
	if banBinary != "" {
		out = append(out, banBinary)
	}
	return out
}

// fiveBans is the programs of 5 bans, both binaries in turn.
func fiveBans() []string {
	progs := banBinaryList()
	out := make([]string, 5)
	for i := range out {
		out[i] = progs[i%len(progs)]
	}
	return out
}

// TestFlagThatCannotBeRemoved puts at the flag path what no flush can
// remove: a folder with a file in it (a typo such as `flag: /var/run`, or a
// user's mkdir), then a regular flag in a read-only folder. 5 bans with the
// flag there must not send 5 reports: the folder sends none, the stuck flag
// one, and the next only once the flag is created anew. check, status,
// flush and the detached flush's log say what is wrong.
func TestFlagThatCannotBeRemoved(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test mounts a read-only tmpfs: run it as root")
	}
	reports := map[string]int{}
	t.Run("folder-at-flag-path", func(t *testing.T) {
		s, mailDir := flagSite(t, "")
		if err := os.MkdirAll(filepath.Join(s.flag, "something"), 0o755); err != nil {
			t.Fatal(err)
		}
		for i, prog := range fiveBans() {
			r := s.ban(prog, "--jail", "sshd", "--ip", ipN(i+1))
			if r.Code != 0 {
				t.Errorf("ban %d with %s: %v", i+1, filepath.Base(prog), r)
			}
			waitNoFlush(t, s)
		}
		n := len(mailsIn(t, mailDir))
		reports["folder"] = n
		if n != 0 {
			t.Errorf("5 bans with a folder at the flag path sent %d reports, want 0", n)
		}
		chk := s.cmd("check")
		if chk.Code == 0 || !strings.Contains(chk.Err, "key flag: "+s.flag+" is a folder, not a file") {
			t.Errorf("check does not refuse the folder at the flag path: %v", chk)
		}
		st := s.cmd("status")
		if !strings.Contains(st.Out, "flag: "+s.flag+" (a folder, not a file: bans ignore it") {
			t.Errorf("status does not show the folder at the flag path: %v", st)
		}
		fl := s.cmd("flush", "--if-flag")
		if fl.Code == 0 || !strings.Contains(fl.Err, s.flag) || len(mailsIn(t, mailDir)) != 0 {
			t.Errorf("flush --if-flag with a folder at the flag path: %v", fl)
		}
		t.Logf("check said: %s", strings.TrimSpace(chk.Err))
		t.Logf("flush --if-flag said: %s", strings.TrimSpace(fl.Err))
		// The bans are all there for the next report.
		if fl := s.cmd("flush"); fl.Code == 0 || !strings.Contains(fl.Err, "a folder, not a file") {
			t.Errorf("flush with a folder at the flag path: want it sent and a non-zero exit naming the flag: %v", fl)
		}
		if got := countIPs(strings.Join(mailBodies(t, mailDir), "\n")); len(got) != 5 {
			t.Errorf("the next flush reported %d of the 5 addresses: %v", len(got), got)
		}
	})
	t.Run("flag-in-read-only-folder", func(t *testing.T) {
		s, mailDir := flagSite(t, "run")
		run := filepath.Dir(s.flag)
		if err := mountTmpfs(t, run, "64k"); err != nil {
			t.Fatal(err)
		}
		touchReadOnly := func() {
			remount(t, run, "64k", false)
			os.Remove(s.flag)
			if err := os.WriteFile(s.flag, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			remount(t, run, "64k", true)
		}
		touchReadOnly()
		for i, prog := range fiveBans() {
			if r := s.ban(prog, "--jail", "sshd", "--ip", ipN(i+1)); r.Code != 0 {
				t.Errorf("ban %d with %s: %v", i+1, filepath.Base(prog), r)
			}
			waitNoFlush(t, s)
		}
		n := len(mailsIn(t, mailDir))
		reports["read-only"] = n
		if n != 1 {
			t.Errorf("5 bans with a flag that cannot be removed sent %d reports, want 1", n)
		}
		log := readFile(t, filepath.Join(s.buf, "last-flush.log"))
		if !strings.Contains(log, "remove flag "+s.flag+": read-only file system; bans start no flush for this flag until it is created anew") {
			t.Errorf("last-flush.log does not say the flag could not be removed:\n%s", log)
		}
		st := s.cmd("status")
		if !strings.Contains(st.Out, "flag: "+s.flag+" (present, but the last flush could not remove it (remove flag "+s.flag+": read-only file system)") {
			t.Errorf("status does not show the stuck flag: %v", st)
		}
		chk := s.cmd("check")
		if chk.Code == 0 || !strings.Contains(chk.Err, "key flag: "+s.flag+": present, but the last flush could not remove it") {
			t.Errorf("check does not fail on the stuck flag: %v", chk)
		}
		fl := s.cmd("flush", "--if-flag")
		if fl.Code == 0 || !strings.Contains(fl.Err, "nothing sent") {
			t.Errorf("flush --if-flag with the stuck flag: %v", fl)
		}
		// A flush by hand sends what is pending and fails loudly again.
		fl = s.cmd("flush")
		if fl.Code == 0 || !strings.Contains(fl.Err, "f2b-notify: flush: remove flag "+s.flag+": read-only file system") || strings.Contains(fl.Err, "\n\n") {
			t.Errorf("flush by hand with the stuck flag: want exit 1 and the reason on stderr: %v", fl)
		}
		if n := len(mailsIn(t, mailDir)); n != 1 {
			t.Errorf("flush by hand sent %d reports, want 1 (bans 2 to 5)", n)
		}
		// Created anew (a cron job touching it the next day): one report.
		touchReadOnly()
		for i, prog := range banBinaryList() {
			if r := s.ban(prog, "--jail", "sshd", "--ip", ipN(10+i)); r.Code != 0 {
				t.Errorf("ban with %s: %v", filepath.Base(prog), r)
			}
			waitNoFlush(t, s)
		}
		if n := len(mailsIn(t, mailDir)); n != 1 {
			t.Errorf("bans after the flag was created anew sent %d reports, want 1", n)
		}
		t.Logf("status said: %s", strings.TrimSpace(st.Out))
		t.Logf("flush said: %s", strings.TrimSpace(fl.Err))
	})
	figures(t, "flag-not-removable", 10, 0, 0, 0,
		fmt.Sprintf("reports_for_5_bans_folder=%d", reports["folder"]),
		fmt.Sprintf("reports_for_5_bans_read_only=%d", reports["read-only"]))
}

// flagSite is a site with a fake sendmail channel (one file per report) and
// its flag in sub, a folder of the site ("" for the site's folder).
func flagSite(t *testing.T, sub string) (*site, string) {
	t.Helper()
	s := newSite(t, siteOptions{})
	settings, mailDir := fakeSendmail(t, s.dir, 0)
	s.flag = filepath.Join(s.dir, sub, "mail.flag")
	s.writeConfig(siteOptions{channels: "  mail:\n    type: sendmail\n    to: [root@localhost]\n    from: f2b@localhost\n    retries: 0\n" + settings})
	return s, mailDir
}

// mailBodies returns the text of the reports the fake sendmail kept so far,
// including those mailsIn has already moved aside.
func mailBodies(t *testing.T, mailDir string) []string {
	t.Helper()
	mailsIn(t, mailDir)
	names, _ := filepath.Glob(filepath.Join(mailDir, "seen", "msg.*"))
	var out []string
	for _, n := range names {
		p, err := parseMail([]byte(readFile(t, n)))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Text)
	}
	return out
}
