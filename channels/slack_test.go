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

const (
	slackHookPath = "/services/T0001/B0001/slackHookSecret0123456789"
	slackToken    = "xoxb-1234-5678-slackBotSecret0123456789"
)

// slackMessage is what Slack reads of a posted message.
type slackMessage struct {
	Channel string `json:"channel"`
	Text    string `json:"text"`
	Blocks  []struct {
		Type string `json:"type"`
		Text struct {
			Type     string `json:"type"`
			Text     string `json:"text"`
			Verbatim bool   `json:"verbatim"`
		} `json:"text"`
	} `json:"blocks"`
	UnfurlLinks *bool  `json:"unfurl_links"`
	UnfurlMedia *bool  `json:"unfurl_media"`
	Parse       string `json:"parse"`
	LinkNames   *bool  `json:"link_names"`
}

// sections returns the text of the section blocks, in order.
// holdsReport reports whether the sections, in order, are the report cut at
// paragraph breaks or, within a paragraph longer than a section, at line
// breaks.
func holdsReport(sections []string, report string) bool {
	var b strings.Builder
	rest := strings.Trim(report, "\n")
	for i, s := range sections {
		if i > 0 {
			sep := "\n"
			if strings.HasPrefix(rest, "\n\n") {
				sep = "\n\n"
			}
			if !strings.HasPrefix(rest, sep) {
				return false
			}
			b.WriteString(sep)
			rest = rest[len(sep):]
		}
		if !strings.HasPrefix(rest, s) {
			return false
		}
		b.WriteString(s)
		rest = rest[len(s):]
	}
	return rest == "" && b.Len() > 0
}

func (m slackMessage) sections() []string {
	var out []string
	for _, b := range m.Blocks {
		out = append(out, b.Text.Text)
	}
	return out
}

// slackCheck returns Slack's error for a message it would refuse, "" for
// one it takes: the limits of Block Kit and of the message text.
func slackCheck(body []byte) (slackMessage, string) {
	var m slackMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return m, "invalid_payload"
	}
	if utf8.RuneCountInString(m.Text) > 4000 {
		return m, "msg_too_long"
	}
	if len(m.Blocks) == 0 || len(m.Blocks) > 50 {
		return m, "invalid_blocks"
	}
	total := 0
	for _, b := range m.Blocks {
		n := utf8.RuneCountInString(b.Text.Text)
		if b.Type != "section" || b.Text.Type != "mrkdwn" || n < 1 || n > 3000 {
			return m, "invalid_blocks"
		}
		total += n
	}
	if total > 12000 {
		return m, "msg_blocks_too_long"
	}
	return m, ""
}

// slackWebhook answers as an incoming webhook: "ok", or 400 and the error.
func slackWebhook(w http.ResponseWriter, _ *http.Request, body []byte) {
	if _, problem := slackCheck(body); problem != "" {
		w.WriteHeader(400)
		fmt.Fprint(w, problem)
		return
	}
	fmt.Fprint(w, "ok")
}

// slackAPI answers as chat.postMessage: HTTP 200 and ok true or false.
func slackAPI(w http.ResponseWriter, r *http.Request, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if r.Header.Get("Authorization") != "Bearer "+slackToken {
		fmt.Fprint(w, `{"ok":false,"error":"invalid_auth"}`)
		return
	}
	if _, problem := slackCheck(body); problem != "" {
		fmt.Fprintf(w, `{"ok":false,"error":%q}`, problem)
		return
	}
	fmt.Fprint(w, `{"ok":true,"channel":"C0123456789","ts":"1732550000.000100"}`)
}

func slackHook(t *testing.T, srv *fakeServer) channels.Channel {
	return newTestChannel(t, "slack", map[string]any{"webhook_url": srv.URL + slackHookPath})
}

func slackBot(t *testing.T, srv *fakeServer) channels.Channel {
	return newTestChannel(t, "slack", map[string]any{"token": slackToken, "channel": "C0123456789", "api_url": srv.URL + "/api/"})
}

func slackSecrets(srv *fakeServer) []string {
	return []string{srv.URL + slackHookPath, slackHookPath, "slackHookSecret0123456789", slackToken}
}

