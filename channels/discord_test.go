package channels_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/internal/hostile"
	"github.com/f2b-notify/f2b-notify/report"
)

const discordPath = "/api/webhooks/123456789012345678/discordSecretToken-0123456789abcdef"

// discordMessage is what Discord reads of an executed webhook.
type discordMessage struct {
	Content         string `json:"content"`
	Username        string `json:"username"`
	Flags           int    `json:"flags"`
	AllowedMentions *struct {
		Parse *[]string `json:"parse"`
	} `json:"allowed_mentions"`
	Attachments []struct {
		ID          json.Number `json:"id"`
		Filename    string      `json:"filename"`
		Description string      `json:"description"`
	} `json:"attachments"`
}

// discordFile is a file uploaded with a message.
type discordFile struct {
	Field, Filename, ContentType string
	Data                         []byte
}

// discordMaxFile is the most a file may hold in a server without boosts.
const discordMaxFile = 10 << 20

// discordForm reads a webhook execution that uploads files, as Discord
// documents it: multipart/form-data with a boundary; the message's JSON in
// payload_json (Content-Type application/json); each file in a part
// files[n] with a filename, listed in the JSON's attachments with id n and
// the same filename; every part named once.
func discordForm(contentType string, body []byte) (discordMessage, []discordFile, error) {
	var m discordMessage
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return m, nil, fmt.Errorf("Content-Type %q, want multipart/form-data with a boundary", contentType)
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	var files []discordFile
	seen := map[string]bool{}
	payload := false
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return m, nil, fmt.Errorf("multipart body: %v", err)
		}
		name := p.FormName()
		if name == "" || seen[name] {
			return m, nil, fmt.Errorf("part %q: no form-data name, or a name sent twice", p.Header.Get("Content-Disposition"))
		}
		seen[name] = true
		data, err := io.ReadAll(p)
		if err != nil {
			return m, nil, err
		}
		switch {
		case name == "payload_json":
			if ct := p.Header.Get("Content-Type"); ct != "application/json" {
				return m, nil, fmt.Errorf("payload_json has Content-Type %q, want application/json", ct)
			}
			if err := json.Unmarshal(data, &m); err != nil {
				return m, nil, fmt.Errorf("payload_json is not JSON: %v", err)
			}
			payload = true
		case regexp.MustCompile(`^files\[[0-9]+\]$`).MatchString(name):
			if p.FileName() == "" {
				return m, nil, fmt.Errorf("%s has no filename", name)
			}
			files = append(files, discordFile{Field: name, Filename: p.FileName(), ContentType: p.Header.Get("Content-Type"), Data: data})
		default:
			return m, nil, fmt.Errorf("part %s is not a parameter of Execute Webhook as f2b-notify sends it", name)
		}
	}
	if !payload {
		return m, nil, errors.New("no payload_json")
	}
	if len(m.Attachments) != len(files) {
		return m, nil, fmt.Errorf("%d files, %d attachments in payload_json", len(files), len(m.Attachments))
	}
	for i, f := range files {
		if a := m.Attachments[i]; "files["+a.ID.String()+"]" != f.Field || a.Filename != f.Filename {
			return m, nil, fmt.Errorf("attachment %s %q does not describe %s %q", a.ID, a.Filename, f.Field, f.Filename)
		}
	}
	return m, files, nil
}

// discordFake answers as Discord executes a webhook with ?wait=true: the
// message, or the errors Discord gives for a content too long or empty, a
// form it cannot read, or a file too large.
func discordFake(w http.ResponseWriter, r *http.Request, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	var m discordMessage
	var files []discordFile
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		var err error
		if m, files, err = discordForm(r.Header.Get("Content-Type"), body); err != nil {
			w.WriteHeader(400)
			fmt.Fprintf(w, `{"message": "Invalid Form Body", "code": 50035, "errors": %q}`, err.Error())
			return
		}
		for _, f := range files {
			if len(f.Data) > discordMaxFile {
				w.WriteHeader(413)
				fmt.Fprint(w, `{"message": "Request entity too large", "code": 40005}`)
				return
			}
		}
	} else if err := json.Unmarshal(body, &m); err != nil {
		w.WriteHeader(400)
		fmt.Fprint(w, `{"message": "Cannot send an empty message", "code": 50006}`)
		return
	}
	if n := utf8.RuneCountInString(m.Content); n > 2000 {
		w.WriteHeader(400)
		fmt.Fprint(w, `{"message": "Invalid Form Body", "code": 50035, "errors": {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}}}`)
		return
	}
	if r.URL.Query().Get("wait") != "true" {
		w.WriteHeader(204)
		return
	}
	var attachments []map[string]any
	for i, f := range files {
		attachments = append(attachments, map[string]any{"id": fmt.Sprintf("13100000000000000%02d", i), "filename": f.Filename, "size": len(f.Data), "content_type": f.ContentType})
	}
	json.NewEncoder(w).Encode(map[string]any{"id": "1310000000000000001", "type": 0, "content": m.Content, "webhook_id": "123456789012345678", "attachments": attachments})
}

