package channels_test

// The generic webhook's tests; the harness they share with the other
// channels' tests is in harness_test.go.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/internal/hostile"
	"github.com/f2b-notify/f2b-notify/report"
)

// --- the generic webhook ---

const (
	whSecretPath  = "/hooks/whSecretPathToken0123456789"
	whSecretToken = "whBearerToken-0123456789abcdef"
	whSecretKey   = "whApiKeyValue-0123456789"
)

func whSettings(srv *fakeServer, extra map[string]any) map[string]any {
	s := map[string]any{"url": srv.URL + whSecretPath}
	for k, v := range extra {
		s[k] = v
	}
	return s
}

func whSecrets(srv *fakeServer) []string {
	return []string{srv.URL + whSecretPath, whSecretPath, "whSecretPathToken0123456789", whSecretToken, whSecretKey}
}

func TestWebhookSettings(t *testing.T) {
	secretURL := "https://hooks.example.com/x/whSecretPathToken0123456789?sig=whSigSecret0123"
	bad := []settingsCase{
		{map[string]any{}, "key url: missing"},
		{map[string]any{"url": "ftp://hooks.example.com/whSecretPathToken0123456789"}, "key url: not an http"},
		{map[string]any{"url": "hooks.example.com/whSecretPathToken0123456789"}, "key url: not an http"},
		{map[string]any{"url": secretURL, "method": "DELETE"}, "key method"},
		{map[string]any{"url": secretURL, "format": "xml"}, "key format"},
		{map[string]any{"url": secretURL, "format": "template", "template_format": "html"}, "key template_format"},
		{map[string]any{"url": secretURL, "max_bytes": 1000}, "go with format: template"},
		{map[string]any{"url": secretURL, "format": "template", "max_bytes": -1}, "key max_bytes"},
		{map[string]any{"url": secretURL, "headers": map[string]any{"X Bad": "v"}}, "key headers"},
		{map[string]any{"url": secretURL, "headers": map[string]any{"X-Key": "whSigSecret0123\r\nX-Evil: 1"}}, "key headers.X-Key"},
		{map[string]any{"url": secretURL, "token": "a b"}, "key token"},
		{map[string]any{"url": secretURL, "token": "t0123", "headers": map[string]any{"Authorization": "Basic x"}}, "both set"},
		{map[string]any{"url": secretURL, "unknown": 1}, "unknown"},
	}
	refuseSettings(t, "hook", "webhook", bad, secretURL, "whSecretPathToken0123456789", "whSigSecret0123")
	for _, good := range []map[string]any{
		{"url": secretURL},
		{"url": secretURL, "method": "put", "format": "template", "template_format": "text", "max_bytes": 5000},
		{"url": secretURL, "headers": map[string]any{"X-Api-Key": "k"}, "token": "t", "content_type": "application/cloudevents+json"},
	} {
		if _, err := channels.New("hook", "webhook", good); err != nil {
			t.Errorf("settings %v: %v", good, err)
		}
	}
}

// whEnvelope is the body of format json.
type whEnvelope struct {
	Subject string `json:"subject"`
	Text    string `json:"text"`
	Digest  struct {
		Host   string `json:"host"`
		From   string `json:"from"`
		Totals struct {
			Bans, Failures, IPs, Jails, Unbans int
		} `json:"totals"`
		Jails []struct {
			Name string `json:"name"`
			Bans int    `json:"bans"`
		} `json:"jails"`
		Offenders []struct {
			IP        string   `json:"ip"`
			IPv6      bool     `json:"ipv6"`
			Jails     []string `json:"jails"`
			Bans      int      `json:"bans"`
			FirstSeen *string  `json:"first_seen"`
			Users     []string `json:"users"`
			Matches   []string `json:"matches"`
		} `json:"offenders"`
		Unbans []struct {
			IP string `json:"ip"`
		} `json:"unbans"`
		Notes struct {
			LastSuccess   *string `json:"last_success"`
			MoreOffenders int     `json:"more_offenders"`
		} `json:"notes"`
	} `json:"digest"`
}

