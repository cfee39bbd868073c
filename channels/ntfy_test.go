package channels_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/internal/hostile"
	"github.com/f2b-notify/f2b-notify/report"
)

const (
	ntfyToken    = "tk_ntfySecretToken0123456789ab"
	ntfyPassword = "ntfySecretPassw0rd"
)

// ntfyMessage is what ntfy reads of a JSON publish request.
type ntfyMessage struct {
	Topic    string   `json:"topic"`
	Message  string   `json:"message"`
	Title    string   `json:"title"`
	Priority *int     `json:"priority"`
	Tags     []string `json:"tags"`
	Markdown bool     `json:"markdown"`
}

var ntfyTopicRE = regexp.MustCompile(`^[-_A-Za-z0-9]{1,64}$`)

// ntfyError answers as ntfy does: {"code", "http", "error", "link"}.
func ntfyError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"code":%d,"http":%d,"error":%q,"link":"https://ntfy.sh/docs/publish/"}`+"\n", code, status, msg)
}

// ntfyFake answers as an ntfy server without attachments does: it reads at
// most twice its 4096-byte message limit of JSON and refuses a longer
// message, which it would otherwise turn into an attachment, and a file.
func ntfyFake(auth string) fakeAnswer {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		if r.Header.Get("Filename") != "" || r.URL.Query().Get("filename") != "" {
			ntfyError(w, 400, 40014, "invalid request: attachments not allowed")
			return
		}
		if r.Method != "POST" && r.Method != "PUT" || r.URL.Path != "/" {
			ntfyError(w, 404, 40401, "page not found")
			return
		}
		if auth != "" && r.Header.Get("Authorization") != auth {
			ntfyError(w, 401, 40101, "unauthorized")
			return
		}
		if len(body) > 8192 {
			ntfyError(w, 413, 41303, "JSON body too large")
			return
		}
		var m ntfyMessage
		if err := json.Unmarshal(body, &m); err != nil {
			ntfyError(w, 400, 40024, "invalid request: request body must be valid JSON")
			return
		}
		if !ntfyTopicRE.MatchString(m.Topic) {
			ntfyError(w, 400, 40009, "invalid request: topic invalid")
			return
		}
		if len(m.Message) > 4096 || !utf8.ValidString(m.Message) {
			ntfyError(w, 400, 40014, "invalid request: attachments not allowed")
			return
		}
		if m.Priority != nil && (*m.Priority < 1 || *m.Priority > 5) {
			ntfyError(w, 400, 40007, "invalid priority parameter")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"hwQ2YpKdmg","time":1732550000,"expires":1732593200,"event":"message","topic":%q,"message":"..."}`+"\n", m.Topic)
	}
}

func ntfySettings(srv *fakeServer, extra map[string]any) map[string]any {
	s := map[string]any{"server": srv.URL, "topic": "f2b_reports-1"}
	for k, v := range extra {
		s[k] = v
	}
	return s
}

func ntfyDecode(t *testing.T, body []byte) ntfyMessage {
	t.Helper()
	var m ntfyMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	return m
}

func TestNtfySettings(t *testing.T) {
	bad := []settingsCase{
		{map[string]any{}, "key topic"},
		{map[string]any{"topic": "a/b"}, "key topic"},
		{map[string]any{"topic": strings.Repeat("t", 65)}, "key topic"},
		{map[string]any{"topic": "t", "server": "ntfy.sh"}, "key server"},
		{map[string]any{"topic": "t", "priority": "urgentest"}, "key priority"},
		{map[string]any{"topic": "t", "priority": 7}, "key priority"},
		{map[string]any{"topic": "t", "tags": []any{"ok", "a,b"}}, "key tags"},
		{map[string]any{"topic": "t", "title": "a\r\nX-Evil: 1"}, "key title"},
		{map[string]any{"topic": "t", "token": ntfyToken, "username": "u", "password": ntfyPassword}, "both set"},
		{map[string]any{"topic": "t", "password": ntfyPassword}, "give both"},
		{map[string]any{"topic": "t", "token": ntfyToken + " x"}, "key token"},
		{map[string]any{"topic": "t", "token": ntfyToken + "\u00a0x"}, "key token"}, // a pasted no-break space
		{map[string]any{"topic": "t", "token": ntfyToken + "\u0085"}, "key token"},  // a C1 line break
		{map[string]any{"topic": "t", "markdown": "sometimes"}, "markdown"},
		{map[string]any{"topic": "t", "email": "a@example.org"}, "email"},
	}
	refuseSettings(t, "phone", "ntfy", bad, ntfyToken, ntfyPassword)
	ch, err := channels.New("phone", "ntfy", map[string]any{"topic": "t"})
	if err != nil || ch.Formats()[0] != channels.Text || ch.Limit() != 4096 {
		t.Errorf("defaults: %v, %v", ch, err)
	}
}

