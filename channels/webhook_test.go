package channels_test

// This file holds the generic webhook's tests and the helpers the tests of
// the chat webhooks (slack, discord, ntfy, teams) share: a fake platform that
// records requests and answers as told, digests (hostile and large), and the
// classification of errors.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/internal/hostile"
	"github.com/f2b-notify/f2b-notify/internal/sample"
	"github.com/f2b-notify/f2b-notify/render"
	"github.com/f2b-notify/f2b-notify/report"
	"github.com/f2b-notify/f2b-notify/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files testdata/KIND/*.golden")

// hookGolden compares got with the golden file testdata/KIND/NAME.golden,
// or rewrites it with -update. Every channel's golden files go through it.
func hookGolden(t *testing.T, kind, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", kind, name+".golden")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./channels -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from what was sent (go test ./channels -update rewrites it; review the diff):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// hookIndent re-indents a JSON body for a golden file.
func hookIndent(t *testing.T, body []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, body, "", "  "); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// hookEnd is the time the test digests end at.
var hookEnd = time.Date(2024, 11, 25, 18, 0, 0, 0, time.UTC)

// hookRequest is one request a fake platform received.
type hookRequest struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// hookAnswer answers a request; body is the request's body, already read.
type hookAnswer func(w http.ResponseWriter, r *http.Request, body []byte)

// hookServer is a fake platform on 127.0.0.1: it records every request and
// answers with the current hookAnswer.
type hookServer struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []hookRequest
	answer hookAnswer
}

func newHookServer(t *testing.T, answer hookAnswer) *hookServer {
	t.Helper()
	s := &hookServer{answer: answer}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, hookRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
		answer := s.answer
		s.mu.Unlock()
		answer(w, r, body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *hookServer) setAnswer(a hookAnswer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answer = a
}

func (s *hookServer) requests() []hookRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hookRequest(nil), s.reqs...)
}

// last returns the last request, failing the test when there is none.
func (s *hookServer) last(t *testing.T) hookRequest {
	t.Helper()
	reqs := s.requests()
	if len(reqs) == 0 {
		t.Fatal("the fake platform received no request")
	}
	return reqs[len(reqs)-1]
}

// hookReply answers with status, headers and body.
func hookReply(status int, header map[string]string, body string) hookAnswer {
	return func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// hookHang answers nothing until the client gives up.
func hookHang(w http.ResponseWriter, r *http.Request, _ []byte) {
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
}

// hookReset closes the connection without an answer.
func hookReset(w http.ResponseWriter, _ *http.Request, _ []byte) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

// hookClass tells how Deliver would treat err: "ok", "permanent",
// "retry-after" (with its wait) or "retry".
func hookClass(err error) (string, time.Duration) {
	var ra *channels.RetryAfterError
	switch {
	case err == nil:
		return "ok", 0
	case channels.IsPermanent(err):
		return "permanent", 0
	case errors.As(err, &ra):
		return "retry-after", ra.After
	}
	return "retry", 0
}

// hookNoSecret fails the test if err shows a secret in any form.
// settingsCase is a channel configuration New must refuse, and what its
// error must say.
type settingsCase struct {
	settings map[string]any
	want     string
}

// refuseSettings checks that New refuses every case with one error that
// names the channel and says what is wrong, and shows none of the secrets.
func refuseSettings(t *testing.T, name, kind string, cases []settingsCase, secrets ...string) {
	t.Helper()
	for _, tc := range cases {
		_, err := channels.New(name, kind, tc.settings)
		if err == nil {
			t.Errorf("%s settings %v: no error", kind, tc.settings)
			continue
		}
		if !strings.Contains(err.Error(), `channel "`+name+`"`) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s settings %v: error %q, want the channel and %q", kind, tc.settings, err, tc.want)
		}
		hookNoSecret(t, err, secrets...)
	}
}

func hookNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, s := range secrets {
		for _, form := range []string{s, url.PathEscape(s), url.QueryEscape(s)} {
			if len(form) >= 4 && strings.Contains(msg, form) {
				t.Errorf("error shows the secret %q: %s", s, msg)
			}
		}
	}
}