func slackDecode(t *testing.T, body []byte) slackMessage {
	t.Helper()
	m, problem := slackCheck(body)
	if problem != "" {
		t.Fatalf("Slack would refuse the message: %s", problem)
	}
	return m
}

func TestSlackSettings(t *testing.T) {
	hook := "https://hooks.slack.com" + slackHookPath
	bad := []settingsCase{
		{map[string]any{}, "key webhook_url (or token and channel): missing"},
		{map[string]any{"webhook_url": hook, "token": slackToken}, "both set"},
		{map[string]any{"webhook_url": "hooks.slack.com" + slackHookPath}, "key webhook_url: not an http"},
		{map[string]any{"webhook_url": hook, "channel": "C1"}, "go with token"},
		{map[string]any{"token": slackToken}, "key channel: required"},
		{map[string]any{"token": slackToken + "\r\nX: y", "channel": "C1"}, "key token"},
		{map[string]any{"token": slackToken + "\u2028X: y", "channel": "C1"}, "key token"},
		{map[string]any{"token": slackToken, "channel": "C1", "api_url": "slack.com/api"}, "key api_url"},
		{map[string]any{"token": slackToken, "channel": "C1", "icon": ":x:"}, "icon"},
	}
	refuseSettings(t, "team", "slack", bad, hook, "slackHookSecret0123456789", slackToken)
}

func TestSlackWebhookRequest(t *testing.T) {
	srv := newFakeServer(t, slackWebhook)
	ch := slackHook(t, srv)
	m := renderReport(t, ch, config.Channel{}, sampleDigest())
	if err := sendOnce(testCtx(t), ch, m); err != nil {
		t.Fatal(err)
	}
	r := srv.last(t)
	if r.Method != "POST" || r.Path != slackHookPath || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Authorization") != "" {
		t.Errorf("request %s %s with Content-Type %q, Authorization %q", r.Method, r.Path, r.Header.Get("Content-Type"), r.Header.Get("Authorization"))
	}
	msg := slackDecode(t, r.Body)
	if msg.Channel != "" || msg.Parse != "" {
		t.Errorf("an incoming webhook got channel %q and parse %q", msg.Channel, msg.Parse)
	}
	if msg.UnfurlLinks == nil || *msg.UnfurlLinks || msg.UnfurlMedia == nil || *msg.UnfurlMedia {
		t.Errorf("unfurl_links %v, unfurl_media %v: want both false", msg.UnfurlLinks, msg.UnfurlMedia)
	}
	for i, b := range msg.Blocks {
		if !b.Text.Verbatim {
			t.Errorf("block %d is not verbatim: Slack would link URLs and names in it", i)
		}
	}
	if msg.Text != m.Subject {
		t.Errorf("notification text %q, want the subject %q", msg.Text, m.Subject)
	}
	body := strings.Join(msg.sections(), "\n\n")
	if !holdsReport(msg.sections(), m.Bodies[channels.SlackFormat]) {
		t.Errorf("the sections do not hold the report:\n%s", body)
	}
	for _, want := range []string{"*Fail2Ban report for web1.example.org*", "*15* bans", "*Jails*", "• sshd: 10 bans", "*Top offenders*", "• *203.0.113.45* (recidive, sshd)",
		"users: &lt;script&gt;alert(1)&lt;/script&gt;", "*Unbans*"} {
		if !strings.Contains(body, want) {
			t.Errorf("the report lacks %q:\n%s", want, body)
		}
	}
	checkGolden(t, "slack", "sample", []byte(body))
}