func TestNtfyRequest(t *testing.T) {
	srv := newFakeServer(t, ntfyFake("Bearer "+ntfyToken))
	ch := newTestChannel(t, "ntfy", ntfySettings(srv, map[string]any{"token": ntfyToken, "priority": "high", "tags": []any{"warning", "fail2ban"}}))
	m := renderReport(t, ch, config.Channel{}, sampleDigest())
	if err := sendOnce(testCtx(t), ch, m); err != nil {
		t.Fatal(err)
	}
	r := srv.lastAt(t, "/")
	if r.Method != "POST" || r.Path != "/" || r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("request %s %s with Content-Type %q", r.Method, r.Path, r.Header.Get("Content-Type"))
	}
	for _, h := range []string{"Title", "X-Title", "Priority", "Tags", "Markdown"} {
		if r.Header.Get(h) != "" {
			t.Errorf("header %s is set: the JSON body carries everything", h)
		}
	}
	msg := ntfyDecode(t, r.Body)
	if msg.Topic != "f2b_reports-1" || msg.Title != m.Subject || msg.Message != m.Bodies[channels.Text] ||
		msg.Priority == nil || *msg.Priority != 4 || strings.Join(msg.Tags, ",") != "warning,fail2ban" || msg.Markdown {
		t.Errorf("message %+v", msg)
	}
	if n := utf8.RuneCountInString(msg.Message); n > 4096 {
		t.Errorf("the report is %d characters, over ntfy's 4,096", n)
	}
	if !strings.Contains(msg.Message, "\n      from:   AS64499 Test-Net Telecom (demo data) · BR Brazil · returning, 2\n              reports since Nov 18\n") {
		t.Errorf("the first offender's row does not say where it comes from and that it is back")
	}
	alone := renderReport(t, ch, config.Channel{}, offenderAlone(t, sampleDigest(), "192.0.2.9"))
	if !strings.Contains(alone.Bodies[channels.Text], "\n      users:  <script>alert(1)</script>\n") {
		t.Errorf("the plain-text report does not show the user name as it is:\n%s", alone.Bodies[channels.Text])
	}
	checkGolden(t, "ntfy", "sample", indentJSON(t, r.Body))

	// A fixed title, Basic authentication, and priorities by number.
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("phil:"+ntfyPassword))
	srv.setAnswer(ntfyFake(basic))
	ch = newTestChannel(t, "ntfy", ntfySettings(srv, map[string]any{"username": "phil", "password": ntfyPassword, "title": "Bans", "priority": 2}))
	if err := ch.Send(testCtx(t), "subject", "body"); err != nil {
		t.Fatal(err)
	}
	if msg := ntfyDecode(t, srv.lastAt(t, "/").Body); msg.Title != "Bans" || *msg.Priority != 2 || msg.Tags != nil {
		t.Errorf("message %+v", msg)
	}
}