// hookErrCase is one answer of a platform and how its error must be judged.
type hookErrCase struct {
	name    string
	answer  hookAnswer
	class   string        // ok, permanent, retry, retry-after
	after   time.Duration // the wait of retry-after
	want    string        // in the error's text
	timeout time.Duration // of the attempt; 0 means 5s
}

// hookRunErrors sends once per case with send and checks the verdict and
// that no secret shows.
func hookRunErrors(t *testing.T, srv *hookServer, send func(context.Context) error, secrets []string, cases []hookErrCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv.setAnswer(tc.answer)
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			err := send(ctx)
			class, after := hookClass(err)
			if class != tc.class {
				t.Fatalf("error %v: judged %s, want %s", err, class, tc.class)
			}
			if tc.class == "retry-after" && (after < tc.after-time.Millisecond || after > tc.after+time.Millisecond) {
				t.Errorf("retry after %v, want %v", after, tc.after)
			}
			if err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			hookNoSecret(t, err, secrets...)
		})
	}
}

// hookTransportCases are the failures every HTTP channel must take for
// temporary: an answer that never comes and a connection reset.
func hookTransportCases() []hookErrCase {
	return []hookErrCase{
		{name: "hang past the timeout", answer: hookHang, class: "retry", want: "deadline", timeout: 300 * time.Millisecond},
		{name: "connection reset", answer: hookReset, class: "retry", want: "127.0.0.1"},
	}
}

func hookCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func hookNew(t *testing.T, kind string, settings map[string]any) channels.Channel {
	t.Helper()
	ch, err := channels.New("test-"+kind, kind, settings)
	if err != nil {
		t.Fatalf("new %s channel: %v", kind, err)
	}
	return ch
}

// hookRender renders d for ch the way a flush does: the channel's default
// templates (or those of cc), fitted to its limit.
func hookRender(t *testing.T, ch channels.Channel, cc config.Channel, d *report.Digest) channels.Message {
	t.Helper()
	target, err := render.NewTarget(ch, cc, time.UTC)
	if err != nil {
		t.Fatalf("prepare target: %v", err)
	}
	m, err := target.Render(d)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return m
}

// hookSend sends m as Deliver would, in one attempt.
func hookSend(ctx context.Context, ch channels.Channel, m channels.Message) error {
	return channels.Deliver(ctx, channels.Job{Channel: ch, Message: m}).Err
}

// hookSampleDigest is the digest of the demo's sample records.
func hookSampleDigest() *report.Digest {
	b := report.NewBuilder(report.Options{Host: "web1.example.org", Generated: hookEnd})
	for _, r := range sample.Records(hookEnd) {
		b.Add(r)
	}
	return b.Digest()
}

// hookHostileDigest is a digest built from one ban whose jail, user name
// and log line come from corpus entry i, plus an unban of the same address.
func hookHostileDigest(i int) *report.Digest {
	s := hostile.Corpus()[i]
	b := report.NewBuilder(report.Options{Host: "web1.example.org", Generated: hookEnd})
	t := float64(hookEnd.Add(-time.Minute).Unix())
	b.Add(&buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionBan, Jail: s, IP: "198.51.100.7", Time: t, At: hookEnd.Unix(),
		Failures: 5, Bantime: 600, User: s, Matches: []string{hostile.Match(i)}})
	b.Add(&buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionBan, Jail: "sshd", IP: "198.51.100.8", Time: t, At: hookEnd.Unix(),
		Failures: 5, Bantime: 600, User: s, Matches: []string{hostile.Match(i)}})
	b.Add(&buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionUnban, Jail: s, IP: "198.51.100.9", Time: t, At: hookEnd.Unix()})
	return b.Digest()
}

// hookBig5000 is hookBigDigest(5000), built once: renders only read it.
var hookBig5000 = sync.OnceValue(func() *report.Digest { return hookBigDigest(5000) })

