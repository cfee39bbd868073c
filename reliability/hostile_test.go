//go:build integration

package reliability

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/internal/apiproxy"
	"github.com/f2b-notify/f2b-notify/internal/geoip/mmdbtest"
	"github.com/f2b-notify/f2b-notify/internal/hostile"
	"github.com/f2b-notify/f2b-notify/internal/smtpsink"
	"github.com/f2b-notify/f2b-notify/report"
)

// maxArg is the longest single argument Linux passes to a program
// (MAX_ARG_STRLEN, 32 pages, terminating NUL included).
const maxArg = 128<<10 - 1

// firstRunes returns the first n runes of s.
func firstRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// badRunes lists the characters that must never reach a console, a chat or
// a mail body: C0 and C1 controls but newline, tab and carriage return, DEL,
// and the bidirectional controls.
func badRunes(s string) []string {
	var out []string
	for i, r := range s {
		switch {
		case r == '\n', r == '\t', r == '\r':
		case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			out = append(out, fmt.Sprintf("%U at %d", r, i))
		}
		if len(out) > 5 {
			break
		}
	}
	return out
}

// hostileForbidden are raw markup pieces of the corpus that, found as they
// are in a rendering of that markup, would act.
var hostileForbidden = map[string][]string{
	"html":     {"<script", "<img", "<svg", "<a href=\"https://evil", "<b>bold</b>", "<tg-spoiler>", "<blockquote>q", "</pre></code></td></table>"},
	"markdown": {"[link](https://evil", "![img](https://evil", "**bold**", "`code`", "||spoiler||"},
	"slack":    {"<!channel>", "<!here>", "<!everyone>", "<@U12345678>", "<#C12345678>", "<!subteam^S123>", "<https://evil.example/|click here>"},
}