func TestNtfyMarkdown(t *testing.T) {
	srv := newFakeServer(t, ntfyFake(""))
	ch := newTestChannel(t, "ntfy", ntfySettings(srv, map[string]any{"markdown": true}))
	if f := ch.Formats(); len(f) != 1 || f[0] != channels.Markdown {
		t.Fatalf("formats %v, want markdown", f)
	}
	esc := dialectEscaper(t, channels.Markdown)
	for i, s := range hostile.Corpus() {
		m := renderReport(t, ch, noAttachments, hostileDigest(i))
		if err := sendOnce(testCtx(t), ch, m); err != nil {
			t.Fatalf("corpus entry %d %q: %v", i, s, err)
		}
		msg := ntfyDecode(t, srv.lastAt(t, "/").Body)
		if !msg.Markdown || msg.Message != m.Bodies[channels.Markdown] {
			t.Fatalf("corpus entry %d: markdown %v, message is not the report", i, msg.Markdown)
		}
		if user := esc(report.Neutralise(s)); len(user) < 200 && !strings.Contains(msg.Message, "users: "+user) {
			t.Errorf("corpus entry %d %q: the user name is not escaped as %q", i, s, user)
		}
	}
}

func TestNtfyHostileCorpus(t *testing.T) {
	srv := newFakeServer(t, ntfyFake(""))
	ch := newTestChannel(t, "ntfy", ntfySettings(srv, nil))
	for i, s := range hostile.Corpus() {
		m := renderReport(t, ch, noAttachments, hostileDigest(i))
		if err := sendOnce(testCtx(t), ch, m); err != nil {
			t.Fatalf("corpus entry %d %q: %v", i, s, err)
		}
		msg := ntfyDecode(t, srv.lastAt(t, "/").Body)
		if strings.ContainsFunc(msg.Message, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' }) {
			t.Errorf("corpus entry %d %q: the message holds a control character", i, s)
		}
		if user := report.Neutralise(s); len(user) < 1000 && !strings.Contains(msg.Message, "users:  "+user) {
			t.Errorf("corpus entry %d %q: the user name is not shown as it is", i, s)
		}
	}
	// The title travels in the JSON body: no line break becomes a header.
	if err := ch.Send(testCtx(t), "Bans\r\nX-Evil: 1\r\n\r\n<b>", "body"); err != nil {
		t.Fatal(err)
	}
	r := srv.lastAt(t, "/")
	if r.Header.Get("X-Evil") != "" || ntfyDecode(t, r.Body).Title != "Bans\r\nX-Evil: 1\r\n\r\n<b>" {
		t.Errorf("the title was not kept in the body: %q, headers %v", r.Body, r.Header)
	}
}

func TestNtfyErrors(t *testing.T) {
	srv := newFakeServer(t, nil)
	ch := newTestChannel(t, "ntfy", ntfySettings(srv, map[string]any{"token": ntfyToken}))
	send := func(ctx context.Context) error { return ch.Send(ctx, "subject", "report") }
	answer := func(status, code int, msg string) fakeAnswer {
		return func(w http.ResponseWriter, _ *http.Request, _ []byte) { ntfyError(w, status, code, msg) }
	}
	cases := []errCase{
		{name: "published", answer: ntfyFake("Bearer " + ntfyToken), class: "ok"},
		{name: "unauthorized", answer: answer(401, 40101, "unauthorized"), class: "permanent", want: "HTTP 401 Unauthorized: unauthorized (code 40101); see https://ntfy.sh/docs/publish/"},
		{name: "forbidden", answer: answer(403, 40301, "forbidden"), class: "permanent", want: "forbidden (code 40301)"},
		{name: "topic invalid", answer: answer(400, 40009, "invalid request: topic invalid"), class: "permanent", want: "topic invalid"},
		{name: "JSON body too large", answer: answer(413, 41303, "JSON body too large"), class: "permanent", want: "HTTP 413"},
		{name: "echoing the token", answer: answer(400, 40023, "invalid request: token "+ntfyToken), class: "permanent", want: "[redacted]"},
		{name: "too many requests", answer: answer(429, 42901, "limit reached: too many requests, please be nice"), class: "retry-after", after: 0, want: "42901"},
		{name: "429 with Retry-After from a proxy", answer: fakeReply(429, map[string]string{"Retry-After": "9"}, ""), class: "retry-after", after: 9 * time.Second, want: "HTTP 429"},
		{name: "internal error", answer: answer(500, 50001, "internal server error"), class: "retry", want: "HTTP 500"},
		{name: "bad gateway", answer: fakeReply(502, nil, "<html>502</html>"), class: "retry", want: "HTTP 502"},
	}
	runErrorCases(t, srv, send, []string{ntfyToken}, append(cases, transportCases()...))
}