// discordReports are the requests that posted report messages (JSON, not
// files), in order.
func discordReports(srv *fakeServer) []fakeRequest {
	var out []fakeRequest
	for _, r := range srv.requests() {
		if r.Header.Get("Content-Type") == "application/json" {
			out = append(out, r)
		}
	}
	return out
}

// discordLastReport is the last request that posted a report message.
func discordLastReport(t *testing.T, srv *fakeServer) fakeRequest {
	t.Helper()
	reqs := discordReports(srv)
	if len(reqs) == 0 {
		t.Fatal("Discord received no report")
	}
	return reqs[len(reqs)-1]
}

func discordSettings(srv *fakeServer, extra map[string]any) map[string]any {
	s := map[string]any{"webhook_url": srv.URL + discordPath}
	for k, v := range extra {
		s[k] = v
	}
	return s
}

func discordSecrets(srv *fakeServer) []string {
	return []string{srv.URL + discordPath, discordPath, "discordSecretToken-0123456789abcdef"}
}

func discordDecode(t *testing.T, body []byte) discordMessage {
	t.Helper()
	var m discordMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if m.AllowedMentions == nil || m.AllowedMentions.Parse == nil || len(*m.AllowedMentions.Parse) != 0 {
		t.Errorf("allowed_mentions is not {\"parse\": []}: %s", body)
	}
	if m.Flags != 4 {
		t.Errorf("flags %d, want 4 (SUPPRESS_EMBEDS)", m.Flags)
	}
	return m
}

func TestDiscordSettings(t *testing.T) {
	hook := "https://discord.com" + discordPath
	bad := []settingsCase{
		{map[string]any{}, "key webhook_url: missing"},
		{map[string]any{"webhook_url": "discord.com" + discordPath}, "key webhook_url: not an http"},
		{map[string]any{"webhook_url": hook, "username": strings.Repeat("n", 81)}, "key username"},
		{map[string]any{"webhook_url": hook, "username": "a\nb"}, "key username"},
		{map[string]any{"webhook_url": hook, "split": "maybe"}, "split"},
		{map[string]any{"webhook_url": hook, "split": true, "max_messages": 0}, "key max_messages: want 1 to 100"},
		{map[string]any{"webhook_url": hook, "split": true, "max_messages": 101}, "key max_messages: want 1 to 100"},
		{map[string]any{"webhook_url": hook, "avatar": "x"}, "avatar"},
	}
	refuseSettings(t, "dc", "discord", bad, hook, "discordSecretToken-0123456789abcdef")
}

func TestDiscordRequest(t *testing.T) {
	srv := newFakeServer(t, discordFake)
	ch := newTestChannel(t, "discord", discordSettings(srv, map[string]any{"username": "fail2ban"}))
	m := renderReport(t, ch, config.Channel{}, sampleDigest())
	if err := sendOnce(testCtx(t), ch, m); err != nil {
		t.Fatal(err)
	}
	r := discordLastReport(t, srv)
	if r.Method != "POST" || r.Path != discordPath || r.Query.Get("wait") != "true" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %s?%s with Content-Type %q", r.Method, r.Path, r.Query.Encode(), r.Header.Get("Content-Type"))
	}
	msg := discordDecode(t, r.Body)
	if msg.Username != "fail2ban" {
		t.Errorf("username %q", msg.Username)
	}
	if msg.Content != m.Bodies[channels.DiscordFormat] {
		t.Errorf("content is not the report")
	}
	for _, want := range []string{"**Fail2Ban report for web1.example.org**", "**15** bans", "**Jails**", "- sshd: 10 bans", "- **203.0.113.45** (recidive, sshd)",
		"\n  from: AS64499 Test-Net Telecom (demo data) · BR Brazil · returning, 2 reports since Nov 18\n", "; all listed in the attached offenders.csv"} {
		if !strings.Contains(msg.Content, want) {
			t.Errorf("the report lacks %q:\n%s", want, msg.Content)
		}
	}
	alone := renderReport(t, ch, config.Channel{}, offenderAlone(t, sampleDigest(), "192.0.2.9"))
	if want := `users: \<script\>alert(1)\</script\>`; !strings.Contains(alone.Bodies[channels.DiscordFormat], want) {
		t.Errorf("the report lacks %q:\n%s", want, alone.Bodies[channels.DiscordFormat])
	}
	checkGolden(t, "discord", "sample", []byte(msg.Content))
}