// hookBigDigest is a digest of n offenders built from records, each with a
// user name and three log lines; one in seven is an IPv6 address.
func hookBigDigest(n int) *report.Digest {
	b := report.NewBuilder(report.Options{Host: "web1.example.org", Generated: hookEnd})
	for i := range n {
		ip := fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256)
		if i%7 == 0 {
			ip = fmt.Sprintf("2001:db8::%x", i)
		}
		jail := []string{"sshd", "nginx-http-auth", "postfix-sasl"}[i%3]
		user := fmt.Sprintf("admin%d", i)
		var matches []string
		for k := range 3 {
			matches = append(matches, fmt.Sprintf("Nov 25 17:%02d:%02d web1 sshd[%d]: Failed password for invalid user %s from %s port %d ssh2", k, i%60, 1000+i, user, ip, 40000+k))
		}
		b.Add(&buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionBan, Jail: jail, IP: ip,
			Time: float64(hookEnd.Add(-time.Duration(i) * time.Second).Unix()), At: hookEnd.Unix(),
			Failures: 5 + i%4, Bantime: 600, User: user, Matches: matches})
	}
	b.AddStats(buffer.ScanStats{Records: n}, 1)
	return b.Digest()
}

// hookMeasure measures body as ch counts its limit.
func hookMeasure(ch channels.Channel, body string) int {
	if m, ok := ch.(channels.Measurer); ok {
		return m.Measure(body)
	}
	return utf8.RuneCountInString(body)
}

// hookEscape returns the escaper of the dialect f.
func hookEscape(t *testing.T, f channels.Format) func(string) string {
	t.Helper()
	d, err := templates.Lookup(f)
	if err != nil {
		t.Fatal(err)
	}
	return d.Escape
}

// --- the generic webhook ---

const (
	whSecretPath  = "/hooks/whSecretPathToken0123456789"
	whSecretToken = "whBearerToken-0123456789abcdef"
	whSecretKey   = "whApiKeyValue-0123456789"
)

func whSettings(srv *hookServer, extra map[string]any) map[string]any {
	s := map[string]any{"url": srv.URL + whSecretPath}
	for k, v := range extra {
		s[k] = v
	}
	return s
}