func TestSlackBotRequest(t *testing.T) {
	srv := newFakeServer(t, slackAPI)
	ch := slackBot(t, srv)
	m := renderReport(t, ch, config.Channel{}, sampleDigest())
	if err := sendOnce(testCtx(t), ch, m); err != nil {
		t.Fatal(err)
	}
	r := srv.last(t)
	if r.Method != "POST" || r.Path != "/api/chat.postMessage" || r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("request %s %s with Content-Type %q", r.Method, r.Path, r.Header.Get("Content-Type"))
	}
	msg := slackDecode(t, r.Body)
	if msg.Channel != "C0123456789" || msg.Parse != "none" || msg.LinkNames == nil || *msg.LinkNames {
		t.Errorf("channel %q, parse %q, link_names %v: want C0123456789, none, false", msg.Channel, msg.Parse, msg.LinkNames)
	}
	if !holdsReport(msg.sections(), m.Bodies[channels.SlackFormat]) {
		t.Errorf("the sections do not hold the report:\n%s", strings.Join(msg.sections(), "\n\n"))
	}
}

func TestSlackWebhookErrors(t *testing.T) {
	srv := newFakeServer(t, nil)
	ch := slackHook(t, srv)
	send := func(ctx context.Context) error { return ch.Send(ctx, "subject", "*report*") }
	text := func(status int, body string) fakeAnswer { return fakeReply(status, nil, body) }
	cases := []errCase{
		{name: "ok", answer: text(200, "ok"), class: "ok"},
		{name: "invalid_payload", answer: text(400, "invalid_payload"), class: "permanent", want: "HTTP 400 Bad Request: invalid_payload"},
		{name: "user_not_found", answer: text(400, "user_not_found"), class: "permanent", want: "user_not_found"},
		{name: "action_prohibited", answer: text(403, "action_prohibited"), class: "permanent", want: "HTTP 403 Forbidden: action_prohibited"},
		{name: "no_service", answer: text(404, "no_service"), class: "permanent", want: "no_service"},
		{name: "channel_not_found", answer: text(404, "channel_not_found"), class: "permanent", want: "HTTP 404 Not Found: channel_not_found"},
		{name: "channel_is_archived", answer: text(410, "channel_is_archived"), class: "permanent", want: "HTTP 410 Gone: channel_is_archived"},
		{name: "echoing the webhook", answer: text(400, "invalid_token for "+slackHookPath), class: "permanent", want: "[redacted]"},
		{name: "rate limited", answer: fakeReply(429, map[string]string{"Retry-After": "30"}, "rate_limited"), class: "retry-after", after: 30 * time.Second, want: "HTTP 429"},
		{name: "rollup_error", answer: text(500, "rollup_error"), class: "retry", want: "HTTP 500 Internal Server Error: rollup_error"},
		{name: "503", answer: text(503, ""), class: "retry", want: "HTTP 503"},
	}
	runErrorCases(t, srv, send, slackSecrets(srv), append(cases, transportCases()...))
}

func TestSlackBotErrors(t *testing.T) {
	srv := newFakeServer(t, nil)
	ch := slackBot(t, srv)
	send := func(ctx context.Context) error { return ch.Send(ctx, "subject", "*report*") }
	api := func(status int, header map[string]string, errName string) fakeAnswer {
		return fakeReply(status, header, fmt.Sprintf(`{"ok":false,"error":%q}`, errName))
	}
	cases := []errCase{
		{name: "ok", answer: fakeReply(200, nil, `{"ok":true,"ts":"1.2","warning":"superfluous_charset"}`), class: "ok"},
		{name: "invalid_auth", answer: api(200, nil, "invalid_auth"), class: "permanent", want: "chat.postMessage: invalid_auth"},
		{name: "not_authed", answer: api(200, nil, "not_authed"), class: "permanent", want: "not_authed"},
		{name: "token_revoked", answer: api(200, nil, "token_revoked"), class: "permanent", want: "token_revoked"},
		{name: "channel_not_found", answer: api(200, nil, "channel_not_found"), class: "permanent", want: "channel_not_found"},
		{name: "not_in_channel", answer: api(200, nil, "not_in_channel"), class: "permanent", want: "not_in_channel"},
		{name: "is_archived", answer: api(200, nil, "is_archived"), class: "permanent", want: "is_archived"},
		{name: "msg_blocks_too_long", answer: api(200, nil, "msg_blocks_too_long"), class: "permanent", want: "msg_blocks_too_long"},
		{name: "missing_scope", answer: api(200, nil, "missing_scope"), class: "permanent", want: "missing_scope"},
		{name: "an error echoing the token", answer: api(200, nil, "invalid_auth "+slackToken), class: "permanent", want: "[redacted]"},
		{name: "ratelimited with 429", answer: api(429, map[string]string{"Retry-After": "30"}, "ratelimited"), class: "retry-after", after: 30 * time.Second, want: "HTTP 429 Too Many Requests: ratelimited"},
		{name: "ratelimited with 200", answer: api(200, map[string]string{"Retry-After": "4"}, "ratelimited"), class: "retry-after", after: 4 * time.Second, want: "ratelimited"},
		{name: "internal_error", answer: api(200, nil, "internal_error"), class: "retry", want: "internal_error"},
		{name: "service_unavailable", answer: api(200, nil, "service_unavailable"), class: "retry", want: "service_unavailable"},
		{name: "HTTP 500", answer: fakeReply(500, nil, "<html>down</html>"), class: "retry", want: "HTTP 500"},
		{name: "HTTP 401", answer: api(401, nil, "invalid_auth"), class: "permanent", want: "HTTP 401 Unauthorized: invalid_auth"},
		{name: "not JSON", answer: fakeReply(200, nil, "<html>captive portal</html>"), class: "permanent", want: "not the JSON"},
	}
	runErrorCases(t, srv, send, slackSecrets(srv), append(cases, transportCases()...))
}

