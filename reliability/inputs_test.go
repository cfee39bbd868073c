//go:build integration

package reliability

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/f2b-notify/f2b-notify/internal/smtpsink"
)

// TestBadArgumentsChangeNothing runs the ban binaries with every argument
// mistake fail2ban or an admin can make: each exits 2 with one line naming
// the flag, and the buffer is byte for byte what it was.
func TestBadArgumentsChangeNothing(t *testing.T) {
	s := newSite(t, siteOptions{channels: "  log:\n    type: file\n    path: {DIR}/reports.txt\n"})
	for i := range 3 {
		if r := s.ban(binary, "--jail", "sshd", "--ip", ipN(i)); r.Code != 0 {
			t.Fatal(r)
		}
	}
	ok := []string{"--jail", "sshd", "--ip", "192.0.2.1"}
	with := func(flag, value string) []string {
		out := slices.Clone(ok)
		if i := slices.Index(out, flag); i >= 0 {
			out[i+1] = value
			return out
		}
		return append(out, flag, value)
	}
	cases := []struct {
		name string
		args []string
		flag string // what the error must name
	}{
		{"ip-not-an-address", with("--ip", "not-an-ip"), "--ip"},
		{"ip-short", with("--ip", "1.2.3"), "--ip"},
		{"ip-with-shell", with("--ip", "1.2.3.4; rm -rf /"), "--ip"},
		{"ip-with-zone", with("--ip", "fe80::1%eth0"), "--ip"},
		{"ip-missing", []string{"--jail", "sshd"}, "--ip"},
		{"jail-empty", with("--jail", ""), "--jail"},
		{"jail-blank", with("--jail", "   "), "--jail"},
		{"jail-newline", with("--jail", "ssh\nd"), "--jail"},
		{"failures-negative", with("--failures", "-1"), "--failures"},
		{"failures-word", with("--failures", "three"), "--failures"},
		{"failures-fraction", with("--failures", "1.5"), "--failures"},
		{"time-word", with("--time", "yesterday"), "--time"},
		{"time-negative", with("--time", "-5"), "--time"},
		{"time-nan", with("--time", "NaN"), "--time"},
		{"bantime-word", with("--bantime", "forever"), "--bantime"},
		{"bantime-below-minus-one", with("--bantime", "-2"), "--bantime"},
		{"restored-two", with("--restored", "2"), "--restored"},
		// Out of bounds: a count no ticket has, times after 2200, a ban
		// longer than 100 years; each would make nonsense of the totals or
		// the report's period.
		{"failures-huge", with("--failures", "9223372036854775807"), "--failures"},
		{"failures-over-a-million", with("--failures", "1000001"), "--failures"},
		{"time-year-31688740476", with("--time", "1e18"), "--time"},
		{"time-after-2200", with("--time", "7258118400"), "--time"},
		{"time-infinite", with("--time", "+Inf"), "--time"},
		{"bantime-huge", with("--bantime", "1e18"), "--bantime"},
		{"bantime-over-100-years", with("--bantime", "3155760001"), "--bantime"},
		{"unknown-flag", append(slices.Clone(ok), "--bogus", "1"), "bogus"},
		{"stray-argument", append(slices.Clone(ok), "extra"), "extra"},
	}
	tried := 0
	for _, c := range cases {
		for prog, path := range banBinaries() {
			for _, action := range []string{"ban", "unban"} {
				t.Run(c.name+"/"+prog+"/"+action, func(t *testing.T) {
					before := s.pendingBytes()
					r := run(t, proc{argv: append([]string{path, "--config", s.cfg, action}, c.args...)})
					tried++
					oneLineError(t, c.name, r, c.flag)
					if r.Code != 2 {
						t.Errorf("exit %d, want 2: %v", r.Code, r)
					}
					if !bytes.Equal(before, s.pendingBytes()) {
						t.Errorf("the refused %s changed pending.jsonl", action)
					}
				})
			}
		}
	}
	if recs, st := s.records(); len(recs) != 3 || st.Torn != 0 {
		t.Errorf("the buffer holds %d records and %d damaged lines, want the 3 good ones", len(recs), st.Torn)
	}
	figures(t, "bad-arguments", tried, 0, 0, 0, fmt.Sprintf("cases=%d", len(cases)), "written=0")
}