func TestNtfyFitsLargeReport(t *testing.T) {
	srv := newFakeServer(t, ntfyFake(""))
	ch := newTestChannel(t, "ntfy", ntfySettings(srv, nil))
	m := renderReport(t, ch, config.Channel{}, big5000())
	if err := sendOnce(testCtx(t), ch, m); err != nil {
		t.Fatal(err)
	}
	r := srv.lastAt(t, "/")
	msg := ntfyDecode(t, r.Body)
	if len(msg.Message) > 4096 || len(r.Body) > 8192 {
		t.Errorf("message of %d bytes in a body of %d", len(msg.Message), len(r.Body))
	}
	for _, want := range []string{"Bans             5000", "offenders were left out"} {
		if !strings.Contains(msg.Message, want) {
			t.Errorf("the cut report lacks %q:\n%s", want, msg.Message)
		}
	}
}

// A report made mostly of quotes and backslashes doubles in JSON: it is cut
// so that the body stays within the 8192 bytes ntfy reads.
func TestNtfyFitsJSONBody(t *testing.T) {
	srv := newFakeServer(t, ntfyFake(""))
	ch := newTestChannel(t, "ntfy", ntfySettings(srv, nil))
	tmpl := filepath.Join(t.TempDir(), "quotes.text.tmpl")
	os.WriteFile(tmpl, []byte(`{{.Totals.Bans}}{{range .Offenders}}{{range .Matches}}{{.}}{{end}}{{end}}`), 0o644)
	b := report.NewBuilder(report.Options{Host: "web1.example.org", Generated: digestEnd})
	for i := range 200 {
		b.Add(&buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionBan, Jail: "sshd", IP: fmt.Sprintf("10.0.%d.%d", i/256, i%256),
			Time: float64(digestEnd.Unix() - int64(i)), At: digestEnd.Unix(), Matches: []string{strings.Repeat(`"`, 31)}})
	}
	m := renderReport(t, ch, config.Channel{Templates: map[string]string{"text": tmpl}}, b.Digest())
	if err := sendOnce(testCtx(t), ch, m); err != nil {
		t.Fatal(err)
	}
	r := srv.lastAt(t, "/")
	if msg := ntfyDecode(t, r.Body); len(r.Body) > 8192 || !strings.HasPrefix(msg.Message, "200") {
		t.Errorf("body of %d bytes, message %.20q", len(r.Body), msg.Message)
	}
}

// ntfyUpload is one attachment an ntfy fake received.
type ntfyUpload struct {
	Method, Topic, Auth, Type string
	Query                     url.Values
	Body                      []byte
}

// ntfyFiles answers as an ntfy server with attachments enabled does: a
// publish with a filename parameter (header or query) to /TOPIC takes the
// body as the file; anything else is a message, as ntfyFake answers it.
// files, if set, answers the uploads instead, with the number of the
// upload (1 for the first).
type ntfyFiles struct {
	auth  string
	files func(n int) fakeAnswer
	mu    sync.Mutex
	got   []ntfyUpload
}

func (f *ntfyFiles) answer(w http.ResponseWriter, r *http.Request, body []byte) {
	filename := cmp.Or(r.Header.Get("Filename"), r.URL.Query().Get("filename"))
	if filename == "" {
		ntfyFake(f.auth)(w, r, body)
		return
	}
	topic := strings.TrimPrefix(r.URL.Path, "/")
	f.mu.Lock()
	f.got = append(f.got, ntfyUpload{Method: r.Method, Topic: topic, Auth: r.Header.Get("Authorization"), Type: r.Header.Get("Content-Type"), Query: r.URL.Query(), Body: body})
	n := len(f.got)
	f.mu.Unlock()
	if f.files != nil {
		if a := f.files(n); a != nil {
			a(w, r, body)
			return
		}
	}
	switch {
	case r.Method != "PUT" && r.Method != "POST" || !ntfyTopicRE.MatchString(topic):
		ntfyError(w, 404, 40401, "page not found")
	case f.auth != "" && r.Header.Get("Authorization") != f.auth:
		ntfyError(w, 401, 40101, "unauthorized")
	case len(body) > 15<<20:
		ntfyError(w, 413, 41301, "attachment too large, or bandwidth limit reached")
	default:
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id":"aT7q2kZx","time":1732550001,"event":"message","topic":%q,"message":%q,"attachment":{"name":%q,"size":%d,"url":"https://ntfy.example/file/aT7q2kZx"}}`+"\n",
			topic, r.URL.Query().Get("message"), filename, len(body))
	}
}

