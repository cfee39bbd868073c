//go:build integration

package reliability

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/internal/smtpsink"
)

// secretSite is a site whose webhook URL, bearer token and SMTP password
// come from files, against a fault server and an SMTP sink.
func secretSite(t *testing.T, srv *faultServer, sink *smtpsink.Sink, extra string) (*site, map[string]bool) {
	t.Helper()
	s := newSite(t, siteOptions{})
	files := map[string]string{
		"hook-url":      fmt.Sprintf("http://%s/hooks/%s\n", srv.addr, secretURLToken),
		"hook-token":    secretBearer + "\n",
		"smtp-password": secretPassword + "\n",
	}
	except := map[string]bool{s.cfg: true}
	for name, content := range files {
		p := filepath.Join(s.dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		except[p] = true
	}
	s.writeConfig(siteOptions{channels: fmt.Sprintf(`  log:
    type: file
    path: {DIR}/reports.txt
  hook:
    type: webhook
    url_file: {DIR}/hook-url
    token_file: {DIR}/hook-token
    retries: 1
    timeout: 300ms
  mail:
    type: smtp
    host: 127.0.0.1
    port: %d
    username: f2b
    password_file: {DIR}/smtp-password
    from: f2b@localhost
    to: [root@localhost]
    retries: 0
    timeout: 2s
%s`, sink.Port(), extra)})
	return s, except
}

// TestSecretsNeverLeak runs every command in every failure of the webhook
// (refused, 5xx, a 4xx that quotes the URL, hanging, a reply that is not
// HTTP) and of the SMTP server (down, refusing the password, answering 451
// with the password in its text), with recognisable secrets in the URL, the
// bearer token and the SMTP password, and greps standard output, standard
// error, the ledger, the detached flush's log and every file of the buffer
// for them. A configuration mistake in a key that holds a secret must not
// quote it either.
func TestSecretsNeverLeak(t *testing.T) {
	srv := startFaultServer(t, nil)
	sink := smtpsink.Start(t, smtpsink.WithAuth("f2b", secretPassword))
	type failure struct {
		name  string
		hook  faultMode
		smtp  func()
		clear func()
	}
	failures := []failure{
		{name: "refused", hook: modeRefused, smtp: sink.Stop, clear: func() { sink.Restart(t) }},
		{name: "5xx", hook: modeStatus503, smtp: func() { sink.Fail(smtpsink.StageData, 451, "mailbox busy for "+secretPassword) }, clear: func() { sink.Fail(smtpsink.StageData, 0, "") }},
		{name: "4xx-quoting-url", hook: modeStatus400, smtp: func() { sink.Fail(smtpsink.StageMail, 550, "no relay for "+secretPassword) }, clear: func() { sink.Fail(smtpsink.StageMail, 0, "") }},
		{name: "hanging", hook: modeHang},
		{name: "not-http", hook: modeGarbage},
	}
	commands := [][]string{{"check"}, {"flush"}, {"status"}, {"preview"}, {"preview", "--payload", "--channel", "hook"}, {"test"}}
	tried, leaked := 0, 0
	for _, f := range failures {
		t.Run(f.name, func(t *testing.T) {
			s, except := secretSite(t, srv, sink, "")
			s.appendBans(3, 1)
			srv.setMode(f.hook)
			if f.smtp != nil {
				f.smtp()
			}
			defer func() {
				srv.setMode(modeOK)
				if f.clear != nil {
					f.clear()
				}
			}()
			results, n := s.cmdsPrintingNo(t, allSecrets, commands)
			tried, leaked = tried+len(commands), leaked+n
			// A detached flush started by a ban when the flag is there.
			if err := os.WriteFile(s.flag, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			for prog, path := range banBinaries() {
				if r := s.ban(path, "--jail", "sshd", "--ip", ipN(50)); r.Code != 0 {
					t.Errorf("ban with %s and the flag set: %v", prog, r)
				}
			}
			waitFor(t, 20*time.Second, "the detached flush to write its log", func() bool {
				b, err := os.ReadFile(filepath.Join(s.buf, "last-flush.log"))
				return err == nil && len(b) > 0 && !s.flushRunning()
			})
			tried++
			if found := filesWithSecrets(t, allSecrets, except, s.dir); len(found) > 0 {
				leaked += len(found)
				t.Errorf("secrets in files: %v", found)
			}
			if !strings.Contains(printed(results), "FAILED") {
				t.Errorf("no command reported the failure %s", f.name)
			}
		})
	}
	// A mistake in a key that holds a secret.
	t.Run("wrong-type-secret", func(t *testing.T) {
		s, _ := secretSite(t, srv, sink, "  other:\n    type: webhook\n    url: http://127.0.0.1:1/x\n    token: ["+secretBearer+", x]\n  third:\n    type: webhook\n    url: \"http://127.0.0.1:1/"+secretURLToken+" x\"\n")
		s.appendBan("sshd", ipN(1), 1)
		commands := [][]string{{"check"}, {"flush"}}
		results, n := s.cmdsPrintingNo(t, allSecrets, commands)
		tried, leaked = tried+len(commands), leaked+n
		for i, r := range results {
			t.Logf("%v: %s", commands[i], strings.TrimSpace(r.Out+r.Err))
			if r.Code == 0 {
				t.Errorf("%v accepted the mistakes: %v", commands[i], r)
			}
		}
	})
	figures(t, "secrets", tried, 0, 0, leaked, fmt.Sprintf("failures=%d", len(failures)), fmt.Sprintf("commands=%d", len(commands)+1),
		"secrets=url-token,bearer-token,smtp-password")
}

// cmdsPrintingNo runs each of commands in s and fails t for every secret of
// secrets that one prints. It returns their results, and how many secrets
// they printed.
func (s *site) cmdsPrintingNo(t *testing.T, secrets []string, commands [][]string) (results []result, leaked int) {
	t.Helper()
	for _, args := range commands {
		r := s.cmd(args...)
		results = append(results, r)
		if found := secretsIn(secrets, r.Out, r.Err); len(found) > 0 {
			leaked += len(found)
			t.Errorf("%v printed %v:\n%v", args, found, r)
		}
	}
	return results, leaked
}

// printed is what the commands of results printed, all of it.
func printed(results []result) string {
	var b strings.Builder
	for _, r := range results {
		b.WriteString(r.Out)
		b.WriteString(r.Err)
	}
	return b.String()
}

// flushRunning reports whether a flush holds the site's flush lock.
func (s *site) flushRunning() bool {
	r := run(s.t, proc{argv: []string{"flock", "-n", filepath.Join(s.buf, "flush.lock"), "true"}})
	return r.Code != 0
}

// failedDetachedFlush sets the flag and bans ip, so that the ban path
// starts a flush in the background, waits until that flush has written a
// failure to its log and ended, and returns the log.
func (s *site) failedDetachedFlush(ip string) string {
	s.t.Helper()
	if err := os.WriteFile(s.flag, nil, 0o600); err != nil {
		s.t.Fatal(err)
	}
	if r := s.ban(binary, "--jail", "sshd", "--ip", ip); r.Code != 0 {
		s.t.Fatalf("ban: %v", r)
	}
	log := filepath.Join(s.buf, "last-flush.log")
	waitFor(s.t, 20*time.Second, "the detached flush to write its log", func() bool {
		b, err := os.ReadFile(log)
		return err == nil && strings.Contains(string(b), "FAILED") && !s.flushRunning()
	})
	return readFile(s.t, log)
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWarnsWhenSecretsAreReadableByOthers expects `check` and `flush` to
// warn, with one exact line on standard error, when the configuration file
// holds a secret inline (password, token, access_token, webhook_url, or a
// webhook's url or headers) and is readable by group or others, or when a
// *_file secret file is. A file readable by its owner only, or a readable
// configuration without secrets, gives no warning. The line may carry the
// program's "f2b-notify: " prefix, as every line f2b-notify writes to stderr.
func TestWarnsWhenSecretsAreReadableByOthers(t *testing.T) {
	warning := func(file string) string {
		return fmt.Sprintf("warning: %s is readable by other users and holds secrets; chmod 600 %s", file, file)
	}
	sink := smtpsink.Start(t, smtpsink.WithAuth("f2b", secretPassword))
	type tc struct {
		name       string
		channels   string
		cfgMode    os.FileMode
		secretMode os.FileMode
		warnCfg    bool
		warnSecret bool
	}
	smtp := fmt.Sprintf("  mail:\n    type: smtp\n    host: 127.0.0.1\n    port: %d\n    username: f2b\n    from: f2b@localhost\n    to: [root@localhost]\n", sink.Port())
	cases := []tc{
		{name: "inline-password-world-readable", channels: smtp + "    password: " + secretPassword + "\n", cfgMode: 0o644, warnCfg: true},
		{name: "inline-token-group-readable", channels: "  hook:\n    type: webhook\n    url: http://127.0.0.1:1/h\n    retries: 0\n    token: " + secretBearer + "\n", cfgMode: 0o640, warnCfg: true},
		{name: "secret-file-world-readable", channels: smtp + "    password_file: {DIR}/secret\n", cfgMode: 0o600, secretMode: 0o644, warnSecret: true},
		{name: "both-private", channels: smtp + "    password_file: {DIR}/secret\n", cfgMode: 0o600, secretMode: 0o600},
		{name: "readable-without-secrets", channels: "  log:\n    type: file\n    path: {DIR}/log.txt\n", cfgMode: 0o644},
		{name: "authorization-header-world-readable", channels: "  hook:\n    type: webhook\n    url_file: {DIR}/secret\n    headers:\n      Authorization: Basic " + secretBearer + "\n", cfgMode: 0o644, secretMode: 0o600, warnCfg: true},
		{name: "api-key-header-group-readable", channels: "  hook:\n    type: webhook\n    url_file: {DIR}/secret\n    headers:\n      X-Api-Key: " + secretBearer + "\n", cfgMode: 0o640, secretMode: 0o600, warnCfg: true},
		{name: "plain-header-readable", channels: "  log:\n    type: file\n    path: {DIR}/log.txt\n  hook:\n    type: webhook\n    url_file: {DIR}/secret\n    enabled: false\n    headers:\n      X-Title: fail2ban\n", cfgMode: 0o644, secretMode: 0o600},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSite(t, siteOptions{channels: c.channels})
			secret := filepath.Join(s.dir, "secret")
			if c.secretMode != 0 {
				if err := os.WriteFile(secret, []byte(secretPassword+"\n"), c.secretMode); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(secret, c.secretMode); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chmod(s.cfg, c.cfgMode); err != nil {
				t.Fatal(err)
			}
			s.appendBan("sshd", ipN(1), 1)
			for _, cmd := range []string{"check", "flush"} {
				r := s.cmd(cmd)
				for file, want := range map[string]bool{s.cfg: c.warnCfg, secret: c.warnSecret} {
					line := warning(file)
					got := 0
					for _, l := range strings.Split(r.Err, "\n") {
						if l == line || l == "f2b-notify: "+line {
							got++
						}
					}
					switch {
					case want && got != 1:
						t.Errorf("%s: want the line %q once on stderr, got %d times:\n%v", cmd, line, got, r)
					case !want && strings.Contains(r.Err, "warning: "+file):
						t.Errorf("%s: unexpected warning about %s:\n%v", cmd, file, r)
					}
				}
				if strings.Contains(r.Out, "warning:") {
					t.Errorf("%s: the warning belongs on stderr, not stdout:\n%v", cmd, r)
				}
			}
		})
	}
}

// TestSecretsAreRedactedWhicheverKeyOrMessageHoldsThem configures secrets of
// every sort (a Telegram token, pasted into chat_id as well; a Slack webhook
// URL, pasted into another channel's method; a webhook's Authorization and
// X-Api-Key headers; a token_file) against a server that answers every
// request 400 quoting all of them, so that each channel's error holds the
// secrets of the others too. Every secret, of whichever channel, must be
// redacted from the output of check, flush, test, preview and status, from
// the ledger, the detached flush's log and every file of the buffer.
func TestSecretsAreRedactedWhicheverKeyOrMessageHoldsThem(t *testing.T) {
	const (
		tgToken   = "123456789:AAESECRETTELEGRAMTOKEN42"
		slackPath = "SECRETSLACKPATH777"
		authValue = "SECRET-AUTH-HEADER-31"
		apiKey    = "SECRET-API-KEY-HEADER-64"
		fileToken = "SECRET-FROM-TOKEN-FILE-88"
	)
	secrets := []string{tgToken, slackPath, authValue, apiKey, fileToken}
	quote := "refused: " + strings.Join(secrets, " ")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		b, _ := json.Marshal(map[string]any{"ok": false, "error_code": 400, "description": quote, "error": quote, "message": quote})
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	s := newSite(t, siteOptions{channels: fmt.Sprintf(`  tg:
    type: telegram
    token: "%[2]s"
    chat_id: "%[2]s"
    api_url: %[1]s
    retries: 0
  tg2:
    type: telegram
    token: "%[2]s"
    chat_id: "-1001234567890"
    api_url: %[1]s
    retries: 0
  slack:
    type: slack
    webhook_url: %[1]s/services/T000/B000/%[3]s
    retries: 0
  misplaced:
    type: webhook
    url: %[1]s/hook
    method: %[1]s/services/T000/B000/%[3]s
  hook:
    type: webhook
    url: %[1]s/hook
    headers:
      Authorization: Bearer %[4]s
      X-Api-Key: %[5]s
    retries: 0
  filed:
    type: webhook
    url: %[1]s/filed
    token_file: {DIR}/token
    retries: 0
`, srv.URL, tgToken, slackPath, authValue, apiKey)})
	tokenFile := filepath.Join(s.dir, "token")
	if err := os.WriteFile(tokenFile, []byte(fileToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.appendBan("sshd", ipN(1), 2)

	commands := [][]string{{"check"}, {"flush"}, {"test"}, {"preview"}, {"status"}}
	results, leaked := s.cmdsPrintingNo(t, secrets, commands)
	tried := len(commands)
	s.failedDetachedFlush(ipN(2))
	tried++
	if found := filesWithSecrets(t, secrets, map[string]bool{s.cfg: true, tokenFile: true}, s.dir); len(found) > 0 {
		leaked += len(found)
		t.Errorf("secrets in files: %v", found)
	}
	// Every channel failed and said so, with the server's words redacted.
	out := printed(results)
	for _, n := range []string{"tg", "tg2", "slack", "misplaced", "hook", "filed"} {
		if !strings.Contains(out, n+": FAILED") && !strings.Contains(out, `channel "`+n+`"`) {
			t.Errorf("no command reported channel %s failing:\n%s", n, out)
		}
	}
	if !strings.Contains(out, "refused: [redacted]") {
		t.Errorf("the server's answer is not shown, redacted:\n%s", out)
	}
	figures(t, "secrets-any-key", tried, 0, 0, leaked, fmt.Sprintf("secrets=%d", len(secrets)), "channels=6")
}