// TestHostileCorpusThroughBanAndEveryFormat passes every string of the
// hostile corpus (internal/hostile) as a user name, as log matches and as a
// jail name through the real ban binaries, then flushes the report to a
// file, to stdout, by SMTP, to a webhook and to every chat kind in
// channels.Kinds (each against a local fake API), and runs preview and status. Checked:
// argv cannot carry NUL (the OS refuses it); a jail name with a control
// character is refused with one line and nothing written; a 128 KiB match
// is stored; no control or bidi character reaches any output; the markup of
// each format does not act; in the text, e-mail and webhook renderings each
// string is there, as it was or visibly neutralised.
func TestHostileCorpusThroughBanAndEveryFormat(t *testing.T) {
	corpus := hostile.Corpus()
	sink := smtpsink.Start(t)
	api := startFaultServer(t, nil)
	chat := chatChannels(api.addr, true)
	proxy := fixedAPIs(t, api.addr)
	sendmail, mailDir := fakeSendmail(t, t.TempDir(), 0)
	syslogSock, syslogGot := listenSyslog(t)
	// The providers' and countries' names of a GeoIP database are as
	// hostile: each address banned with corpus entry i as user name is held
	// by a provider, in a country, of that name.
	asnDB, countryDB := hostileGeoIP(t, corpus)
	s := newSite(t, siteOptions{fsync: false, extra: fmt.Sprintf("geoip:\n  asn_db: %s\n  country_db: %s\n", asnDB, countryDB), channels: fmt.Sprintf(`  log:
    type: file
    path: {DIR}/reports.txt
  console:
    type: file
    path: "-"
  mail:
    type: smtp
    host: 127.0.0.1
    port: %d
    from: f2b@localhost
    to: [root@localhost]
    retries: 0
  sendmail:
    type: sendmail
%s    from: f2b@localhost
    to: [root@localhost]
    retries: 0
  hook:
    type: webhook
    url: http://%s/hook
    retries: 0
  syslog:
    type: syslog
    network: unixgram
    address: %s
    retries: 0
%s`, sink.Port(), sendmail, api.addr, syslogSock, chat)})

	progs := []string{binary}
	if banBinary != "" {
		progs = append(progs, banBinary)
	}
	refusedNUL, refusedJail := 0, 0
	type banned struct {
		ip, user, jail string
		matches        []string
	}
	var stored []banned
	// The bans spread over the last hour, a minute apart, so that the
	// report always has its chart (and the chart's tags and files go
	// through the checks below).
	start := time.Now().Add(-time.Hour).Unix()
	for i, str := range corpus {
		prog := progs[i%len(progs)]
		// As user name and log matches.
		ip := ipN(0x10000 + i)
		before := s.pendingBytes()
		at := strconv.FormatInt(start+int64(i%60)*60, 10)
		r := run(t, proc{argv: []string{prog, "--config", s.cfg, "ban", "--jail", "sshd", "--ip", ip, "--time", at, "--user", str, "--matches", str}})
		if strings.Contains(str, "\x00") {
			if r.StartErr == nil {
				t.Errorf("corpus %d: a NUL byte went through argv: %v", i, r)
			}
			refusedNUL++
			if !bytes.Equal(before, s.pendingBytes()) {
				t.Errorf("corpus %d: the buffer changed although the command never ran", i)
			}
			continue
		}
		if r.Code != 0 || r.Out != "" || r.Err != "" {
			t.Errorf("corpus %d (%q) as user and matches: %v", i, firstRunes(str, 40), r)
			continue
		}
		b := banned{ip: ip, user: str}
		for _, l := range strings.Split(str, "\n") {
			if l = strings.TrimRight(l, "\r"); l != "" {
				b.matches = append(b.matches, l)
			}
		}
		if strings.HasPrefix(str, "<") && strings.HasSuffix(str, ">") && !strings.ContainsAny(str[1:len(str)-1], "<> \n") {
			b.user, b.matches = "", nil // an unreplaced fail2ban tag such as <ip> means empty
		}
		stored = append(stored, b)

		// As jail name.
		ip = ipN(0x20000 + i)
		before = s.pendingBytes()
		r = run(t, proc{argv: []string{prog, "--config", s.cfg, "ban", "--jail", str, "--ip", ip}})
		if err := buffer.ValidJail(str); err != nil {
			oneLineError(t, fmt.Sprintf("corpus %d as jail", i), r)
			if r.Code != 2 {
				t.Errorf("corpus %d as jail: exit %d, want 2", i, r.Code)
			}
			if !bytes.Equal(before, s.pendingBytes()) {
				t.Errorf("corpus %d as jail: refused, but the buffer changed", i)
			}
			refusedJail++
			continue
		}
		if r.Code != 0 {
			t.Errorf("corpus %d (%q) as jail: %v", i, firstRunes(str, 40), r)
			continue
		}
		stored = append(stored, banned{ip: ip, jail: str})
	}
	// The largest argument the kernel passes.
	long := "Nov 25 17:36:52 vm sshd[1001]: " + strings.Repeat("A", maxArg-31)
	if r := s.ban(binary, "--jail", "sshd", "--ip", ipN(0x30000), "--matches", long); r.Code != 0 {
		t.Errorf("ban with a %d-byte --matches: %v", len(long), r)
	}
	recs, st := s.records()
	longStored := false
	for _, r := range recs {
		if r.IP == ipN(0x30000) && len(r.Matches) == 1 && r.Matches[0] == long {
			longStored = true
		}
	}
	if !longStored || st.Torn != 0 {
		t.Errorf("the %d-byte match was not stored whole (damaged lines: %d)", len(long), st.Torn)
	}
	if len(recs) != len(stored)+1 {
		t.Errorf("%d records stored, want %d", len(recs), len(stored)+1)
	}

	// Console output: preview and status.
	leaks := 0
	console := func(what string, r result) {
		t.Helper()
		if strings.ContainsRune(r.Out, 0x1b) || strings.ContainsRune(r.Err, 0x1b) {
			leaks++
			t.Errorf("%s: an ESC byte reached the console", what)
		}
		if bad := badRunes(r.Out); len(bad) > 0 {
			leaks++
			t.Errorf("%s: control characters on stdout: %v", what, bad)
		}
	}
	for _, args := range [][]string{{"preview"}, {"preview", "--payload", "--channel", "hook"}, {"status"}, {"demo"}, {"demo", "--format", "markdown"}} {
		r := s.cmd(args...)
		if r.Code != 0 && args[0] != "preview" {
			t.Errorf("%v: %v", args, r)
		}
		console(strings.Join(args, " "), r)
	}
	r := run(t, proc{argv: []string{binary, "--config", s.cfg, "flush"}, env: proxy.Env()})
	console("flush with a file channel on stdout", r)
	if !strings.Contains(r.Out, "Fail2Ban report") {
		t.Errorf("the console channel printed no report: %.300s", r.Out)
	}
	t.Logf("flush: exit %d, %s", r.Code, lastLines(r.Out, len(strings.Split(chat, "    type:"))+6))
	if r.Code != 0 {
		t.Errorf("flush: exit %d, want every channel to take the hostile report: %s", r.Code, r.Err)
	}

	// The text file.
	text := readFile(t, filepath.Join(s.dir, "reports.txt"))
	visible := func(format, out string, unescape func(string) string) int {
		t.Helper()
		missing := 0
		plain := unescape(out)
		for _, b := range stored {
			for _, v := range append([]string{b.user, b.jail}, b.matches...) {
				if v == "" {
					continue
				}
				n := firstRunes(report.Neutralise(v), 25)
				if !strings.Contains(plain, n) && !strings.Contains(plain, strings.TrimSpace(n)) {
					missing++
					if missing < 5 {
						t.Errorf("%s: %q is not visible as %q", format, firstRunes(v, 40), n)
					}
				}
			}
		}
		return missing
	}
	acts := func(format, out string, kinds ...string) int {
		t.Helper()
		n := 0
		if bad := badRunes(out); len(bad) > 0 {
			n++
			t.Errorf("%s: control characters %v", format, bad)
		}
		for _, k := range kinds {
			for _, f := range hostileForbidden[k] {
				if strings.Contains(out, f) {
					n++
					t.Errorf("%s: %q is there as it is: it would act as %s", format, f, k)
				}
			}
		}
		return n
	}
	id := func(s string) string { return s }
	visible("text file", text, id)
	leaks += acts("text file", text)

	// The syslog channel, as the socket received it.
	logged := syslogGot()
	if logged == "" {
		t.Error("the syslog socket received nothing")
	}
	leaks += acts("syslog", logged)

	// E-mail through the SMTP sink, and through sendmail.
	msgs := sink.Messages()
	if len(msgs) != 1 {
		t.Fatalf("the SMTP sink got %d messages, want 1", len(msgs))
	}
	if strings.Join(msgs[0].To, ",") != "root@localhost" {
		t.Errorf("e-mail went to %v", msgs[0].To)
	}
	piped := mailsIn(t, mailDir)
	if len(piped) != 1 {
		t.Fatalf("sendmail got %d messages, want 1", len(piped))
	}
	for kind, raw := range map[string][]byte{"smtp": msgs[0].Data, "sendmail": piped[0]} {
		m, err := parseMail(raw)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		hdr, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
		if len(m.Header["Subject"]) != 1 || len(m.Header["Bcc"]) != 0 || len(m.Header["To"]) != 1 || bytes.Contains(hdr, []byte("pwned")) || bytes.Contains(hdr, []byte("evil")) {
			t.Errorf("%s: e-mail headers were tampered with:\n%s", kind, hdr)
		}
		visible(kind+" e-mail text", m.Text, id)
		leaks += acts(kind+" e-mail text", m.Text)
		// The chart the report shows inline is the template's own tag.
		if !chartTag.MatchString(m.HTML) {
			t.Errorf("%s: the HTML e-mail shows no chart of the hour of bans", kind)
		}
		page := chartTag.ReplaceAllString(m.HTML, "")
		visible(kind+" e-mail html", page, html.UnescapeString)
		leaks += acts(kind+" e-mail html", page, "html")
	}

	// The webhook and the chat kinds, as their APIs received them.
	_, _, bodies := api.seen()
	paths := api.takePaths()
	if len(bodies) == 0 {
		t.Fatal("the fake chat API received nothing")
	}
	seenKinds := map[string]bool{}
	for i, b := range bodies {
		kind := kindOfPath(paths[i])
		seenKinds[kind] = true
		if bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || strings.Contains(paths[i], "/_matrix/media/") {
			continue // the chart, or a file uploaded to Matrix's media repository: data, sent as a file
		}
		if fields, ok := formFields(t, b); ok {
			b = fields // a file posted after the report: its fields are text to check, its file data
		}
		if kind == "pushover" { // a form
			form, err := url.ParseQuery(string(b))
			if err != nil {
				t.Errorf("pushover: the request body is not a form: %v", err)
				continue
			}
			var strs []string
			for _, vs := range form {
				strs = append(strs, vs...)
			}
			leaks += acts(kind, strings.Join(strs, "\n"))
			continue
		}
		var v any
		err := json.Unmarshal(b, &v)
		if err != nil && kind != "ntfy" {
			t.Errorf("%s: the request body is not JSON: %v", kind, err)
			continue
		}
		strs := jsonStrings(v)
		if err != nil {
			strs = []string{string(b)} // ntfy may post the text as it is
		}
		all := strings.Join(strs, "\n")
		switch kind {
		case "webhook":
			var env struct{ Text string }
			_ = json.Unmarshal(b, &env)
			visible("webhook text", env.Text, id)
			leaks += acts("webhook", all)
			// Every provider's name, shown for its offender.
			for i, c := range corpus {
				n := firstRunes(report.Neutralise(c), 25)
				if strings.ContainsRune(c, 0) || strings.TrimSpace(n) == "" {
					continue
				}
				if !strings.Contains(all, strings.TrimSpace(n)) {
					t.Errorf("webhook: provider name of corpus %d is not visible as %q", i, n)
				}
			}
		case "slack":
			leaks += acts(kind, all, "slack")
		case "discord":
			leaks += acts(kind, all, "markdown")
			if !bytes.Contains(b, []byte(`"allowed_mentions":{"parse":[]}`)) {
				t.Errorf("discord: the request does not turn mentions off: %.300s", b)
			}
		case "telegram":
			leaks += acts(kind, all, "html")
		case "matrix":
			var ev struct {
				Body          string
				FormattedBody string `json:"formatted_body"`
			}
			_ = json.Unmarshal(b, &ev)
			leaks += acts(kind+" body", ev.Body)
			leaks += acts(kind+" formatted_body", ev.FormattedBody, "html")
			if !bytes.Contains(b, []byte(`"m.mentions":{}`)) {
				t.Errorf("matrix: the event does not turn mentions off: %.300s", b)
			}
		default:
			leaks += acts(kind, all)
		}
	}
	for _, k := range channels.Kinds {
		switch {
		case k.Fake != nil && !seenKinds[k.Name]:
			t.Errorf("no request reached the fake API from the %s channel", k.Name)
		case k.Fake == nil && !localKinds[k.Name]:
			t.Errorf("kind %s has no fake API to send to and is not configured here: the hostile corpus skipped it", k.Name)
		}
	}
	var ks []string
	for k := range seenKinds {
		ks = append(ks, k)
	}
	figures(t, "hostile-corpus", len(corpus)*2+1, 0, 0, leaks, fmt.Sprintf("strings=%d", len(corpus)),
		fmt.Sprintf("refused_nul=%d", refusedNUL), fmt.Sprintf("refused_jail=%d", refusedJail),
		fmt.Sprintf("stored=%d", len(stored)+1), fmt.Sprintf("formats=text,console,smtp-text,smtp-html,sendmail-text,sendmail-html,syslog,%s", strings.Join(sortedStrings(ks), ",")),
		fmt.Sprintf("syslog_bytes=%d", len(logged)))
}