func whDecode(t *testing.T, body []byte) whEnvelope {
	t.Helper()
	var e whEnvelope
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("the body is not the JSON envelope: %v\n%s", err, body)
	}
	return e
}

func TestWebhookJSONEnvelope(t *testing.T) {
	srv := newFakeServer(t, fakeReply(200, nil, "thanks"))
	ch := newTestChannel(t, "webhook", whSettings(srv, map[string]any{
		"headers": map[string]any{"x-api-key": whSecretKey}, "token": whSecretToken,
	}))
	d := sampleDigest()
	m := renderReport(t, ch, config.Channel{}, d)
	if err := sendOnce(testCtx(t), ch, m); err != nil {
		t.Fatal(err)
	}
	r := srv.last(t)
	if r.Method != "POST" || r.Path != whSecretPath {
		t.Errorf("request %s %s, want POST %s", r.Method, r.Path, whSecretPath)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type %q", got)
	}
	if got := r.Header.Get("X-Api-Key"); got != whSecretKey {
		t.Errorf("X-Api-Key %q", got)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+whSecretToken {
		t.Errorf("Authorization %q", got)
	}
	e := whDecode(t, r.Body)
	if e.Subject != m.Subject || e.Text != m.Bodies[channels.Text] || !strings.Contains(e.Text, "Fail2Ban report for web1.example.org") {
		t.Errorf("subject %q and text %q are not the rendered ones", e.Subject, e.Text)
	}
	if e.Digest.Host != d.Host || e.Digest.Totals.Bans != d.Totals.Bans || e.Digest.Totals.IPs != d.Totals.IPs ||
		len(e.Digest.Offenders) != len(d.Offenders) || len(e.Digest.Jails) != len(d.Jails) || len(e.Digest.Unbans) != len(d.Unbans) {
		t.Errorf("digest %+v does not hold the digest's facts %+v", e.Digest.Totals, d.Totals)
	}
	for i, o := range d.Offenders {
		got := e.Digest.Offenders[i]
		if got.IP != o.IP || got.Bans != o.Bans || got.IPv6 != o.IPv6 || strings.Join(got.Jails, ",") != strings.Join(o.Jails, ",") ||
			strings.Join(got.Users, ",") != strings.Join(o.Users, ",") || strings.Join(got.Matches, "\n") != strings.Join(o.Matches, "\n") {
			t.Errorf("offender %d: %+v, want %+v", i, got, o)
		}
		if got.FirstSeen == nil || *got.FirstSeen != o.FirstSeen.UTC().Format(time.RFC3339) {
			t.Errorf("offender %d first seen %v, want %s", i, got.FirstSeen, o.FirstSeen.UTC().Format(time.RFC3339))
		}
	}
	if e.Digest.Notes.LastSuccess != nil {
		t.Errorf("a zero time is %q, want null", *e.Digest.Notes.LastSuccess)
	}
	checkGolden(t, "webhook", "sample", indentJSON(t, r.Body))
}

func TestWebhookTemplateFormats(t *testing.T) {
	dir := t.TempDir()
	jsonTmpl := filepath.Join(dir, "hook.json.tmpl")
	os.WriteFile(jsonTmpl, []byte(`{"text": "{{.Host}}: {{.Totals.Bans}} bans", "users": [{{range $i, $o := .Offenders}}{{if $i}}, {{end}}"{{join ", " .Users}}"{{end}}]}`), 0o644)
	textTmpl := filepath.Join(dir, "hook.text.tmpl")
	os.WriteFile(textTmpl, []byte(`{{.Host}} banned {{.Totals.Bans}}{{range .Offenders}} {{.IP}}{{end}}`), 0o644)

	srv := newFakeServer(t, fakeReply(204, nil, ""))
	d := sampleDigest()

	ch := newTestChannel(t, "webhook", whSettings(srv, map[string]any{"format": "template", "method": "PUT"}))
	m := renderReport(t, ch, config.Channel{Templates: map[string]string{"json": jsonTmpl}}, d)
	if err := sendOnce(testCtx(t), ch, m); err != nil {
		t.Fatal(err)
	}
	r := srv.last(t)
	var got struct {
		Text  string   `json:"text"`
		Users []string `json:"users"`
	}
	if r.Method != "PUT" || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(r.Body, &got) != nil {
		t.Fatalf("%s with %s: %s", r.Method, r.Header.Get("Content-Type"), r.Body)
	}
	if want := fmt.Sprintf("web1.example.org: %d bans", d.Totals.Bans); got.Text != want || len(got.Users) != len(d.Offenders) {
		t.Errorf("got %+v, want text %q and %d users", got, want, len(d.Offenders))
	}

	ch = newTestChannel(t, "webhook", whSettings(srv, map[string]any{"format": "template", "template_format": "text", "max_bytes": 60}))
	m = renderReport(t, ch, config.Channel{Templates: map[string]string{"text": textTmpl}}, d)
	if err := sendOnce(testCtx(t), ch, m); err != nil {
		t.Fatal(err)
	}
	r = srv.last(t)
	if r.Header.Get("Content-Type") != "text/plain; charset=utf-8" || len(r.Body) > 60 || !strings.HasPrefix(string(r.Body), "web1.example.org banned") {
		t.Errorf("text template sent as %q: %q (max_bytes 60)", r.Header.Get("Content-Type"), r.Body)
	}

	// A JSON template whose output is not JSON is refused before sending.
	bad := filepath.Join(dir, "bad.json.tmpl")
	os.WriteFile(bad, []byte(`{"n": {{range .Offenders}}{{.IP}}{{end}}}`), 0o644)
	ch = newTestChannel(t, "webhook", whSettings(srv, map[string]any{"format": "template"}))
	before := len(srv.requests())
	m = renderReport(t, ch, config.Channel{Templates: map[string]string{"json": bad}}, d)
	err := sendOnce(testCtx(t), ch, m)
	if class, _ := verdictOf(err); class != "permanent" || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("invalid JSON output: %v (%s), want a permanent error", err, class)
	}
	if len(srv.requests()) != before {
		t.Errorf("invalid JSON was sent")
	}
}

