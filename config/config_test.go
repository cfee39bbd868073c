package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/templates"
)

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFullExample(t *testing.T) {
	c, err := config.Load("../config.example.yaml")
	if err != nil {
		t.Fatalf("config.example.yaml does not load: %v", err)
	}
	if len(c.Channels) == 0 {
		t.Error("config.example.yaml has no channel")
	}
}

func TestDefaultsAndChannels(t *testing.T) {
	p := write(t, `
buffer:
  dir: /srv/f2b
channels:
  admin-mail:
    type: sendmail
    to: [root@localhost]
    from: fail2ban@localhost
    timeout: 10s
    retries: 0
  log:
    type: file
    enabled: false
    path: /var/log/x
    attachments: []
`)
	c, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Buffer.Dir != "/srv/f2b" || !c.Buffer.Fsync || c.Flag != config.DefaultFlag || c.Buffer.MaxAge != 720*time.Hour || c.Flush.Timeout != 5*time.Minute {
		t.Errorf("defaults not applied: %+v", c)
	}
	m := c.Channels["admin-mail"]
	if m.Type != "sendmail" || m.Timeout != 10*time.Second || m.Attempts() != 1 || m.Settings["from"] != "fail2ban@localhost" {
		t.Errorf("channel: %+v", m)
	}
	if !m.Takes("chart") || !m.Takes("full_list") {
		t.Errorf("a channel without an attachments key does not take every attachment")
	}
	if got := c.EnabledChannels(); len(got) != 1 || got[0] != "admin-mail" {
		t.Errorf("enabled channels %v", got)
	}
	if l := c.Channels["log"]; l.Takes("chart") || l.Takes("full_list") {
		t.Errorf("attachments: [] still takes some: %v", *l.Attachments)
	}
	if c.File != p {
		t.Errorf("File = %q", c.File)
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	p := write(t, "buffer:\n  dir: /srv/a\n")
	t.Setenv("F2B_NOTIFY_BUFFER_DIR", "/srv/b")
	t.Setenv("F2B_NOTIFY_BUFFER_FSYNC", "false")
	t.Setenv("F2B_NOTIFY_FLAG", "/run/x.flag")
	c, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Buffer.Dir != "/srv/b" || c.Buffer.Fsync || c.Flag != "/run/x.flag" {
		t.Errorf("env not applied: %+v", c)
	}
}

func TestErrorsNameFileAndKey(t *testing.T) {
	for _, c := range []struct{ name, body, want string }{
		{"unknown top key", "bufer:\n  dir: /x\n", "bufer"},
		{"unknown nested key", "buffer:\n  dirr: /x\n", "dirr"},
		{"wrong type", "buffer:\n  fsync: maybe\n", "buffer.fsync"},
		{"send_empty not a boolean", "report:\n  send_empty: sometimes\n", `key report.send_empty: want true or false, not "sometimes"`},
		{"send_empty misspelt", "report:\n  send_empty_reports: true\n", "report.send_empty_reports"},
		{"bad duration", "flush:\n  timeout: soon\n", "flush.timeout"},
		{"malformed yaml", "buffer: [\n", "yaml"},
		{"channel without type", "channels:\n  x:\n    path: /y\n", "channels.x.type"},
		{"bad channel name", "channels:\n  a.b:\n    type: file\n", "channels."},
		{"bad template format", "channels:\n  x:\n    type: file\n    templates:\n      pdf: /t\n", "channels.x.templates.pdf"},
		{"bad zone", "report:\n  timezone: Mars/Olympus\n", "report.timezone"},
		{"negative retries", "channels:\n  x:\n    type: file\n    retries: -1\n", "channels.x.retries"},
		{"unknown attachment", "channels:\n  x:\n    type: file\n    attachments: [chart, pdf]\n", `key channels.x.attachments: unknown attachment "pdf" (want chart, full_list, or [] for none)`},
		// Keys are case-sensitive: viper alone would read these as buffer.dir.
		{"capital top key", "Buffer:\n  dir: /x\n", "unknown key Buffer (keys are lower case: buffer)"},
		{"capital nested key", "buffer:\n  Dir: /x\n", "unknown key buffer.Dir"},
		{"capital channel key", "channels:\n  x:\n    Type: file\n", "unknown key channels.x.Type"},
		{"key twice in two cases", "buffer:\n  dir: /a\n  Dir: /b\n", "key buffer.Dir: given twice (lines 2 and 3)"},
		{"key twice", "flag: /a\nflag: /b\n", "key flag: given twice (lines 1 and 2)"},
		{"key twice in a flow mapping", "buffer: {dir: /a, dir: /b}\n", "key buffer.dir: given twice"},
		{"relative buffer.dir", "buffer:\n  dir: ./relbuf\n", `key buffer.dir: "./relbuf" is a relative path`},
		{"bare relative buffer.dir", "buffer:\n  dir: relbuf\n", `key buffer.dir: "relbuf" is a relative path`},
		{"null buffer.dir", "buffer:\n  dir:\n", "key buffer.dir: want a path, not null"},
		{"relative flag", "flag: mail.flag\n", `key flag: "mail.flag" is a relative path`},
		{"null flag", "flag: ~\n", `key flag: want a path, not null, or "" for no flag file`},
		{"buffer not a block", "buffer: /x\n", "key buffer: "},
		{"relative template", "channels:\n  x:\n    type: file\n    path: /r\n    templates:\n      text: my.tmpl\n", "key channels.x.templates.text: \"my.tmpl\" is a relative path"},
		{"relative secret file", "channels:\n  x:\n    type: smtp\n    password_file: secret\n", "key channels.x.password_file: \"secret\" is a relative path"},
		{"relative sendmail", "channels:\n  x:\n    type: sendmail\n    sendmail: bin/sendmail\n", "key channels.x.sendmail"},
		{"relative report file", "channels:\n  x:\n    type: file\n    path: reports.log\n", "key channels.x.path"},
		{"relative CA file", "channels:\n  x:\n    type: smtp\n    ca_file: relay-ca.pem\n", "key channels.x.ca_file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := write(t, c.body)
			_, err := config.Load(p)
			if err == nil {
				t.Fatal("loaded")
			}
			msg := err.Error()
			if !strings.Contains(msg, p) || !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q should be one line naming %s and %q", msg, p, c.want)
			}
		})
	}
}