func TestDiscordErrors(t *testing.T) {
	srv := newFakeServer(t, nil)
	ch := newTestChannel(t, "discord", discordSettings(srv, nil))
	send := func(ctx context.Context) error { return ch.Send(ctx, "subject", "report") }
	js := func(status int, header map[string]string, body string) fakeAnswer {
		return fakeReply(status, map[string]string{"Content-Type": "application/json"}, body)
	}
	cases := []errCase{
		{name: "200 with the message", answer: js(200, nil, `{"id": "1", "content": "report"}`), class: "ok"},
		{name: "204", answer: fakeReply(204, nil, ""), class: "ok"},
		{name: "content too long", answer: js(400, nil, `{"message": "Invalid Form Body", "code": 50035, "errors": {"content": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}}}`),
			class: "permanent", want: "HTTP 400 Bad Request: Invalid Form Body (code 50035): {\"content\""},
		{name: "invalid token", answer: js(401, nil, `{"message": "Invalid Webhook Token", "code": 50027}`), class: "permanent", want: "Invalid Webhook Token (code 50027)"},
		{name: "missing permissions", answer: js(403, nil, `{"message": "Missing Permissions", "code": 50013}`), class: "permanent", want: "HTTP 403"},
		{name: "unknown webhook", answer: js(404, nil, `{"message": "Unknown Webhook", "code": 10015}`), class: "permanent", want: "HTTP 404 Not Found: Unknown Webhook (code 10015)"},
		{name: "an answer echoing the token", answer: js(404, nil, `{"message": "Unknown Webhook discordSecretToken-0123456789abcdef", "code": 10015}`), class: "permanent", want: "[redacted]"},
		{name: "413", answer: fakeReply(413, nil, "request entity too large"), class: "permanent", want: "HTTP 413"},
		{name: "rate limited", answer: js(429, map[string]string{"Retry-After": "2"}, `{"message": "You are being rate limited.", "retry_after": 1.5, "global": false}`),
			class: "retry-after", after: 1500 * time.Millisecond, want: "You are being rate limited."},
		{name: "rate limited, header only", answer: fakeReply(429, map[string]string{"Retry-After": "3"}, ""), class: "retry-after", after: 3 * time.Second, want: "HTTP 429"},
		{name: "500", answer: js(500, nil, `{"message": "500: Internal Server Error", "code": 0}`), class: "retry", want: "HTTP 500"},
		{name: "502 from the edge", answer: fakeReply(502, nil, "<html>bad gateway</html>"), class: "retry", want: "HTTP 502"},
	}
	cases = append(cases, transportCases()...)
	// A file is judged as the report is.
	chart := channels.Attachment{Kind: channels.Chart, Name: "bans.png", Type: "image/png", Data: []byte("\x89PNG"), Caption: "Bans per hour"}
	for _, c := range []struct {
		name string
		send func(context.Context) error
	}{
		{"report", send},
		{"chart", func(ctx context.Context) error { return ch.(*channels.Discord).SendAttachment(ctx, chart) }},
	} {
		t.Run(c.name, func(t *testing.T) { runErrorCases(t, srv, c.send, discordSecrets(srv), cases) })
	}
}

// discordTemplateBold matches the bold spans the default template makes.
var discordTemplateBold = regexp.MustCompile(`^(Fail2Ban report for web1\.example\.org|\d+ bans? from \d+ address(?:es)?(?:, [-+±0-9]+% on the previous report \(\d+ bans?\)|, as many as the previous report|; the previous report had none)?|\d+|Jails|Offenders|Unbans|Notes|[0-9a-f.:]+)$`)