// chartTag is the default HTML template's image of the chart, a cid:
// reference to the part that holds it: no attacker text is in it.
var chartTag = regexp.MustCompile(`<img src="cid:bans\.[0-9a-f]+@f2b-notify"[^>]*>`)

// localKinds are the kinds the test configures itself: they send to no
// HTTP API.
var localKinds = map[string]bool{"file": true, "smtp": true, "sendmail": true, "syslog": true}

// chatChannels configures a channel of every HTTP kind but the webhook
// (configured as hook) against the fake API at addr, with the settings the
// kind's entry in channels.Kinds gives for a fake. With fixedHosts, the
// kinds whose API address is fixed are there too: their commands need the
// environment of fixedAPIs.
func chatChannels(addr string, fixedHosts bool) string {
	var b strings.Builder
	for _, k := range channels.Kinds {
		if k.Fake == nil || k.Name == "webhook" || (k.Fake.Host != "" && !fixedHosts) {
			continue
		}
		fmt.Fprintf(&b, "  chat-%s:\n    type: %s\n    retries: 0\n", k.Name, k.Name)
		if k.Fake.Host != "" {
			b.WriteString(k.Fake.Settings)
		} else {
			fmt.Fprintf(&b, k.Fake.Settings, addr)
		}
	}
	return b.String()
}