// state is what a flush must not lose: every record still undelivered.
func bufferIPs(t *testing.T, s *site) map[string]bool {
	t.Helper()
	recs, _ := s.records()
	out := map[string]bool{}
	for _, r := range recs {
		out[r.IP] = true
	}
	return out
}

// TestBadConfigurationLosesNothing breaks the configuration in every way
// (malformed YAML, an unknown key, a wrong type, a secret file missing or
// unreadable, a template that does not parse or fails when run): `check`
// names the problem and exits non-zero; `flush` fails but drops nothing
// (what the broken channel has not received stays in the buffer); after the
// fix, a flush delivers every ban once to every channel.
func TestBadConfigurationLosesNothing(t *testing.T) {
	root := os.Geteuid() == 0
	sink := smtpsink.Start(t)
	type breakage struct {
		name   string
		log    string // the YAML of channel log, or of the whole file with whole
		whole  bool
		prep   func(t *testing.T, dir string)
		asUser bool     // run check and flush as an unprivileged user
		names  []string // what check must name
	}
	good := "  log:\n    type: file\n    path: {DIR}/log.txt\n"
	mail := func(extra string) string {
		return fmt.Sprintf("  log:\n    type: smtp\n    host: 127.0.0.1\n    port: %d\n    from: f2b@localhost\n    to: [root@localhost]\n    username: f2b\n%s", sink.Port(), extra)
	}
	cases := []breakage{
		{name: "malformed-yaml", whole: true, log: "buffer:\n  dir: {BUF}\nchannels: [unclosed\n", names: []string{"config.yaml"}},
		{name: "unknown-key", log: "  log:\n    type: file\n    pathh: {DIR}/log.txt\n", names: []string{"pathh"}},
		{name: "wrong-type-global", whole: true, log: "buffer:\n  dir: {BUF}\nreport:\n  max_users: many\nchannels:\n  log:\n    type: file\n    path: {DIR}/log.txt\n", names: []string{"report.max_users"}},
		{name: "wrong-type-channel", log: "  log:\n    type: file\n    path: [a, b]\n", names: []string{"path"}},
		{name: "unknown-type", log: "  log:\n    type: carrier-pigeon\n", names: []string{"carrier-pigeon"}},
		{name: "secret-file-missing", log: mail("    password_file: {DIR}/no-such-secret\n"), names: []string{"password_file", "no-such-secret"}},
		{name: "secret-file-unreadable", log: mail("    password_file: {DIR}/secret\n"), asUser: true, names: []string{"password_file", "permission denied"},
			prep: func(t *testing.T, dir string) {
				if err := os.WriteFile(filepath.Join(dir, "secret"), []byte(secretPassword), 0o000); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "template-does-not-parse", log: "  log:\n    type: file\n    path: {DIR}/log.txt\n    templates:\n      text: {DIR}/bad.tmpl\n", names: []string{"bad.tmpl", ":2"},
			prep: func(t *testing.T, dir string) {
				if err := os.WriteFile(filepath.Join(dir, "bad.tmpl"), []byte("Report\n{{.Host\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "template-fails-when-run", log: "  log:\n    type: file\n    path: {DIR}/log.txt\n    templates:\n      text: {DIR}/bad.tmpl\n", names: []string{"bad.tmpl"},
			prep: func(t *testing.T, dir string) {
				if err := os.WriteFile(filepath.Join(dir, "bad.tmpl"), []byte("Report\n{{(index .Offenders 999).IP}}\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}},
	}
	tried, lost, dup := 0, 0, 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSharedSite(t)
			var cred *syscall.Credential
			if c.asUser && root {
				cred = nobody
			}
			write := func(broken bool) {
				var yaml string
				switch {
				case !broken:
					yaml = fmt.Sprintf("buffer:\n  dir: %s\nflag: %s\nreport:\n  timezone: UTC\nchannels:\n%s  other:\n    type: file\n    path: {DIR}/other.txt\n", s.buf, s.flag, good)
				case c.whole:
					yaml = c.log
				default:
					yaml = fmt.Sprintf("buffer:\n  dir: %s\nflag: %s\nreport:\n  timezone: UTC\nchannels:\n%s  other:\n    type: file\n    path: {DIR}/other.txt\n", s.buf, s.flag, c.log)
				}
				yaml = strings.NewReplacer("{DIR}", s.dir, "{BUF}", s.buf).Replace(yaml)
				if err := os.WriteFile(s.cfg, []byte(yaml), 0o600); err != nil {
					t.Fatal(err)
				}
				if cred != nil {
					chownTree(t, s.dir, int(cred.Uid), int(cred.Gid))
				}
			}
			if c.prep != nil {
				c.prep(t, s.dir)
			}
			// Bans arrive while the configuration is good, then it breaks.
			write(false)
			var want []string
			for i := range 3 {
				ip := ipN(i)
				if r := run(t, proc{argv: []string{binary, "--config", s.cfg, "ban", "--jail", "sshd", "--ip", ip}, cred: cred}); r.Code != 0 {
					t.Fatalf("ban: %v", r)
				}
				want = append(want, ip)
			}
			write(true)
			tried += len(want)
			in := bufferIPs(t, s)
			for _, ip := range want {
				if !in[ip] {
					t.Fatalf("ban %s was not stored despite the broken configuration", ip)
				}
			}
			chk := run(t, proc{argv: []string{binary, "--config", s.cfg, "check"}, cred: cred})
			if chk.Code == 0 {
				t.Errorf("check passed a broken configuration: %v", chk)
			}
			for _, n := range c.names {
				if !strings.Contains(chk.Err, n) {
					t.Errorf("check does not name %q: %v", n, chk)
				}
			}
			t.Logf("check said: %s", strings.TrimSpace(chk.Err))
			fl := run(t, proc{argv: []string{binary, "--config", s.cfg, "flush"}, cred: cred})
			if fl.Code == 0 {
				t.Errorf("flush with a broken configuration exited 0: %v", fl)
			}
			// Nothing dropped: what log did not get is still in the buffer.
			logGot := countIPs(readFile(t, filepath.Join(s.dir, "log.txt")))
			in = bufferIPs(t, s)
			for _, ip := range want {
				if logGot[ip] == 0 && !in[ip] {
					lost++
					t.Errorf("%s: not delivered to log, and no longer in the buffer", ip)
				}
			}
			// The fix.
			write(false)
			if r := run(t, proc{argv: []string{binary, "--config", s.cfg, "check"}, cred: cred}); r.Code != 0 {
				t.Errorf("check after the fix: %v", r)
			}
			if r := run(t, proc{argv: []string{binary, "--config", s.cfg, "flush"}, cred: cred}); r.Code != 0 {
				t.Errorf("flush after the fix: %v", r)
			}
			logGot = countIPs(readFile(t, filepath.Join(s.dir, "log.txt")))
			otherGot := countIPs(readFile(t, filepath.Join(s.dir, "other.txt")))
			for _, ip := range want {
				for ch, got := range map[string]map[string]int{"log": logGot, "other": otherGot} {
					if got[ip] == 0 {
						lost++
						t.Errorf("%s never reached %s", ip, ch)
					}
					dup += max(got[ip]-1, 0)
					if got[ip] > 1 {
						t.Errorf("%s reached %s %d times", ip, ch, got[ip])
					}
				}
			}
		})
	}
	figures(t, "bad-configuration", tried, lost, dup, 0, fmt.Sprintf("cases=%d", len(cases)), fmt.Sprintf("as_root=%v", root))
}

// newSharedSite is a site in a folder the unprivileged user can reach.
func newSharedSite(t *testing.T) *site {
	t.Helper()
	dir, err := os.MkdirTemp("", "f2bn-site-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &site{t: t, dir: dir, buf: filepath.Join(dir, "buf"), cfg: filepath.Join(dir, "config.yaml"), flag: filepath.Join(dir, "mail.flag")}
}

// chownTree gives a folder and everything in it to uid:gid.
func chownTree(t *testing.T, dir string, uid, gid int) {
	t.Helper()
	_ = filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			err = os.Lchown(p, uid, gid)
		}
		if err != nil {
			t.Errorf("chown %s: %v", p, err)
		}
		return nil
	})
}

// TestUnusableConfigurationLosesNothing gives both ban binaries a
// configuration they cannot use, as a typo in a jail's config= does: a file
// that is not there, a folder, YAML that does not parse, keys in capitals (in
// a block and in a flow mapping), a key given twice, a relative buffer.dir.
// Each ban exits 1 with one line naming the file, and is stored where the
// default configuration ($F2B_NOTIFY_CONFIG) keeps its bans, never in the
// folder the broken file names; `check` refuses each file naming it; the
// default configuration's report names every file its strays came from,
// and `status` does too.
func TestUnusableConfigurationLosesNothing(t *testing.T) {
	s := newSite(t, siteOptions{channels: "  log:\n    type: file\n    path: {DIR}/reports.txt\n"})
	cases := []struct {
		name, yaml string // yaml "" for no file; {DIR} is the site's folder
		folder     bool   // a folder where the file should be
		check      string // what check must name
	}{
		{name: "missing", check: "configuration file not found"},
		{name: "a-folder", folder: true, check: "is a directory"},
		{name: "malformed", yaml: "buffer:\n  dir: {DIR}/stray\nchannels: [\n", check: "yaml:"},
		{name: "capital-block", yaml: "Buffer:\n  dir: {DIR}/stray\n", check: "unknown key Buffer"},
		{name: "capital-key", yaml: "buffer:\n  Dir: {DIR}/stray\n", check: "unknown key buffer.Dir"},
		{name: "capital-flow", yaml: "buffer: {Dir: {DIR}/stray}\n", check: "unknown key buffer.Dir"},
		{name: "twice", yaml: "buffer:\n  dir: {DIR}/stray\n  Dir: {DIR}/stray2\n", check: "key buffer.Dir: given twice"},
		{name: "relative", yaml: "buffer:\n  dir: stray\n", check: `key buffer.dir: "stray" is a relative path`},
		{name: "dot-relative", yaml: "buffer:\n  dir: ./stray\n", check: `key buffer.dir: "./stray" is a relative path`},
	}
	env := []string{"F2B_NOTIFY_CONFIG=" + s.cfg}
	want := map[string]string{} // ip -> the configuration it was given
	tried := 0
	for i, c := range cases {
		cfg := filepath.Join(s.dir, c.name+".yaml")
		switch {
		case c.folder:
			if err := os.Mkdir(cfg, 0o755); err != nil {
				t.Fatal(err)
			}
		case c.yaml != "":
			if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(c.yaml, "{DIR}", s.dir)), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		n := 0
		for prog, path := range banBinaries() {
			ip := ipN(100*i + n)
			n++
			r := run(t, proc{argv: []string{path, "--config", cfg, "ban", "--jail", "sshd", "--ip", ip}, env: env})
			tried++
			oneLineError(t, c.name+"/"+prog, r, cfg, "ban recorded in "+s.buf+" for the report of "+s.cfg)
			if r.Code != 1 {
				t.Errorf("%s/%s: exit %d, want 1", c.name, prog, r.Code)
			}
			want[ip] = cfg
		}
		chk := run(t, proc{argv: []string{binary, "--config", cfg, "check"}})
		oneLineError(t, c.name+"/check", chk, cfg, c.check)
	}
	for _, stray := range []string{"stray", "stray2"} {
		if _, err := os.Stat(filepath.Join(s.dir, stray)); err == nil {
			t.Errorf("a ban went to %s, the folder of a configuration that was refused", stray)
		}
	}
	recs, _ := s.records()
	lost := len(want)
	for _, r := range recs {
		if cfg, ok := want[r.IP]; ok && r.Config == cfg {
			lost--
		}
	}
	st := s.cmd("status")
	fl := s.cmd("flush")
	if fl.Code != 0 {
		t.Fatalf("flush: %v", fl)
	}
	report := readFile(t, filepath.Join(s.dir, "reports.txt"))
	flat := strings.Join(strings.Fields(report), " ") // notes are wrapped at 80 columns
	for ip := range want {
		if !strings.Contains(report, ip) {
			t.Errorf("ban %s is not in the default configuration's report", ip)
		}
	}
	for _, c := range cases {
		cfg := filepath.Join(s.dir, c.name+".yaml")
		if !strings.Contains(flat, fmt.Sprintf("%d ban records were stored here because %s could not be used", len(banBinaries()), cfg)) {
			t.Errorf("the report does not name %s:\n%s", cfg, report)
		}
		if !strings.Contains(st.Out, "stored in "+s.buf+" because "+cfg+" could not be used") {
			t.Errorf("status does not name %s:\n%s", cfg, st.Out)
		}
	}
	if lost != 0 {
		t.Errorf("%d bans were not stored in the default configuration's folder with the file they were given", lost)
	}
	figures(t, "unusable-configuration", tried, lost, 0, 0, fmt.Sprintf("files=%d", len(cases)))
}