var discordBold = regexp.MustCompile(`\*\*((?:[^*\\]|\\.)*?)\*\*`)

// discordInert fails the test unless the content can do nothing but show
// text: outside the template's own bold spans, every character that could
// start markup in Discord has a backslash before it, and no http(s) URL is
// left.
func discordInert(t *testing.T, what, content string) {
	t.Helper()
	for _, b := range discordBold.FindAllStringSubmatch(content, -1) {
		if !discordTemplateBold.MatchString(b[1]) {
			t.Errorf("%s: bold text the template did not make: %q", what, b[0])
		}
	}
	rest := discordBold.ReplaceAllString(content, "$1")
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if c == '\\' && i+1 < len(rest) && strings.IndexByte("\\*_~`|<>[]#@:-+.()!", rest[i+1]) >= 0 {
			i++
			continue
		}
		if strings.IndexByte("*_~`|<>[]#@\\", c) >= 0 || (c == ':' && strings.HasPrefix(rest[i:], "://")) {
			t.Errorf("%s: %q is not escaped in %q", what, c, rest[max(0, i-20):min(len(rest), i+20)])
			return
		}
	}
}

func TestDiscordHostileCorpus(t *testing.T) {
	srv := newFakeServer(t, discordFake)
	ch := newTestChannel(t, "discord", discordSettings(srv, nil))
	esc := dialectEscaper(t, channels.DiscordFormat)
	for i, s := range hostile.Corpus() {
		d := hostileDigest(i)
		if err := sendOnce(testCtx(t), ch, renderReport(t, ch, config.Channel{}, d)); err != nil {
			t.Fatalf("corpus entry %d %q: %v", i, s, err)
		}
		msg := discordDecode(t, discordLastReport(t, srv).Body)
		what := fmt.Sprintf("corpus entry %d %q", i, s)
		discordInert(t, what, msg.Content)
		if user := esc(report.Neutralise(s)); len(user) < 100 && !strings.Contains(msg.Content, user) {
			t.Errorf("%s: the user name is not shown as %q:\n%s", what, user, msg.Content)
		}
	}
	// An empty report falls back on the subject, escaped too.
	if err := ch.Send(testCtx(t), "@everyone <@&123> [x](https://evil.example/)", ""); err != nil {
		t.Fatal(err)
	}
	if got := discordDecode(t, discordLastReport(t, srv).Body).Content; got != `\@everyone \<\@&123\> \[x\](https\://evil.example/)` {
		t.Errorf("content %q", got)
	}
}

func TestDiscordEscaper(t *testing.T) {
	esc := dialectEscaper(t, channels.DiscordFormat)
	unescape := regexp.MustCompile(`\\(.)`)
	for _, s := range hostile.Corpus() {
		n := report.Neutralise(s)
		e := esc(n)
		discordInert(t, fmt.Sprintf("%q escaped", s), e)
		if back := unescape.ReplaceAllString(e, "$1"); back != n {
			t.Errorf("%q escaped to %q, which does not read back (%q)", n, e, back)
		}
	}
	for in, want := range map[string]string{
		"- item": `\- item`, "1. one": `1\. one`, "12) x": `12\) x`, "1.2.3.4": "1.2.3.4", "a-b": "a-b",
		"2001:db8::1": "2001:db8::1", "@here": `\@here`, "-# small": `\-\# small`,
	} {
		if got := esc(in); got != want {
			t.Errorf("%q escaped to %q, want %q", in, got, want)
		}
	}
}

func TestDiscordCutsLargeReport(t *testing.T) {
	srv := newFakeServer(t, discordFake)
	ch := newTestChannel(t, "discord", discordSettings(srv, nil))
	m := renderReport(t, ch, config.Channel{}, big5000())
	if len(m.Pages) != 0 {
		t.Fatalf("split without asking: %d pages", len(m.Pages))
	}
	if err := sendOnce(testCtx(t), ch, m); err != nil {
		t.Fatal(err)
	}
	content := discordDecode(t, discordLastReport(t, srv).Body).Content
	for _, want := range []string{"**5000** bans", "**5000** addresses", "more offenders, left out to fit Discord's 2000 characters; all listed in the attached offenders.csv"} {
		if !strings.Contains(content, want) {
			t.Errorf("the cut report lacks %q:\n%s", want, content)
		}
	}
}