// fixedAPIs starts an HTTPS proxy that stands in for the API hosts that
// client libraries fix (channels.Fake.Host) and sends their requests to the
// fake API at addr; a command run with its Env reaches them there.
func fixedAPIs(t *testing.T, addr string) *apiproxy.Proxy {
	t.Helper()
	var hosts []string
	for _, k := range channels.Kinds {
		if k.Fake != nil && k.Fake.Host != "" {
			hosts = append(hosts, k.Fake.Host)
		}
	}
	p, err := apiproxy.Start(t.TempDir(), hosts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	for _, h := range hosts {
		p.Route(h, addr)
	}
	return p
}

// kindOfPath names the kind whose fake settings send to path p.
func kindOfPath(p string) string {
	for _, k := range channels.Kinds {
		if k.Fake != nil && strings.HasPrefix(p, k.Fake.Path) {
			return k.Name
		}
	}
	return "unknown:" + p
}

// jsonStrings collects every string of a decoded JSON value.
func jsonStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			out = append(out, jsonStrings(e)...)
		}
		return out
	case map[string]any:
		var out []string
		for _, e := range v {
			out = append(out, jsonStrings(e)...)
		}
		return out
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// hostileGeoIP writes GeoIP databases where the address ipN(0x10000+i)
// belongs to a provider and a country named corpus[i], and returns their
// paths.
func hostileGeoIP(t *testing.T, corpus []string) (asn, country string) {
	t.Helper()
	var entries []mmdbtest.Entry
	for i, c := range corpus {
		entries = append(entries, mmdbtest.Entry{Network: ipN(0x10000+i) + "/32", ASN: uint32(65000 + i), Org: c, Country: string(rune('A'+i/26%26)) + string(rune('A'+i%26)), CountryName: c})
	}
	dir := t.TempDir()
	for name, build := range map[string]func(string, []mmdbtest.Entry) ([]byte, error){"asn.mmdb": mmdbtest.ASN, "country.mmdb": mmdbtest.Country} {
		data, err := build("hostile names", entries)
		if err != nil {
			t.Fatalf("write %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "asn.mmdb"), filepath.Join(dir, "country.mmdb")
}

// listenSyslog listens on a Unix datagram socket, as a syslog daemon
// does, and returns its path and a function that returns what it has
// received so far, messages one after the other.
func listenSyslog(t *testing.T) (string, func() string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "log.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var mu sync.Mutex
	var got strings.Builder
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			mu.Lock()
			got.Write(buf[:n])
			got.WriteByte('\n')
			mu.Unlock()
		}
	}()
	return path, func() string {
		mu.Lock()
		defer mu.Unlock()
		return got.String()
	}
}