func TestWebhookHostileCorpus(t *testing.T) {
	srv := newFakeServer(t, fakeReply(200, nil, "ok"))
	env := newTestChannel(t, "webhook", whSettings(srv, nil))
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "msg.json.tmpl")
	os.WriteFile(tmpl, []byte(`{"msg": "{{range .Offenders}}{{.IP}} {{join ", " .Users}} {{index .Matches 0}} {{join ", " .Jails}};{{end}}"}`), 0o644)
	tpl := newTestChannel(t, "webhook", whSettings(srv, map[string]any{"format": "template"}))
	for i, s := range hostile.Corpus() {
		d := hostileDigest(i)
		user := report.ShowUser(s)
		if err := sendOnce(testCtx(t), env, renderReport(t, env, config.Channel{}, d)); err != nil {
			t.Fatalf("corpus entry %d %q: %v", i, s, err)
		}
		e := whDecode(t, srv.last(t).Body)
		o := e.Digest.Offenders[0]
		if len(o.Users) != 1 || o.Users[0] != user || o.Matches[0] != report.ShowLine(hostile.Match(i)) {
			t.Errorf("corpus entry %d %q: users %q matches %q, want the text itself", i, s, o.Users, o.Matches)
		}
		if !strings.Contains(e.Text, user) {
			t.Errorf("corpus entry %d %q: the text report does not show it literally", i, s)
		}
		if err := sendOnce(testCtx(t), tpl, renderReport(t, tpl, config.Channel{Templates: map[string]string{"json": tmpl}}, d)); err != nil {
			t.Fatalf("corpus entry %d %q through a user's JSON template: %v", i, s, err)
		}
		var got map[string]string
		if err := json.Unmarshal(srv.last(t).Body, &got); err != nil || len(got) != 1 {
			t.Fatalf("corpus entry %d %q: a user's JSON template gave %q (%v)", i, s, srv.last(t).Body, err)
		}
		if !strings.Contains(got["msg"], user) {
			t.Errorf("corpus entry %d %q: msg %q does not hold it literally", i, s, got["msg"])
		}
	}
}