func TestDiscordSplitsLargeReport(t *testing.T) {
	srv := newFakeServer(t, discordFake)
	ch := newTestChannel(t, "discord", discordSettings(srv, map[string]any{"split": true}))
	m := renderReport(t, ch, config.Channel{}, bigDigest(300))
	if len(m.Pages) < 3 {
		t.Fatalf("%d pages, want several", len(m.Pages))
	}
	// Page 3 fails once: the next delivery, told that two pages are out,
	// posts from page 3 on, not again 1 and 2.
	calls := 0
	srv.setAnswer(func(w http.ResponseWriter, r *http.Request, body []byte) {
		calls++
		if calls == 3 {
			w.WriteHeader(502)
			return
		}
		discordFake(w, r, body)
	})
	v := channels.Deliver(testCtx(t), channels.Job{Channel: ch, Message: m})
	if class, _ := verdictOf(v.Err); class != "retry" || v.Sent != 2 || !strings.Contains(v.Err.Error(), fmt.Sprintf("message 3 of %d", len(m.Pages))) {
		t.Fatalf("error %v (%s), %d pages sent; want a temporary error naming message 3, after 2", v.Err, class, v.Sent)
	}
	if v := channels.Deliver(testCtx(t), channels.Job{Channel: ch, Message: m, From: v.Sent}); v.Err != nil || v.Sent != len(m.Pages) {
		t.Fatalf("resumed: %v, %d pages sent", v.Err, v.Sent)
	}
	// The attachments follow the last page, once.
	all := srv.requests()
	files := all[len(all)-len(m.Attachments):]
	if len(m.Attachments) == 0 || len(all) != len(m.Pages)+1+len(m.Attachments) {
		t.Fatalf("%d requests for %d pages, one failure and %d attachments", len(all), len(m.Pages), len(m.Attachments))
	}
	for i, r := range files {
		if _, got, err := discordForm(r.Header.Get("Content-Type"), r.Body); err != nil || len(got) != 1 || got[0].Filename != m.Attachments[i].Name {
			t.Errorf("request %d after the last page: %v, want %s", i+1, err, m.Attachments[i].Name)
		}
	}
	reqs := discordReports(srv)
	if len(reqs) != len(m.Pages)+1 {
		t.Fatalf("%d requests for %d pages and one failure", len(reqs), len(m.Pages))
	}
	for i, page := range m.Pages {
		r := reqs[i]
		if i >= 2 {
			r = reqs[i+1]
		}
		content := discordDecode(t, r.Body).Content
		if content != page {
			t.Errorf("request %d is not page %d", i, i+1)
		}
		if want := fmt.Sprintf("(part %d of %d)", i+1, len(m.Pages)); !strings.Contains(content, want) || !strings.Contains(content, "**300** bans") {
			t.Errorf("page %d lacks %q or the totals", i+1, want)
		}
	}
}

// TestDiscordSendsAttachments: the chart, then the list of every offender
// of a cut report, each a webhook message of its own after the report: a
// multipart/form-data upload of the file as files[0], described in
// payload_json, with the caption as the content, escaped, and mentions off.
func TestDiscordSendsAttachments(t *testing.T) {
	srv := newFakeServer(t, discordFake)
	ch := newTestChannel(t, "discord", discordSettings(srv, map[string]any{"username": "fail2ban"}))
	m := renderReport(t, ch, config.Channel{}, sampleDigest())
	if len(m.Attachments) != 2 || m.Attachments[0].Kind != channels.Chart || m.Attachments[1].Kind != channels.FullList {
		t.Fatalf("attachments %v, want the chart and the full list", m.Attachments)
	}
	v := channels.Deliver(testCtx(t), channels.Job{Channel: ch, Message: m})
	if v.Err != nil || len(v.Warnings) != 0 {
		t.Fatalf("verdict %v, warnings %q", v.Err, v.Warnings)
	}
	reqs := srv.requests()
	if len(reqs) != 3 || reqs[0].Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d requests, want the report, then the chart and the list", len(reqs))
	}
	unescape := regexp.MustCompile(`\\(.)`)
	for i, a := range m.Attachments {
		r := reqs[i+1]
		if r.Method != "POST" || r.Path != discordPath || r.Query.Get("wait") != "true" {
			t.Errorf("%s: request %s %s?%s", a.Name, r.Method, r.Path, r.Query.Encode())
		}
		msg, files, err := discordForm(r.Header.Get("Content-Type"), r.Body)
		if err != nil {
			t.Fatalf("%s: %v", a.Name, err)
		}
		if len(files) != 1 || files[0].Field != "files[0]" || files[0].Filename != a.Name || files[0].ContentType != a.Type || !bytes.Equal(files[0].Data, a.Data) {
			t.Fatalf("%s: files %v, want it as files[0] with its type and bytes", a.Name, files)
		}
		if msg.Attachments[0].Description != a.Caption {
			t.Errorf("%s: description %q, want the caption %q", a.Name, msg.Attachments[0].Description, a.Caption)
		}
		if msg.Username != "fail2ban" || msg.AllowedMentions == nil || msg.AllowedMentions.Parse == nil || len(*msg.AllowedMentions.Parse) != 0 {
			t.Errorf("%s: username %q, allowed_mentions %v", a.Name, msg.Username, msg.AllowedMentions)
		}
		discordInert(t, a.Name+" content", msg.Content)
		if got := unescape.ReplaceAllString(msg.Content, "$1"); got != a.Caption {
			t.Errorf("%s: content %q, want the caption %q", a.Name, msg.Content, a.Caption)
		}
	}
	if rows := strings.Count(string(m.Attachments[1].Data), "\n") - 1; rows != len(sampleDigest().Offenders) {
		t.Errorf("offenders.csv has %d rows, want every offender", rows)
	}
}