// slackTemplateBold matches the bold spans the default template makes.
var slackTemplateBold = regexp.MustCompile(`^(Fail2Ban report for web1\.example\.org|\d+ bans? from \d+ address(?:es)?(?:, [-+±0-9]+% on the previous report \(\d+ bans?\)|, as many as the previous report|; the previous report had none)?|\d+|Jails|Top offenders|Unbans|Notes|[0-9a-f.:]+)$`)

// slackInert fails the test unless the mrkdwn text s can do nothing but
// show text: no control sequence (< >), no entity but the three Slack
// decodes, no URL, no formatting character but the template's own bold.
func slackInert(t *testing.T, what, s string) {
	t.Helper()
	if strings.ContainsAny(s, "<>_~`") {
		t.Errorf("%s holds < > _ ~ or `: %q", what, s)
	}
	rest := s
	for i := strings.IndexByte(rest, '&'); i >= 0; i = strings.IndexByte(rest, '&') {
		if !strings.HasPrefix(rest[i:], "&amp;") && !strings.HasPrefix(rest[i:], "&lt;") && !strings.HasPrefix(rest[i:], "&gt;") {
			t.Errorf("%s holds a bare &: %q", what, rest[i:min(len(rest), i+20)])
		}
		rest = rest[i+1:]
	}
	if strings.Contains(s, "://") {
		t.Errorf("%s holds a URL", what)
	}
}

func TestSlackHostileCorpus(t *testing.T) {
	srv := newFakeServer(t, slackWebhook)
	ch := slackHook(t, srv)
	esc := dialectEscaper(t, channels.SlackFormat)
	bold := regexp.MustCompile(`\*([^*\n]*)\*`)
	for i, s := range hostile.Corpus() {
		d := hostileDigest(i)
		if err := sendOnce(testCtx(t), ch, renderReport(t, ch, config.Channel{}, d)); err != nil {
			t.Fatalf("corpus entry %d %q: %v", i, s, err)
		}
		msg := slackDecode(t, srv.last(t).Body)
		text := strings.Join(msg.sections(), "\n")
		what := fmt.Sprintf("corpus entry %d %q", i, s)
		slackInert(t, what, text)
		slackInert(t, what+" (notification text)", msg.Text)
		for _, b := range bold.FindAllStringSubmatch(text, -1) {
			if !slackTemplateBold.MatchString(b[1]) {
				t.Errorf("%s: bold text the template did not make: %q", what, b[0])
			}
		}
		if strings.Count(text, "*")%2 != 0 {
			t.Errorf("%s: an odd number of *", what)
		}
		flat := strings.ReplaceAll(text, "\n", "")
		if jail := esc(d.Jails[0].Name); len(jail) < 100 && !strings.Contains(flat, jail) {
			t.Errorf("%s: the jail is not shown as %q", what, jail)
		}
		if user := esc(report.Neutralise(s)); len(user) < 100 && !strings.Contains(flat, user) {
			t.Errorf("%s: the user name is not shown as %q", what, user)
		}
	}
	// The subject goes to Slack's notification text, escaped too.
	if err := ch.Send(testCtx(t), "<!channel> *x* https://evil.example/ &", "report"); err != nil {
		t.Fatal(err)
	}
	if got := slackDecode(t, srv.last(t).Body).Text; got != "&lt;!channel&gt; ∗x∗ https[:]//evil.example/ &amp;" {
		t.Errorf("notification text %q", got)
	}
}

