package channels_test

import (
	"context"
	"encoding/json"
	"fmt"
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
}

// discordFake answers as Discord executes a webhook with ?wait=true: the
// message, or the errors Discord gives for a content too long or empty.
func discordFake(w http.ResponseWriter, r *http.Request, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	var m discordMessage
	if err := json.Unmarshal(body, &m); err != nil {
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
	json.NewEncoder(w).Encode(map[string]any{"id": "1310000000000000001", "type": 0, "content": m.Content, "webhook_id": "123456789012345678"})
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
	r := srv.last(t)
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
		"\n  from: AS64499 Test-Net Telecom (demo data) · BR Brazil · returning, 2 reports since Nov 18\n"} {
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
	runErrorCases(t, srv, send, discordSecrets(srv), append(cases, transportCases()...))
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
		msg := discordDecode(t, srv.last(t).Body)
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
	if got := discordDecode(t, srv.last(t).Body).Content; got != `\@everyone \<\@&123\> \[x\](https\://evil.example/)` {
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
	content := discordDecode(t, srv.last(t).Body).Content
	for _, want := range []string{"**5000** bans", "**5000** addresses", "more offenders, left out to fit Discord's 2000 characters"} {
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
	reqs := srv.requests()
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
