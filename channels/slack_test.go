package channels_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
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
	r := srv.lastAt(t, "/api/chat.postMessage")
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
		srv  *fakeServer
		ch   channels.Channel
		path string
	}{"webhook": {hookSrv, hook, slackHookPath}, "bot": {apiSrv, bot, "/api/chat.postMessage"}} {
		t.Run(name, func(t *testing.T) {
			if err := sendOnce(testCtx(t), c.ch, m); err != nil {
				t.Fatal(err)
			}
			text := strings.Join(slackDecode(t, c.srv.lastAt(t, c.path).Body).sections(), "\n")
			for _, want := range []string{"*5000* bans", "*5000* addresses", "more offenders (see notes)", "offenders were left out"} {
				if !strings.Contains(text, want) {
					t.Errorf("the cut report lacks %q", want)
				}
			}
		})
	}
}

// slackShared is a file files.completeUploadExternal shared.
type slackShared struct {
	ID, Title, Channel string
	Data               []byte
}

// slackFiles answers as Slack does for chat.postMessage and the three
// steps of a file upload: files.getUploadURLExternal, the POST of the
// bytes to its upload_url, and files.completeUploadExternal. The token has
// the scopes listed; fail, if set, answers one step instead ("get",
// "upload" or "complete"), given the number of its call (1 for the first).
type slackFiles struct {
	scopes   string
	fail     func(step string, n int) fakeAnswer
	mu       sync.Mutex
	calls    map[string]int
	pending  map[string]int    // file ID: the length announced
	uploaded map[string][]byte // file ID: the bytes received
	shared   []slackShared
}

func newSlackFiles(scopes string) *slackFiles {
	return &slackFiles{scopes: scopes, calls: map[string]int{}, pending: map[string]int{}, uploaded: map[string][]byte{}}
}