func (f *ntfyFiles) uploads() []ntfyUpload {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]ntfyUpload(nil), f.got...)
}

// deliverFast delivers m as a flush does, with three attempts of timeout
// each and 1ms between them.
func deliverFast(t *testing.T, ch channels.Channel, m channels.Message, timeout time.Duration, secrets ...string) channels.Verdict {
	t.Helper()
	return channels.Deliver(testCtx(t), channels.Job{Channel: ch, Message: m, Attempts: 3, Timeout: timeout,
		Backoff: func(int) time.Duration { return time.Millisecond }, Redactor: channels.NewRedactor(secrets)})
}

// TestNtfyAttachments: after the report, the chart and the full list are
// each published to the topic as a file, with the caption as the message,
// quietly, with the channel's tags and authentication.
func TestNtfyAttachments(t *testing.T) {
	f := &ntfyFiles{auth: "Bearer " + ntfyToken}
	srv := newFakeServer(t, f.answer)
	ch := newTestChannel(t, "ntfy", ntfySettings(srv, map[string]any{"token": ntfyToken, "priority": "high", "tags": []any{"warning", "fail2ban"}}))
	m := renderReport(t, ch, config.Channel{}, sampleDigest())
	if len(m.Attachments) != 2 || m.Attachments[0].Name != "bans.png" || m.Attachments[1].Name != "offenders.csv" {
		t.Fatalf("attachments %v, want the chart and the full list (the sample is cut to 4096 bytes)", m.Attachments)
	}
	if !strings.Contains(m.Bodies[channels.Text], "offenders.csv") {
		t.Errorf("the cut report does not name the attached list")
	}
	v := deliverFast(t, ch, m, 5*time.Second, ntfyToken)
	if v.Err != nil || len(v.Warnings) != 0 {
		t.Fatalf("verdict %v, warnings %q", v.Err, v.Warnings)
	}
	if reqs := srv.requests(); len(reqs) != 3 || reqs[0].Path != "/" {
		t.Fatalf("%d requests, want the report (POST /) and then two files", len(reqs))
	}
	ups := f.uploads()
	for i, a := range m.Attachments {
		u := ups[i]
		if u.Method != "PUT" || u.Topic != "f2b_reports-1" || u.Auth != "Bearer "+ntfyToken || u.Type != a.Type {
			t.Errorf("%s: %s /%s, Authorization %q, Content-Type %q", a.Name, u.Method, u.Topic, u.Auth, u.Type)
		}
		if !bytes.Equal(u.Body, a.Data) {
			t.Errorf("%s: the body is not the file (%d bytes, want %d)", a.Name, len(u.Body), len(a.Data))
		}
		q := u.Query
		if q.Get("filename") != a.Name || q.Get("message") != a.Caption || q.Get("priority") != "2" || q.Get("tags") != "warning,fail2ban" || q.Has("title") {
			t.Errorf("%s: parameters %v", a.Name, q)
		}
	}
	if !bytes.HasPrefix(ups[0].Body, []byte("\x89PNG\r\n\x1a\n")) || !bytes.HasPrefix(ups[1].Body, []byte("ip,bans,")) {
		t.Errorf("the files are not a PNG and the CSV")
	}
	if !strings.Contains(ups[0].Query.Get("message"), "–") {
		t.Errorf("the caption %q lost its UTF-8", ups[0].Query.Get("message"))
	}

	// A fixed title goes with the files; a priority below low stays.
	ch = newTestChannel(t, "ntfy", ntfySettings(srv, map[string]any{"token": ntfyToken, "priority": "min", "title": "Bans"}))
	if err := ch.(channels.AttachmentSender).SendAttachment(testCtx(t), m.Attachments[0]); err != nil {
		t.Fatal(err)
	}
	if q := f.uploads()[2].Query; q.Get("title") != "Bans" || q.Get("priority") != "1" || q.Has("tags") {
		t.Errorf("parameters %v", q)
	}
	// attachments: [] sends none.
	if m := renderReport(t, ch, noAttachments, sampleDigest()); len(m.Attachments) != 0 {
		t.Errorf("attachments: [] still gives %d", len(m.Attachments))
	}
}