func TestRelativeDirFromEnvironment(t *testing.T) {
	t.Setenv("F2B_NOTIFY_BUFFER_DIR", "relbuf")
	_, err := config.Load(write(t, "buffer:\n  dir: /srv/a\n"))
	if err == nil || !strings.Contains(err.Error(), `environment F2B_NOTIFY_BUFFER_DIR="relbuf": not an absolute path`) {
		t.Errorf("err = %v", err)
	}
}

// Header names are the outside world's, which HTTP compares without case;
// they are the one place capitals are kept. Twice in two cases is still
// refused: the request could carry only one.
func TestHeaderNamesMayHaveCapitals(t *testing.T) {
	c, err := config.Load(write(t, "channels:\n  hook:\n    type: webhook\n    url: https://example.net/x\n    headers:\n      X-Api-Key: k\n    path: /x\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Channels["hook"].Settings["headers"]; !ok {
		t.Errorf("headers lost: %+v", c.Channels["hook"])
	}
	_, err = config.Load(write(t, "channels:\n  hook:\n    type: webhook\n    headers:\n      X-Api-Key: k\n      x-api-key: j\n"))
	if err == nil || !strings.Contains(err.Error(), "key channels.hook.headers.x-api-key: given twice") {
		t.Errorf("err = %v", err)
	}
}

func TestMissingFile(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "none.yaml"))
	if !errors.Is(err, config.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

func TestPathPrecedence(t *testing.T) {
	t.Setenv(config.EnvConfig, "/env.yaml")
	if got := config.Path("/flag.yaml"); got != "/flag.yaml" {
		t.Errorf("flag: %s", got)
	}
	if got := config.Path(""); got != "/env.yaml" {
		t.Errorf("env: %s", got)
	}
	t.Setenv(config.EnvConfig, "")
	if got := config.Path(""); got != config.DefaultPath {
		t.Errorf("default: %s", got)
	}
}

func TestWarningsForReadableSecrets(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "token")
	if err := os.WriteFile(secret, []byte("SECRET-TOKEN-1234\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "config.yaml")
	body := "channels:\n  a:\n    type: smtp\n    password: inline-secret\n  b:\n    type: telegram\n    token_file: " + secret + "\n  c:\n    type: file\n    path: /x\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(c.Warnings(), "\n")
	for _, f := range []string{p, secret} {
		if !strings.Contains(got, "warning: "+f+" is readable by other users and holds secrets; chmod 600 "+f) {
			t.Errorf("no warning for %s in %q", f, got)
		}
	}
	if strings.Contains(got, "SECRET-TOKEN") || strings.Contains(got, "inline-secret") {
		t.Error("a warning shows a secret")
	}
	os.Chmod(p, 0o600)
	os.Chmod(secret, 0o600)
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("warnings after chmod 600: %q", w)
	}
}

// TestEveryKindsSecretsAreWarnedAbout: a file holding any secret setting of
// any kind, readable by others, is warned about.
func TestEveryKindsSecretsAreWarnedAbout(t *testing.T) {
	dir := t.TempDir()
	for _, k := range channels.Kinds {
		for _, s := range k.Secrets {
			f := filepath.Join(dir, k.Name+"-"+s)
			if err := os.WriteFile(f, []byte("x\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			c, err := config.Load(write(t, "channels:\n  a:\n    type: "+k.Name+"\n    "+s+"_file: "+f+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			if w := strings.Join(c.Warnings(), "\n"); !strings.Contains(w, "warning: "+f+" is readable") {
				t.Errorf("kind %s: no warning for a readable %s_file: %q", k.Name, s, w)
			}
		}
	}
}

// TestTemplatesOfEveryFormat: a channel may name its own template for any
// format, the chat dialects' included, with nothing but this package
// loaded.
func TestTemplatesOfEveryFormat(t *testing.T) {
	for _, f := range append(templates.Formats(), "slack", "json") {
		body := "channels:\n  x:\n    type: file\n    path: /r\n    templates:\n      " + string(f) + ": /etc/f2b-notify/x.tmpl\n"
		if _, err := config.Load(write(t, body)); err != nil {
			t.Errorf("templates: {%s: FILE}: %v", f, err)
		}
	}
}

func TestGlanceKeys(t *testing.T) {
	c, err := config.Load(write(t, "buffer:\n  dir: /srv/f2b\n"))
	if err != nil {
		t.Fatal(err)
	}
	n := c.Report.Networks
	if n.IPv4Prefix != 24 || n.IPv6Prefix != 64 || n.Top != 5 || !c.History.Enabled || c.History.MaxAge != 90*24*time.Hour || c.History.MaxAddresses != 1_000_000 || c.GeoIP.ASNDB != "" {
		t.Errorf("defaults: networks %+v, history %+v, geoip %+v", n, c.History, c.GeoIP)
	}
	if c.HistoryFile() != "/srv/f2b/history" {
		t.Errorf("history file %s", c.HistoryFile())
	}
	c, err = config.Load(write(t, "history:\n  max_age: 1d12h\ngeoip:\n  asn_db: /var/lib/GeoIP/GeoLite2-ASN.mmdb\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.History.MaxAge != 36*time.Hour || c.GeoIP.ASNDB != "/var/lib/GeoIP/GeoLite2-ASN.mmdb" {
		t.Errorf("history %+v, geoip %+v", c.History, c.GeoIP)
	}
	if c.Fail2ban.PidFile != "/var/run/fail2ban/fail2ban.pid" {
		t.Errorf("fail2ban.pidfile %q, want fail2ban's default", c.Fail2ban.PidFile)
	}
	for body, want := range map[string]string{
		"geoip:\n  country_db: GeoLite2-Country.mmdb\n": "key geoip.country_db: \"GeoLite2-Country.mmdb\" is a relative path",
		"fail2ban:\n  pidfile: fail2ban.pid\n":          "key fail2ban.pidfile: \"fail2ban.pid\" is a relative path",
		"report:\n  networks:\n    ipv4_prefix: 33\n":   "report.networks.ipv4_prefix",
		"report:\n  networks:\n    top: 0\n":            "key report.networks.top: 0 is not between 1 and 100",
		"history:\n  max_age: -1h\n":                    "key history.max_age: must not be negative",
		"history:\n  max_age: 3x\n":                     "history.max_age",
		"history:\n  Enabled: false\n":                  "history.Enabled",
	} {
		_, err := config.Load(write(t, body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", body, err, want)
		}
	}
}