func whSecrets(srv *hookServer) []string {
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
	srv := newHookServer(t, hookReply(200, nil, "thanks"))
	ch := hookNew(t, "webhook", whSettings(srv, map[string]any{
		"headers": map[string]any{"x-api-key": whSecretKey}, "token": whSecretToken,
	}))
	d := hookSampleDigest()
	m := hookRender(t, ch, config.Channel{}, d)
	if err := hookSend(hookCtx(t), ch, m); err != nil {
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
	hookGolden(t, "webhook", "sample", hookIndent(t, r.Body))
}

func TestWebhookTemplateFormats(t *testing.T) {
	dir := t.TempDir()
	jsonTmpl := filepath.Join(dir, "hook.json.tmpl")
	os.WriteFile(jsonTmpl, []byte(`{"text": "{{.Host}}: {{.Totals.Bans}} bans", "users": [{{range $i, $o := .Offenders}}{{if $i}}, {{end}}"{{join ", " .Users}}"{{end}}]}`), 0o644)
	textTmpl := filepath.Join(dir, "hook.text.tmpl")
	os.WriteFile(textTmpl, []byte(`{{.Host}} banned {{.Totals.Bans}}{{range .Offenders}} {{.IP}}{{end}}`), 0o644)

	srv := newHookServer(t, hookReply(204, nil, ""))
	d := hookSampleDigest()

	ch := hookNew(t, "webhook", whSettings(srv, map[string]any{"format": "template", "method": "PUT"}))
	m := hookRender(t, ch, config.Channel{Templates: map[string]string{"json": jsonTmpl}}, d)
	if err := hookSend(hookCtx(t), ch, m); err != nil {
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

	ch = hookNew(t, "webhook", whSettings(srv, map[string]any{"format": "template", "template_format": "text", "max_bytes": 60}))
	m = hookRender(t, ch, config.Channel{Templates: map[string]string{"text": textTmpl}}, d)
	if err := hookSend(hookCtx(t), ch, m); err != nil {
		t.Fatal(err)
	}
	r = srv.last(t)
	if r.Header.Get("Content-Type") != "text/plain; charset=utf-8" || len(r.Body) > 60 || !strings.HasPrefix(string(r.Body), "web1.example.org banned") {
		t.Errorf("text template sent as %q: %q (max_bytes 60)", r.Header.Get("Content-Type"), r.Body)
	}

	// A JSON template whose output is not JSON is refused before sending.
	bad := filepath.Join(dir, "bad.json.tmpl")
	os.WriteFile(bad, []byte(`{"n": {{range .Offenders}}{{.IP}}{{end}}}`), 0o644)
	ch = hookNew(t, "webhook", whSettings(srv, map[string]any{"format": "template"}))
	before := len(srv.requests())
	m = hookRender(t, ch, config.Channel{Templates: map[string]string{"json": bad}}, d)
	err := hookSend(hookCtx(t), ch, m)
	if class, _ := hookClass(err); class != "permanent" || !strings.Contains(err.Error(), "not valid JSON") {
		t.Errorf("invalid JSON output: %v (%s), want a permanent error", err, class)
	}
	if len(srv.requests()) != before {
		t.Errorf("invalid JSON was sent")
	}
}

func TestWebhookHostileCorpus(t *testing.T) {
	srv := newHookServer(t, hookReply(200, nil, "ok"))
	env := hookNew(t, "webhook", whSettings(srv, nil))
	dir := t.TempDir()
	tmpl := filepath.Join(dir, "msg.json.tmpl")
	os.WriteFile(tmpl, []byte(`{"msg": "{{range .Offenders}}{{.IP}} {{join ", " .Users}} {{index .Matches 0}} {{join ", " .Jails}};{{end}}"}`), 0o644)
	tpl := hookNew(t, "webhook", whSettings(srv, map[string]any{"format": "template"}))
	for i, s := range hostile.Corpus() {
		d := hookHostileDigest(i)
		user := report.ShowUser(s)
		if err := hookSend(hookCtx(t), env, hookRender(t, env, config.Channel{}, d)); err != nil {
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
		if err := hookSend(hookCtx(t), tpl, hookRender(t, tpl, config.Channel{Templates: map[string]string{"json": tmpl}}, d)); err != nil {
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
	srv := newHookServer(t, hookReply(200, nil, ""))
	ch := hookNew(t, "webhook", whSettings(srv, nil))
	d := hookBig5000()
	if err := hookSend(hookCtx(t), ch, hookRender(t, ch, config.Channel{}, d)); err != nil {
		t.Fatal(err)
	}
	e := whDecode(t, srv.last(t).Body)
	if e.Digest.Totals.Bans != 5000 || len(e.Digest.Offenders) != 5000 || !strings.Contains(e.Text, "5000") {
		t.Errorf("the digest of 5000 offenders arrived with %d bans and %d offenders", e.Digest.Totals.Bans, len(e.Digest.Offenders))
	}
}

func TestWebhookErrors(t *testing.T) {
	srv := newHookServer(t, nil)
	ch := hookNew(t, "webhook", whSettings(srv, map[string]any{"token": whSecretToken, "headers": map[string]any{"X-Api-Key": whSecretKey}}))
	send := func(ctx context.Context) error { return ch.Send(ctx, "subject", `{"a": 1}`) }
	cases := []hookErrCase{
		{name: "200", answer: hookReply(200, nil, "ok"), class: "ok"},
		{name: "202", answer: hookReply(202, nil, ""), class: "ok"},
		{name: "400", answer: hookReply(400, nil, "bad payload"), class: "permanent", want: "HTTP 400 Bad Request: bad payload"},
		{name: "401 echoing the token", answer: hookReply(401, nil, "invalid token "+whSecretToken+" for "+whSecretPath), class: "permanent", want: "HTTP 401"},
		{name: "403 echoing the key", answer: hookReply(403, nil, "key "+whSecretKey+" is not allowed"), class: "permanent", want: "[redacted]"},
		{name: "404", answer: hookReply(404, nil, "no such hook"), class: "permanent", want: "HTTP 404"},
		{name: "413", answer: hookReply(413, nil, "too large"), class: "permanent", want: "HTTP 413"},
		{name: "429 with Retry-After", answer: hookReply(429, map[string]string{"Retry-After": "12"}, "slow down"), class: "retry-after", after: 12 * time.Second, want: "HTTP 429"},
		{name: "500", answer: hookReply(500, nil, "oops"), class: "retry", want: "HTTP 500"},
		{name: "503", answer: hookReply(503, nil, ""), class: "retry", want: "HTTP 503"},
	}
	hookRunErrors(t, srv, send, whSecrets(srv), append(cases, hookTransportCases()...))
}

func TestJSONDialectEscapesEveryValue(t *testing.T) {
	esc := hookEscape(t, channels.JSONFormat)
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