// TestNtfyAttachmentFailures: a file that cannot be published is a warning
// of the delivered report: at once when the server takes no attachments
// (with what to do), after the attempts when it is busy or down.
func TestNtfyAttachmentFailures(t *testing.T) {
	answer := func(status, code int, msg string) fakeAnswer {
		return func(w http.ResponseWriter, _ *http.Request, _ []byte) { ntfyError(w, status, code, msg) }
	}
	disabled := answer(400, 40014, "invalid request: attachments not allowed")
	busy := answer(429, 42901, "limit reached: too many requests, please be nice")
	// One rendering serves every case: the server's URL is not in it.
	m := renderReport(t, newTestChannel(t, "ntfy", map[string]any{"topic": "f2b_reports-1"}), config.Channel{}, sampleDigest())
	for _, tt := range []struct {
		name    string
		files   func(n int) fakeAnswer
		timeout time.Duration
		uploads int
		want    []string // in the warnings, one per file
	}{
		{name: "published", uploads: 2},
		{name: "attachments disabled", files: func(int) fakeAnswer { return disabled }, uploads: 2,
			want: []string{"HTTP 400 Bad Request: invalid request: attachments not allowed (code 40014)", "set attachments: [] on this channel"}},
		{name: "too large", files: func(int) fakeAnswer { return answer(413, 41301, "attachment too large, or bandwidth limit reached") }, uploads: 2,
			want: []string{"HTTP 413", "attachment too large"}},
		{name: "a 429, then published", files: func(n int) fakeAnswer {
			if n == 1 {
				return busy
			}
			return nil
		}, uploads: 3},
		{name: "down", files: func(int) fakeAnswer { return answer(500, 50001, "internal server error") }, uploads: 6, want: []string{"HTTP 500"}},
		{name: "hang", files: func(int) fakeAnswer { return fakeHang }, timeout: 300 * time.Millisecond, uploads: 6, want: []string{"timed out after 300ms"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &ntfyFiles{auth: "Bearer " + ntfyToken, files: tt.files}
			srv := newFakeServer(t, f.answer)
			ch := newTestChannel(t, "ntfy", ntfySettings(srv, map[string]any{"token": ntfyToken}))
			v := deliverFast(t, ch, m, cmp.Or(tt.timeout, 5*time.Second), ntfyToken)
			if v.Err != nil {
				t.Fatalf("verdict %v, want the report delivered", v.Err)
			}
			if n := len(f.uploads()); n != tt.uploads {
				t.Errorf("%d uploads, want %d", n, tt.uploads)
			}
			if tt.want == nil {
				if len(v.Warnings) != 0 {
					t.Errorf("warnings %q", v.Warnings)
				}
				return
			}
			if len(v.Warnings) != 2 {
				t.Fatalf("warnings %q, want one per file", v.Warnings)
			}
			for i, w := range v.Warnings {
				if strings.Contains(w, "\n") || strings.Contains(w, ntfyToken) ||
					!strings.Contains(w, `channel "test-ntfy": the report was delivered, but not the attached `+m.Attachments[i].Name) {
					t.Errorf("warning %q: want one redacted line naming the channel and the file", w)
				}
				for _, s := range tt.want {
					if !strings.Contains(w, s) {
						t.Errorf("warning %q does not say %q", w, s)
					}
				}
			}
		})
	}
}