// slackFail answers a Web API call with ok false and the error.
func slackFail(w http.ResponseWriter, header map[string]string, status int, errName string) {
	for k, v := range header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"ok":false,"error":%q}`, errName)
}

func (f *slackFiles) answer(w http.ResponseWriter, r *http.Request, body []byte) {
	f.serve(w, r, body, f.fail)
}

// failing answers as answer does, but with a instead at the step.
func (f *slackFiles) failing(step string, a fakeAnswer) fakeAnswer {
	return func(w http.ResponseWriter, r *http.Request, body []byte) {
		f.serve(w, r, body, func(s string, _ int) fakeAnswer {
			if s == step {
				return a
			}
			return nil
		})
	}
}

func (f *slackFiles) serve(w http.ResponseWriter, r *http.Request, body []byte, fail func(step string, n int) fakeAnswer) {
	step := map[string]string{"/api/files.getUploadURLExternal": "get", "/api/files.completeUploadExternal": "complete"}[r.URL.Path]
	if strings.HasPrefix(r.URL.Path, "/upload/v1/") {
		step = "upload"
	}
	if step == "" {
		slackAPI(w, r, body)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[step]++
	if fail != nil {
		if a := fail(step, f.calls[step]); a != nil {
			a(w, r, body)
			return
		}
	}
	if step == "upload" {
		id := strings.TrimPrefix(r.URL.Path, "/upload/v1/")
		length, ok := f.pending[id]
		switch {
		case r.Method != "POST" || !ok:
			w.WriteHeader(404)
		case r.Header.Get("Authorization") != "":
			w.WriteHeader(400) // the URL is the permission; a token there is a leak
		case len(body) != length:
			w.WriteHeader(400)
			fmt.Fprintf(w, "length %d, announced %d", len(body), length)
		default:
			f.uploaded[id] = body
			fmt.Fprintf(w, "OK - %d", len(body))
		}
		return
	}
	form, err := url.ParseQuery(string(body))
	switch {
	case r.Header.Get("Authorization") != "Bearer "+slackToken:
		slackFail(w, nil, 200, "invalid_auth")
		return
	case !strings.Contains(f.scopes, "files:write"):
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		fmt.Fprintf(w, `{"ok":false,"error":"missing_scope","needed":"files:write","provided":%q}`, f.scopes)
		return
	case r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" || err != nil:
		slackFail(w, nil, 200, "invalid_form_data")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if step == "get" {
		length, err := strconv.Atoi(form.Get("length"))
		switch {
		case form.Get("filename") == "" || err != nil || length < 1:
			slackFail(w, nil, 200, "invalid_arguments")
		case utf8.RuneCountInString(form.Get("alt_txt")) > 1000:
			slackFail(w, nil, 200, "alt_txt_too_large")
		default:
			id := fmt.Sprintf("F0%08d", len(f.pending)+1)
			f.pending[id] = length
			fmt.Fprintf(w, `{"ok":true,"upload_url":"http://%s/upload/v1/%s","file_id":%q}`, r.Host, id, id)
		}
		return
	}
	var files []struct{ ID, Title string }
	switch {
	case json.Unmarshal([]byte(form.Get("files")), &files) != nil || len(files) == 0:
		slackFail(w, nil, 200, "invalid_arguments")
	case !regexp.MustCompile(`^C[0-9A-Z]+$`).MatchString(form.Get("channel_id")):
		slackFail(w, nil, 200, "invalid_channel")
	default:
		for _, file := range files {
			data, ok := f.uploaded[file.ID]
			if !ok {
				slackFail(w, nil, 200, "file_not_found")
				return
			}
			f.shared = append(f.shared, slackShared{ID: file.ID, Title: file.Title, Channel: form.Get("channel_id"), Data: data})
		}
		fmt.Fprintf(w, `{"ok":true,"files":[{"id":%q,"title":%q}]}`, files[0].ID, files[0].Title)
	}
}

// count is how many calls the step had.
func (f *slackFiles) count(step string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[step]
}

func (f *slackFiles) sharedFiles() []slackShared {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]slackShared(nil), f.shared...)
}

// TestSlackBotUploads: with a bot token, the chart and the full list are
// uploaded after the report and shared to its channel, each in three
// requests as Slack documents them; the token never goes to the upload URL.
func TestSlackBotUploads(t *testing.T) {
	f := newSlackFiles("chat:write,files:write")
	srv := newFakeServer(t, f.answer)
	ch := slackBot(t, srv)
	m := renderReport(t, ch, config.Channel{}, big5000())
	if len(m.Attachments) != 2 || m.Attachments[0].Name != "bans.png" || m.Attachments[1].Name != "offenders.csv" {
		t.Fatalf("attachments %v, want the chart and the full list (the report is cut)", m.Attachments)
	}
	v := deliverFast(t, ch, m, 10*time.Second, slackToken)
	if v.Err != nil || len(v.Warnings) != 0 {
		t.Fatalf("verdict %v, warnings %q", v.Err, v.Warnings)
	}
	var paths []string
	for _, r := range srv.requests() {
		paths = append(paths, regexp.MustCompile(`F0\d+$`).ReplaceAllString(r.Path, "ID"))
	}
	get, upload, complete := "/api/files.getUploadURLExternal", "/upload/v1/ID", "/api/files.completeUploadExternal"
	if want := []string{"/api/chat.postMessage", get, upload, complete, get, upload, complete}; !slices.Equal(paths, want) {
		t.Fatalf("requests %q, want %q", paths, want)
	}
	reqs := srv.requests()
	for i, a := range m.Attachments {
		g, u, c := reqs[1+3*i], reqs[2+3*i], reqs[3+3*i]
		for _, r := range []fakeRequest{g, c} {
			if r.Method != "POST" || r.Header.Get("Authorization") != "Bearer "+slackToken || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
				t.Errorf("%s: %s %s, Authorization %q, Content-Type %q", a.Name, r.Method, r.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"))
			}
		}
		form, _ := url.ParseQuery(string(g.Body))
		wantAlt := ""
		if a.Kind == channels.Chart {
			wantAlt = a.Caption
		}
		if form.Get("filename") != a.Name || form.Get("length") != strconv.Itoa(len(a.Data)) || form.Get("alt_txt") != wantAlt {
			t.Errorf("%s: files.getUploadURLExternal with %v", a.Name, form)
		}
		if u.Method != "POST" || u.Header.Get("Authorization") != "" || u.Header.Get("Content-Type") != a.Type || !bytes.Equal(u.Body, a.Data) {
			t.Errorf("%s: upload %s with Authorization %q, Content-Type %q, %d bytes (want %d)", a.Name, u.Method, u.Header.Get("Authorization"), u.Header.Get("Content-Type"), len(u.Body), len(a.Data))
		}
		form, _ = url.ParseQuery(string(c.Body))
		if form.Get("channel_id") != "C0123456789" || !strings.HasPrefix(form.Get("files"), `[{"id":"F0`) {
			t.Errorf("%s: files.completeUploadExternal with %v", a.Name, form)
		}
	}
	shared := f.sharedFiles()
	if len(shared) != 2 {
		t.Fatalf("%d files shared, want 2", len(shared))
	}
	for i, a := range m.Attachments {
		if s := shared[i]; s.Title != a.Caption || s.Channel != "C0123456789" || !bytes.Equal(s.Data, a.Data) {
			t.Errorf("shared %q to %s (%d bytes); want %q to C0123456789 (%d bytes)", s.Title, s.Channel, len(s.Data), a.Caption, len(a.Data))
		}
	}
}