func TestSlackEscaper(t *testing.T) {
	esc := dialectEscaper(t, channels.SlackFormat)
	undo := strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "∗", "*", "ˍ", "_", "∼", "~", "ˋ", "`", "[:]//", "://")
	for _, s := range hostile.Corpus() {
		n := report.Neutralise(s)
		e := esc(n)
		slackInert(t, fmt.Sprintf("%q escaped", s), e)
		if strings.Contains(e, "*") {
			t.Errorf("%q escaped to %q, which holds *", s, e)
		}
		back := undo.Replace(e)
		if strings.HasPrefix(n, ">") {
			back = ">" + strings.TrimPrefix(back, "›")
		}
		if back != n {
			t.Errorf("%q escaped to %q, which does not read back (%q)", n, e, back)
		}
	}
}

func TestSlackSections(t *testing.T) {
	srv := newFakeServer(t, slackAPI)
	ch := slackBot(t, srv)
	para := strings.Repeat("word ", 500) // 2500 characters
	long := strings.Repeat("a&amp;b", 1500)
	for name, body := range map[string]string{
		"paragraphs":       para + "\n\n" + para + "\n\n" + para,
		"lines":            strings.Repeat(strings.Repeat("x", 99)+"\n", 90),
		"one long line":    long,
		"astral and lines": strings.Repeat("𝐛𝐨𝐥𝐝 "+strings.Repeat("y", 40)+"\n", 120),
	} {
		t.Run(name, func(t *testing.T) {
			if err := ch.Send(testCtx(t), "subject", body); err != nil {
				t.Fatal(err)
			}
			msg := slackDecode(t, srv.last(t).Body)
			var joined strings.Builder
			for i, s := range msg.sections() {
				if n := measureBody(ch, s); n > 3000 {
					t.Errorf("section %d holds %d UTF-16 code units", i, n)
				}
				if strings.HasPrefix(s, "amp;") || strings.HasSuffix(s, "&") || strings.HasSuffix(s, "&am") {
					t.Errorf("section %d cuts an entity", i)
				}
				joined.WriteString(s)
			}
			strip := strings.NewReplacer("\n", "")
			if strip.Replace(joined.String()) != strip.Replace(body) {
				t.Errorf("the sections do not hold the body whole")
			}
		})
	}
}

func TestSlackFitsLargeReport(t *testing.T) {
	hookSrv, apiSrv := newFakeServer(t, slackWebhook), newFakeServer(t, slackAPI)
	hook, bot := slackHook(t, hookSrv), slackBot(t, apiSrv)
	m := renderReport(t, hook, config.Channel{}, big5000())
	if n := measureBody(hook, m.Bodies[channels.SlackFormat]); n > hook.Limit() {
		t.Fatalf("the report measures %d, over the limit %d", n, hook.Limit())
	}
	for name, c := range map[string]struct {
		srv *fakeServer
		ch  channels.Channel
	}{"webhook": {hookSrv, hook}, "bot": {apiSrv, bot}} {
		t.Run(name, func(t *testing.T) {
			if err := sendOnce(testCtx(t), c.ch, m); err != nil {
				t.Fatal(err)
			}
			text := strings.Join(slackDecode(t, c.srv.last(t).Body).sections(), "\n")
			for _, want := range []string{"*5000* bans", "*5000* addresses", "more offenders (see notes)", "offenders were left out"} {
				if !strings.Contains(text, want) {
					t.Errorf("the cut report lacks %q", want)
				}
			}
		})
	}
}