func TestWebhookLargeDigest(t *testing.T) {
	srv := newFakeServer(t, fakeReply(200, nil, ""))
	ch := newTestChannel(t, "webhook", whSettings(srv, nil))
	// Rendered before the send's deadline starts: 5,000 rows under -race
	// on a loaded machine take seconds, and the deadline is the send's.
	m := renderReport(t, ch, config.Channel{}, big5000())
	if err := sendOnce(testCtx(t), ch, m); err != nil {
		t.Fatal(err)
	}
	e := whDecode(t, srv.last(t).Body)
	if e.Digest.Totals.Bans != 5000 || len(e.Digest.Offenders) != 5000 || !strings.Contains(e.Text, "5000") {
		t.Errorf("the digest of 5000 offenders arrived with %d bans and %d offenders", e.Digest.Totals.Bans, len(e.Digest.Offenders))
	}
}

func TestWebhookErrors(t *testing.T) {
	srv := newFakeServer(t, nil)
	ch := newTestChannel(t, "webhook", whSettings(srv, map[string]any{"token": whSecretToken, "headers": map[string]any{"X-Api-Key": whSecretKey}}))
	send := func(ctx context.Context) error { return ch.Send(ctx, "subject", `{"a": 1}`) }
	cases := []errCase{
		{name: "200", answer: fakeReply(200, nil, "ok"), class: "ok"},
		{name: "202", answer: fakeReply(202, nil, ""), class: "ok"},
		{name: "400", answer: fakeReply(400, nil, "bad payload"), class: "permanent", want: "HTTP 400 Bad Request: bad payload"},
		{name: "401 echoing the token", answer: fakeReply(401, nil, "invalid token "+whSecretToken+" for "+whSecretPath), class: "permanent", want: "HTTP 401"},
		{name: "403 echoing the key", answer: fakeReply(403, nil, "key "+whSecretKey+" is not allowed"), class: "permanent", want: "[redacted]"},
		{name: "404", answer: fakeReply(404, nil, "no such hook"), class: "permanent", want: "HTTP 404"},
		{name: "413", answer: fakeReply(413, nil, "too large"), class: "permanent", want: "HTTP 413"},
		{name: "429 with Retry-After", answer: fakeReply(429, map[string]string{"Retry-After": "12"}, "slow down"), class: "retry-after", after: 12 * time.Second, want: "HTTP 429"},
		{name: "500", answer: fakeReply(500, nil, "oops"), class: "retry", want: "HTTP 500"},
		{name: "503", answer: fakeReply(503, nil, ""), class: "retry", want: "HTTP 503"},
	}
	runErrorCases(t, srv, send, whSecrets(srv), append(cases, transportCases()...))
}

func TestJSONDialectEscapesEveryValue(t *testing.T) {
	esc := dialectEscaper(t, channels.JSONFormat)
	for _, s := range hostile.Corpus() {
		n := report.Neutralise(s)
		for _, v := range []string{s, n} {
			var back string
			if err := json.Unmarshal([]byte(`"`+esc(v)+`"`), &back); err != nil {
				t.Errorf("%q escaped to %q, which is no JSON string: %v", v, esc(v), err)
				continue
			}
			if v == n && back != v {
				t.Errorf("%q escaped to %q reads back as %q", v, esc(v), back)
			}
		}
	}
}