// TestSlackUploadsToAChannelName: files.completeUploadExternal wants a
// conversation ID; a channel given as #name takes the one chat.postMessage
// answered for the report.
func TestSlackUploadsToAChannelName(t *testing.T) {
	f := newSlackFiles("chat:write,files:write")
	srv := newFakeServer(t, f.answer)
	ch := newTestChannel(t, "slack", map[string]any{"token": slackToken, "channel": "#security", "api_url": srv.URL + "/api"})
	chart := channels.Attachment{Kind: channels.Chart, Name: "bans.png", Type: "image/png", Data: []byte("\x89PNG..."), Caption: "Bans per hour"}
	if err := ch.(channels.AttachmentSender).SendAttachment(testCtx(t), chart); err == nil || !strings.Contains(err.Error(), "key channel") {
		t.Errorf("before any report: %v, want an error about the channel key", err)
	}
	v := deliverFast(t, ch, channels.Message{Subject: "s", Bodies: map[channels.Format]string{channels.SlackFormat: "*report*"}, Attachments: []channels.Attachment{chart}}, 5*time.Second)
	if v.Err != nil || len(v.Warnings) != 0 {
		t.Fatalf("verdict %v, warnings %q", v.Err, v.Warnings)
	}
	if s := f.sharedFiles(); len(s) != 1 || s[0].Channel != "C0123456789" {
		t.Errorf("shared %+v, want the chart in C0123456789", s)
	}
}

// TestSlackWebhookTakesNoFiles: an incoming webhook posts no file, so its
// report is rendered without attachments and says what was left out.
func TestSlackWebhookTakesNoFiles(t *testing.T) {
	ch := slackHook(t, newFakeServer(t, slackWebhook))
	m := renderReport(t, ch, config.Channel{}, big5000())
	if len(m.Attachments) != 0 || strings.Contains(m.Bodies[channels.SlackFormat], "offenders.csv") {
		t.Errorf("a webhook report with %d attachments, or naming offenders.csv", len(m.Attachments))
	}
}

