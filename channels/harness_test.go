package channels_test

// The harness every channel's tests share: a fake platform on 127.0.0.1 that
// records requests and answers as told, golden files, digests (the sample,
// hostile and large ones), rendering and sending as a flush does, and the
// judging of errors.

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
	"net/netip"
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
	"github.com/f2b-notify/f2b-notify/internal/geoip"
	"github.com/f2b-notify/f2b-notify/internal/hostile"
	"github.com/f2b-notify/f2b-notify/internal/sample"
	"github.com/f2b-notify/f2b-notify/render"
	"github.com/f2b-notify/f2b-notify/report"
	"github.com/f2b-notify/f2b-notify/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files testdata/KIND/*.golden")

// checkGolden compares got with the golden file testdata/KIND/NAME.golden,
// or rewrites it with -update. Every channel's golden files go through it.
func checkGolden(t *testing.T, kind, name string, got []byte) {
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

// indentJSON re-indents a JSON body for a golden file.
func indentJSON(t *testing.T, body []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, body, "", "  "); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// digestEnd is the time the test digests end at.
var digestEnd = time.Date(2024, 11, 25, 18, 0, 0, 0, time.UTC)

// fakeRequest is one request a fake platform received.
type fakeRequest struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// fakeAnswer answers a request; body is the request's body, already read.
type fakeAnswer func(w http.ResponseWriter, r *http.Request, body []byte)

// fakeServer is a fake platform on 127.0.0.1: it records every request and
// answers with the current fakeAnswer.
type fakeServer struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []fakeRequest
	answer fakeAnswer
}

func newFakeServer(t *testing.T, answer fakeAnswer) *fakeServer {
	t.Helper()
	s := &fakeServer{answer: answer}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, fakeRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
		answer := s.answer
		s.mu.Unlock()
		answer(w, r, body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *fakeServer) setAnswer(a fakeAnswer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answer = a
}

func (s *fakeServer) requests() []fakeRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]fakeRequest(nil), s.reqs...)
}

// last returns the last request, failing the test when there is none.
func (s *fakeServer) last(t *testing.T) fakeRequest {
	t.Helper()
	reqs := s.requests()
	if len(reqs) == 0 {
		t.Fatal("the fake platform received no request")
	}
	return reqs[len(reqs)-1]
}

// lastAt returns the last request to path, failing the test when there is
// none: the report's request of a channel that posts attachments after it.
func (s *fakeServer) lastAt(t *testing.T, path string) fakeRequest {
	t.Helper()
	reqs := s.requests()
	for i := len(reqs) - 1; i >= 0; i-- {
		if reqs[i].Path == path {
			return reqs[i]
		}
	}
	t.Fatalf("the fake platform received no request to %s", path)
	return fakeRequest{}
}

// fakeReply answers with status, headers and body.
func fakeReply(status int, header map[string]string, body string) fakeAnswer {
	return func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// fakeHang answers nothing until the client gives up.
func fakeHang(w http.ResponseWriter, r *http.Request, _ []byte) {
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
}

// fakeReset closes the connection without an answer.
func fakeReset(w http.ResponseWriter, _ *http.Request, _ []byte) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

// verdictOf tells how Deliver would treat err: "ok", "permanent",
// "retry-after" (with its wait) or "retry".
func verdictOf(err error) (string, time.Duration) {
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
		noSecret(t, err, secrets...)
	}
}

// noSecret fails the test if err shows a secret in any form.
func noSecret(t *testing.T, err error, secrets ...string) {
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

// errCase is one answer of a platform and how its error must be judged.
type errCase struct {
	name    string
	answer  fakeAnswer
	class   string        // ok, permanent, retry, retry-after
	after   time.Duration // the wait of retry-after
	want    string        // in the error's text
	timeout time.Duration // of the attempt; 0 means 5s
}

// runErrorCases sends once per case with send and checks the verdict and
// that no secret shows.
func runErrorCases(t *testing.T, srv *fakeServer, send func(context.Context) error, secrets []string, cases []errCase) {
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
			class, after := verdictOf(err)
			if class != tc.class {
				t.Fatalf("error %v: judged %s, want %s", err, class, tc.class)
			}
			if tc.class == "retry-after" && (after < tc.after-time.Millisecond || after > tc.after+time.Millisecond) {
				t.Errorf("retry after %v, want %v", after, tc.after)
			}
			if err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			noSecret(t, err, secrets...)
		})
	}
}

// transportCases are the failures every HTTP channel must take for
// temporary: an answer that never comes and a connection reset.
func transportCases() []errCase {
	return []errCase{
		{name: "hang past the timeout", answer: fakeHang, class: "retry", want: "deadline", timeout: 300 * time.Millisecond},
		{name: "connection reset", answer: fakeReset, class: "retry", want: "127.0.0.1"},
	}
}

