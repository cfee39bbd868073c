//go:build integration

package reliability

import (
	"bytes"
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

// banFiveTimes bans 5 addresses with both binaries in turn, each once the
// flushes the one before started have ended, and returns how many reports
// the fake sendmail of mailDir received.
func banFiveTimes(t *testing.T, s *site, mailDir string) int {
	t.Helper()
	progs := banBinaryList()
	for i := range 5 {
		prog := progs[i%len(progs)]
		if r := s.ban(prog, "--jail", "sshd", "--ip", ipN(i+1)); r.Code != 0 {
			t.Errorf("ban %d with %s: %v", i+1, filepath.Base(prog), r)
		}
		waitNoFlush(t, s)
	}
	return len(mailsIn(t, mailDir))
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
		n := banFiveTimes(t, s, mailDir)
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
		n := banFiveTimes(t, s, mailDir)
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
	t.Run("flag-folder", func(t *testing.T) {
		s, _ := flagSite(t, "open")
		open := filepath.Dir(s.flag)
		chk := s.cmd("check")
		if chk.Code == 0 || !strings.Contains(chk.Err, "key flag: the folder of "+s.flag+": stat "+open+": no such file or directory, so no flag can be created there") {
			t.Errorf("check with the flag's folder missing: %v", chk)
		}
		if err := os.Mkdir(open, 0o755); err != nil {
			t.Fatal(err)
		}
		warning := "warning: key flag: the flag's folder " + open + " is writable by every user (mode 0777) without the sticky bit: any user there can create mail.flag and send reports at will"
		for _, c := range []struct {
			mode os.FileMode
			warn bool
		}{{0o755, false}, {0o777, true}, {0o777 | os.ModeSticky, false}} {
			if err := os.Chmod(open, c.mode); err != nil {
				t.Fatal(err)
			}
			chk := s.cmd("check")
			if chk.Code != 0 || strings.Contains(chk.Err, warning) != c.warn {
				t.Errorf("check with the flag's folder %v: want exit 0 and the warning %v: %v", c.mode, c.warn, chk)
			}
		}
	})
	figures(t, "flag-not-removable", 12, 0, 0, 0,
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

// TestHostileFilesAroundRoot builds, as root, the set-ups where another
// user (nobody) controls files that f2b-notify reads, writes or runs: the
// buffer folder, the configuration file, a template, the sendmail program,
// and folders above them. Links planted in the buffer folder to root's files
// leave those files byte for byte as they were; every unsafe set-up is
// refused by check, flush, test and preview with one line naming the path,
// and a ban still stores its record where it can, saying so with a non-zero
// exit for fail2ban's log.
func TestHostileFilesAroundRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test gives files to the user nobody: run it as root")
	}
	secret := []byte("root:$y$j9T$secret:20000:0:99999:7:::\n")
	rootFile := func(t *testing.T, s *site, name string) string {
		t.Helper()
		p := filepath.Join(s.dir, name)
		if err := os.WriteFile(p, secret, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	linksUnchanged, links := 0, 0
	unchanged := func(t *testing.T, p string) {
		t.Helper()
		links++
		if b, err := os.ReadFile(p); err != nil || !bytes.Equal(b, secret) {
			t.Errorf("%s changed: %q, %v", p, b, err)
			return
		}
		linksUnchanged++
	}
	giveAway := func(t *testing.T, p string, mode os.FileMode) {
		t.Helper()
		if err := os.Chown(p, int(nobody.Uid), int(nobody.Gid)); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	refused := 0

	t.Run("links-in-a-buffer-folder-of-nobody", func(t *testing.T) {
		for _, prog := range banBinaryList() {
			s, _ := flagSite(t, "")
			if r := s.ban(prog, "--jail", "sshd", "--ip", ipN(1)); r.Code != 0 {
				t.Fatalf("first ban: %v", r)
			}
			giveAway(t, s.buf, 0o777)
			// nobody replaces pending.jsonl by a link to a root-only file.
			target := rootFile(t, s, "shadow")
			pending := filepath.Join(s.buf, "pending.jsonl")
			os.Remove(pending)
			if err := os.Symlink(target, pending); err != nil {
				t.Fatal(err)
			}
			r := s.ban(prog, "--jail", "sshd", "--ip", ipN(2))
			oneLineError(t, "ban through a planted link", r, pending, "symbolic link")
			unchanged(t, target)
			// A plain file again: the ban is stored, and said unsafe.
			os.Remove(pending)
			r = s.ban(prog, "--jail", "sshd", "--ip", ipN(3))
			oneLineError(t, "ban into a buffer folder of nobody", r, "ban recorded in "+s.buf, "buffer folder "+s.buf+" is owned by uid 65534, not by root", "no flush started")
			if recs, _ := s.records(); len(recs) != 1 || recs[0].IP != ipN(3) {
				t.Errorf("the ban was not stored in the unsafe folder: %v", recs)
			}
			t.Logf("%s said: %s", filepath.Base(prog), strings.TrimSpace(r.Err))
		}
	})

	t.Run("links-to-root-files-in-the-buffer-folder", func(t *testing.T) {
		// Even in root's own folder (say, left by a restore), no link is
		// followed: last-flush.log (a ban with the flag set), ledger.json,
		// lock, flush.lock and spool.
		for _, name := range []string{"last-flush.log", "ledger.json", "lock", "flush.lock"} {
			s, _ := flagSite(t, "")
			if r := s.ban(binary, "--jail", "sshd", "--ip", ipN(1)); r.Code != 0 {
				t.Fatalf("first ban: %v", r)
			}
			target := rootFile(t, s, "root-"+name)
			link := filepath.Join(s.buf, name)
			os.Remove(link)
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(s.flag, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, prog := range banBinaryList() {
				r := s.ban(prog, "--jail", "sshd", "--ip", ipN(2))
				waitNoFlush(t, s)
				switch name {
				case "last-flush.log", "lock":
					oneLineError(t, "ban with "+name+" a link", r, link, "symbolic link")
				}
			}
			fl := s.cmd("flush")
			if name != "last-flush.log" && (fl.Code == 0 || !strings.Contains(fl.Err, link) || !strings.Contains(fl.Err, "symbolic link")) {
				t.Errorf("flush with %s a link: want it refused naming the link: %v", name, fl)
			}
			st := s.cmd("status")
			if name == "ledger.json" && (st.Code == 0 || !strings.Contains(st.Err, link)) {
				t.Errorf("status with ledger.json a link: %v", st)
			}
			unchanged(t, target)
		}
	})

	// Set-ups that check must refuse and flush must not act on.
	type setup struct {
		name  string
		prep  func(t *testing.T, s *site, sendmail string) // sendmail: the program's path
		names func(s *site) []string                       // what check's and flush's line must name
		// channel: the fault is the channel's (program, template): flush
		// fails that channel, and refuses nothing else
		channel bool
		// checkAlso: more that check must name (faults flush refuses earlier)
		checkAlso []string
	}
	setups := []setup{
		{name: "buffer-folder-of-nobody-0777", prep: func(t *testing.T, s *site, _ string) {
			if err := os.MkdirAll(s.buf, 0o750); err != nil {
				t.Fatal(err)
			}
			giveAway(t, s.buf, 0o777)
		}, names: func(s *site) []string { return []string{"buffer folder " + s.buf, "owned by uid 65534"} }},
		{name: "buffer-folder-group-writable", prep: func(t *testing.T, s *site, _ string) {
			if err := os.MkdirAll(s.buf, 0o750); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(s.buf, 0o770); err != nil {
				t.Fatal(err)
			}
		}, names: func(s *site) []string {
			return []string{"buffer folder " + s.buf, "writable by its group", "chmod g-w " + s.buf}
		}},
		{name: "config-of-nobody-0666-naming-a-world-writable-sendmail", prep: func(t *testing.T, s *site, sendmail string) {
			if err := os.Chmod(sendmail, 0o777); err != nil {
				t.Fatal(err)
			}
			giveAway(t, s.cfg, 0o666)
		}, names: func(s *site) []string { return []string{"config " + s.cfg, "owned by uid 65534"} },
			checkAlso: []string{"key sendmail: program", "is writable by every user (mode 0777)"}},
		{name: "config-in-a-world-writable-folder", prep: func(t *testing.T, s *site, _ string) {
			open := filepath.Join(s.dir, "etc")
			if err := os.Mkdir(open, 0o777); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(open, 0o777); err != nil {
				t.Fatal(err)
			}
			moved := filepath.Join(open, "config.yaml")
			if err := os.Rename(s.cfg, moved); err != nil {
				t.Fatal(err)
			}
			s.cfg = moved
		}, names: func(s *site) []string {
			return []string{"config " + s.cfg + ": the folder " + filepath.Dir(s.cfg) + " is writable by every user (mode 0777)"}
		}},
		{name: "sendmail-world-writable", channel: true, prep: func(t *testing.T, s *site, sendmail string) {
			if err := os.Chmod(sendmail, 0o777); err != nil {
				t.Fatal(err)
			}
		}, names: func(s *site) []string {
			return []string{`channel "mail": key sendmail: program ` + filepath.Join(s.dir, "bin", "sendmail") + " is writable by every user (mode 0777)"}
		}},
		{name: "sendmail-of-nobody", channel: true, prep: func(t *testing.T, s *site, sendmail string) {
			giveAway(t, sendmail, 0o755)
		}, names: func(s *site) []string { return []string{"key sendmail", "owned by uid 65534"} }},
		{name: "sendmail-in-a-folder-of-nobody", channel: true, prep: func(t *testing.T, s *site, sendmail string) {
			giveAway(t, filepath.Dir(sendmail), 0o755)
		}, names: func(s *site) []string {
			return []string{"key sendmail: program " + filepath.Join(s.dir, "bin", "sendmail") + ": the folder " + filepath.Join(s.dir, "bin") + " is owned by uid 65534"}
		}},
		{name: "template-writable-by-all", channel: true, prep: func(t *testing.T, s *site, _ string) {
			if err := os.Chmod(filepath.Join(s.dir, "report.tmpl"), 0o666); err != nil {
				t.Fatal(err)
			}
		}, names: func(s *site) []string {
			return []string{"key templates.text: template " + filepath.Join(s.dir, "report.tmpl") + " is writable by every user (mode 0666)"}
		}},
	}
	for _, c := range setups {
		t.Run(c.name, func(t *testing.T) {
			s := newSite(t, siteOptions{})
			bin := filepath.Join(s.dir, "bin")
			if err := os.Mkdir(bin, 0o755); err != nil {
				t.Fatal(err)
			}
			sendmail := filepath.Join(bin, "sendmail")
			if err := os.WriteFile(sendmail, []byte(readFile(t, fakeSendmailBinary)), 0o755); err != nil {
				t.Fatal(err)
			}
			mailDir := filepath.Join(s.dir, "mail")
			if err := os.Mkdir(mailDir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(s.dir, "report.tmpl"), []byte("{{.Totals.Bans}} bans\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			s.writeConfig(siteOptions{channels: fmt.Sprintf("  mail:\n    type: sendmail\n    to: [root@localhost]\n    from: f2b@localhost\n    retries: 0\n    sendmail: %s\n    args: [--dir, %s]\n    templates:\n      text: %s\n  log:\n    type: file\n    path: {DIR}/reports.txt\n", sendmail, mailDir, filepath.Join(s.dir, "report.tmpl"))})
			if err := os.Chmod(s.cfg, 0o644); err != nil {
				t.Fatal(err)
			}
			if r := s.ban(binary, "--jail", "sshd", "--ip", ipN(1)); r.Code != 0 {
				t.Fatalf("ban before the fault: %v", r)
			}
			c.prep(t, s, sendmail)
			names := c.names(s)
			chk := s.cmd("check")
			if chk.Code == 0 {
				t.Errorf("check passed: %v", chk)
			}
			for _, n := range append(names, c.checkAlso...) {
				if !strings.Contains(chk.Err, n) {
					t.Errorf("check does not say %q: %v", n, chk)
				}
			}
			t.Logf("check said: %s", strings.TrimSpace(chk.Err))
			ok := chk.Code != 0
			for _, cmd := range [][]string{{"flush"}, {"test"}, {"preview"}} {
				r := s.cmd(cmd...)
				if r.Code == 0 {
					t.Errorf("%s ran: %v", cmd[0], r)
					ok = false
				}
				out := r.Out + r.Err
				for _, n := range names {
					if !strings.Contains(out, n) {
						t.Errorf("%s does not say %q: %v", cmd[0], n, r)
					}
				}
				if !c.channel && (strings.Count(strings.TrimSpace(r.Err), "\n") != 0 || r.Out != "") {
					t.Errorf("%s: want one line on stderr and nothing else: %v", cmd[0], r)
				}
			}
			if n := len(mailsIn(t, mailDir)); n != 0 {
				t.Errorf("the sendmail program ran %d times", n)
				ok = false
			}
			logged := countIPs(readFileOrEmpty(filepath.Join(s.dir, "reports.txt")))
			if c.channel && logged[ipN(1)] != 1 {
				t.Errorf("a fault of the mail channel kept the log channel from its report: %v", logged)
			}
			if !c.channel && len(logged) != 0 {
				t.Errorf("a refused set-up sent a report: %v", logged)
			}
			if st := s.cmd("status"); !c.channel && !strings.Contains(st.Out, "unsafe: ") {
				t.Errorf("status does not show the unsafe set-up: %v", st)
			}
			if ok {
				refused++
			}
		})
	}
	figures(t, "hostile-files", len(setups)+links, 0, 0, 0,
		fmt.Sprintf("refused_setups=%d/%d", refused, len(setups)), fmt.Sprintf("link_targets_unchanged=%d/%d", linksUnchanged, links))
}

func readFileOrEmpty(name string) string {
	b, _ := os.ReadFile(name)
	return string(b)
}