// TestSlackUploadErrors: how each failure of the three steps is judged.
func TestSlackUploadErrors(t *testing.T) {
	f := newSlackFiles("chat:write,files:write")
	srv := newFakeServer(t, nil)
	ch := slackBot(t, srv)
	chart := channels.Attachment{Kind: channels.Chart, Name: "bans.png", Type: "image/png", Data: []byte("\x89PNG..."), Caption: "Bans per hour"}
	send := func(ctx context.Context) error { return ch.(channels.AttachmentSender).SendAttachment(ctx, chart) }
	at := f.failing
	api := func(status int, header map[string]string, errName string) fakeAnswer {
		return func(w http.ResponseWriter, _ *http.Request, _ []byte) { slackFail(w, header, status, errName) }
	}
	cases := []errCase{
		{name: "shared", answer: f.answer, class: "ok"},
		{name: "missing_scope", answer: newSlackFiles("chat:write").answer, class: "permanent", want: "files.getUploadURLExternal: missing_scope (the token lacks the files:write scope: add it to the Slack app and reinstall the app, or set attachments: [] on this channel)"},
		{name: "file_uploads_disabled", answer: at("get", api(200, nil, "file_uploads_disabled")), class: "permanent", want: "files.getUploadURLExternal: file_uploads_disabled"},
		{name: "ratelimited at get", answer: at("get", api(429, map[string]string{"Retry-After": "20"}, "ratelimited")), class: "retry-after", after: 20 * time.Second, want: "HTTP 429"},
		{name: "ratelimited at complete", answer: at("complete", api(200, map[string]string{"Retry-After": "3"}, "ratelimited")), class: "retry-after", after: 3 * time.Second, want: "files.completeUploadExternal: ratelimited"},
		{name: "not_in_channel at complete", answer: at("complete", api(200, nil, "not_in_channel")), class: "permanent", want: "files.completeUploadExternal: not_in_channel"},
		{name: "internal_error at complete", answer: at("complete", api(200, nil, "internal_error")), class: "retry", want: "internal_error"},
		{name: "upload refused", answer: at("upload", fakeReply(403, nil, "Forbidden")), class: "permanent", want: "upload of bans.png to the URL files.getUploadURLExternal gave: HTTP 403"},
		{name: "upload 503", answer: at("upload", fakeReply(503, nil, "")), class: "retry", want: "HTTP 503"},
		{name: "upload hangs", answer: at("upload", fakeHang), class: "retry", want: "deadline", timeout: 300 * time.Millisecond},
		{name: "no upload_url", answer: at("get", fakeReply(200, nil, `{"ok":true,"file_id":"F1"}`)), class: "permanent", want: "no usable upload_url"},
		{name: "an upload_url that is not http(s)", answer: at("get", fakeReply(200, nil, `{"ok":true,"file_id":"F1","upload_url":"ftp://files.example/x"}`)), class: "permanent", want: "no usable upload_url"},
	}
	runErrorCases(t, srv, send, slackSecrets(srv), append(cases, transportCases()...))
}

// TestSlackUploadWarnings: a file that cannot be uploaded is a one-line
// warning of the delivered report, naming what to do; a rate limit is
// waited out.
func TestSlackUploadWarnings(t *testing.T) {
	for _, tt := range []struct {
		name, scopes string
		fail         func(step string, n int) fakeAnswer
		shared       int
		want         string
	}{
		{name: "missing files:write", scopes: "chat:write", want: "files:write scope"},
		{name: "a 429, then shared", scopes: "chat:write,files:write", shared: 1, fail: func(step string, n int) fakeAnswer {
			if step == "get" && n == 1 {
				return func(w http.ResponseWriter, _ *http.Request, _ []byte) {
					slackFail(w, map[string]string{"Retry-After": "0"}, 429, "ratelimited")
				}
			}
			return nil
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newSlackFiles(tt.scopes)
			f.fail = tt.fail
			srv := newFakeServer(t, f.answer)
			ch := slackBot(t, srv)
			m := renderReport(t, ch, config.Channel{}, sampleDigest()) // the chart only: not cut
			v := deliverFast(t, ch, m, 10*time.Second, slackToken)
			if v.Err != nil {
				t.Fatalf("verdict %v, want the report delivered", v.Err)
			}
			if n := len(f.sharedFiles()); n != tt.shared {
				t.Errorf("%d files shared, want %d", n, tt.shared)
			}
			if tt.want == "" {
				if len(v.Warnings) != 0 {
					t.Errorf("warnings %q", v.Warnings)
				}
				return
			}
			if n := f.count("get"); len(v.Warnings) != 1 || n != 1 {
				t.Fatalf("warnings %q after %d calls, want one, not retried", v.Warnings, n)
			}
			for _, w := range v.Warnings {
				if strings.Contains(w, "\n") || strings.Contains(w, slackToken) || !strings.Contains(w, "the report was delivered, but not the attached") || !strings.Contains(w, tt.want) {
					t.Errorf("warning %q: want one redacted line saying %q", w, tt.want)
				}
			}
		})
	}
}