// newTestChannel builds a channel of kind named test-KIND.
func newTestChannel(t *testing.T, kind string, settings map[string]any) channels.Channel {
	t.Helper()
	return newChannel(t, "test-"+kind, kind, settings)
}

// noAttachments renders the report alone, for the tests of its text and
// of its request: the attachments of a channel that posts them follow in
// requests of their own, and no chart is drawn.
var noAttachments = config.Channel{Attachments: &[]string{}}

// renderReport renders d for ch the way a flush does: the channel's default
// templates (or those of cc), fitted to its limit.
func renderReport(t *testing.T, ch channels.Channel, cc config.Channel, d *report.Digest) channels.Message {
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

// sendOnce sends m as Deliver would, in one attempt.
func sendOnce(ctx context.Context, ch channels.Channel, m channels.Message) error {
	return channels.Deliver(ctx, channels.Job{Channel: ch, Message: m}).Err
}

// sampleDigest is the digest of the demo's sample records.
func sampleDigest() *report.Digest {
	b := report.NewBuilder(report.Options{Host: "web1.example.org", Generated: digestEnd, Geo: geoip.Demo(), History: sample.History(digestEnd)})
	for _, r := range sample.Records(digestEnd) {
		b.Add(r)
	}
	return b.Digest()
}

// offenderAlone is d with only the offender at ip among its offender rows:
// a check of how that row shows then holds in any channel's limit, however
// many rows before it the limit leaves out.
func offenderAlone(t *testing.T, d *report.Digest, ip string) *report.Digest {
	t.Helper()
	c := *d
	c.Offenders = nil
	for _, o := range d.Offenders {
		if o.IP == ip {
			c.Offenders = append(c.Offenders, o)
		}
	}
	if len(c.Offenders) != 1 {
		t.Fatalf("the digest has %d offenders at %s, want 1", len(c.Offenders), ip)
	}
	return &c
}

// hostileGeo is a GeoIP database whose provider and country names are s.
type hostileGeo string

func (g hostileGeo) Lookup(netip.Addr) (geoip.Info, error) {
	return geoip.Info{ASN: 64496, Org: string(g), Country: string(g), CountryName: string(g)}, nil
}

// hostileDigest is a digest built from one ban whose jail, user name
// and log line come from corpus entry i, plus an unban of the same address.
func hostileDigest(i int) *report.Digest {
	s := hostile.Corpus()[i]
	b := report.NewBuilder(report.Options{Host: "web1.example.org", Generated: digestEnd, Geo: hostileGeo(s), Warnings: []string{s}})
	t := float64(digestEnd.Add(-time.Minute).Unix())
	b.Add(&buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionBan, Jail: s, IP: "198.51.100.7", Time: t, At: digestEnd.Unix(),
		Failures: 5, Bantime: 600, User: s, Matches: []string{hostile.Match(i)}})
	b.Add(&buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionBan, Jail: "sshd", IP: "198.51.100.8", Time: t, At: digestEnd.Unix(),
		Failures: 5, Bantime: 600, User: s, Matches: []string{hostile.Match(i)}})
	b.Add(&buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionUnban, Jail: s, IP: "198.51.100.9", Time: t, At: digestEnd.Unix()})
	return b.Digest()
}

// big5000 is bigDigest(5000), built once: renders only read it.
var big5000 = sync.OnceValue(func() *report.Digest { return bigDigest(5000) })

// bigDigest is a digest of n offenders built from records, each with a
// user name and three log lines; one in seven is an IPv6 address.
func bigDigest(n int) *report.Digest {
	b := report.NewBuilder(report.Options{Host: "web1.example.org", Generated: digestEnd})
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
			Time: float64(digestEnd.Add(-time.Duration(i) * time.Second).Unix()), At: digestEnd.Unix(),
			Failures: 5 + i%4, Bantime: 600, User: user, Matches: matches})
	}
	b.AddStats(buffer.ScanStats{Records: n}, 1)
	return b.Digest()
}

// measureBody measures body as ch counts its limit.
func measureBody(ch channels.Channel, body string) int {
	if m, ok := ch.(channels.Measurer); ok {
		return m.Measure(body)
	}
	return utf8.RuneCountInString(body)
}

// dialectEscaper returns the escaper of the dialect f.
func dialectEscaper(t *testing.T, f channels.Format) func(string) string {
	t.Helper()
	d, err := templates.Lookup(f)
	if err != nil {
		t.Fatal(err)
	}
	return d.Escape
}

// newChannel builds a channel, failing the test on an error.
func newChannel(t *testing.T, name, kind string, settings map[string]any) channels.Channel {
	t.Helper()
	ch, err := channels.New(name, kind, settings)
	if err != nil {
		t.Fatalf("new %s channel: %v", kind, err)
	}
	return ch
}

// testCtx is a context for one test, cancelled at its end.
func testCtx(t *testing.T) context.Context { return timeoutCtx(t, 20*time.Second) }

// timeoutCtx is a context that ends after d, or with the test.
func timeoutCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