// TestDiscordAttachmentFailures: a file Discord refuses is a warning, the
// report delivered once and the next file still sent; rate limiting is
// waited out and retried; a file over 10 MiB is never sent.
func TestDiscordAttachmentFailures(t *testing.T) {
	srv := newFakeServer(t, discordFake)
	ch := newTestChannel(t, "discord", discordSettings(srv, nil))
	calls := 0
	srv.setAnswer(func(w http.ResponseWriter, r *http.Request, body []byte) {
		calls++
		switch calls {
		case 2: // the chart
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(413)
			fmt.Fprint(w, `{"message": "Request entity too large", "code": 40005}`)
		case 3: // the list, rate limited
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(429)
			fmt.Fprint(w, `{"message": "You are being rate limited.", "retry_after": 0.3, "global": false}`)
		default:
			discordFake(w, r, body)
		}
	})
	m := channels.Message{Bodies: map[channels.Format]string{channels.DiscordFormat: "report"}, Attachments: []channels.Attachment{
		{Kind: channels.Chart, Name: "bans.png", Type: "image/png", Data: []byte("\x89PNG"), Caption: "Bans per hour"},
		{Kind: channels.FullList, Name: "offenders.csv", Type: "text/csv; charset=utf-8", Data: []byte("ip\n"), Caption: "All 1 offender rows"},
	}}
	start := time.Now()
	v := channels.Deliver(testCtx(t), channels.Job{Channel: ch, Message: m, Attempts: 3, Backoff: func(int) time.Duration { return time.Millisecond },
		Redactor: channels.NewRedactor(discordSecrets(srv))})
	if v.Err != nil {
		t.Fatalf("verdict %v, want the report delivered", v.Err)
	}
	if calls != 4 || len(discordReports(srv)) != 1 {
		t.Errorf("%d requests, %d of them reports; want the report once, the chart once, the list twice", calls, len(discordReports(srv)))
	}
	if time.Since(start) < 300*time.Millisecond {
		t.Errorf("the list was retried before retry_after")
	}
	want := `channel "test-discord": the report was delivered, but not the attached bans.png: HTTP 413 Request Entity Too Large: Request entity too large (code 40005)`
	if len(v.Warnings) != 1 || v.Warnings[0] != want {
		t.Errorf("warnings %q, want [%q]", v.Warnings, want)
	}
	for _, w := range v.Warnings {
		noSecret(t, errors.New(w), discordSecrets(srv)...)
	}

	big := channels.Attachment{Kind: channels.FullList, Name: "offenders.csv", Data: make([]byte, discordMaxFile+1)}
	before := len(srv.requests())
	err := ch.(*channels.Discord).SendAttachment(testCtx(t), big)
	if class, _ := verdictOf(err); class != "permanent" || !strings.Contains(err.Error(), "offenders.csv is 10485761 bytes, over Discord's 10 MiB for a file") {
		t.Errorf("a file over 10 MiB: %v (%s)", err, class)
	}
	if len(srv.requests()) != before {
		t.Errorf("a file over 10 MiB was sent")
	}
}
