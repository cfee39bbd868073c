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

	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/internal/hostile"
	"github.com/f2b-notify/f2b-notify/report"
)

const teamsPath = "/workflows/teamsWorkflowId0123/triggers/manual/paths/invoke"

// teamsQuery holds the workflow's signature, a secret.
const teamsQuery = "api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=teamsSecretSig0123456789abcdef"

// teamsCard is what Teams reads of a posted message.
type teamsCard struct {
	Type        string `json:"type"`
	Attachments []struct {
		ContentType string          `json:"contentType"`
		ContentURL  json.RawMessage `json:"contentUrl"`
		Content     struct {
			Type         string `json:"type"`
			Schema       string `json:"$schema"`
			Version      string `json:"version"`
			FallbackText string `json:"fallbackText"`
			Body         []struct {
				Type    string `json:"type"`
				Spacing string `json:"spacing"`
				Text    string `json:"text"`
				Inlines []struct {
					Type   string `json:"type"`
					Text   string `json:"text"`
					Weight string `json:"weight"`
				} `json:"inlines"`
			} `json:"body"`
		} `json:"content"`
	} `json:"attachments"`
}

// lines returns the card's text, a line per block, and its bold runs.
func (c teamsCard) lines() (lines, bold []string) {
	for _, b := range c.Attachments[0].Content.Body {
		var line strings.Builder
		for _, r := range b.Inlines {
			line.WriteString(r.Text)
			if r.Weight == "Bolder" {
				bold = append(bold, r.Text)
			}
		}
		lines = append(lines, line.String())
	}
	return lines, bold
}

// teamsCheck returns the problem Teams would have with a message, "" for
// none: the shape of the card, only RichTextBlocks of TextRuns (never a
// Markdown TextBlock), and the size (counted as two bytes a character).
func teamsCheck(body []byte) (teamsCard, string) {
	var c teamsCard
	if err := json.Unmarshal(body, &c); err != nil {
		return c, "invalid JSON"
	}
	if len(body)*2 > 28*1024 {
		return c, "413"
	}
	if c.Type != "message" || len(c.Attachments) != 1 || c.Attachments[0].ContentType != "application/vnd.microsoft.card.adaptive" ||
		string(c.Attachments[0].ContentURL) != "null" {
		return c, "not a message with one Adaptive Card"
	}
	card := c.Attachments[0].Content
	if card.Type != "AdaptiveCard" || card.Version != "1.2" || card.Schema != "http://adaptivecards.io/schemas/adaptive-card.json" || len(card.Body) == 0 {
		return c, "not an Adaptive Card 1.2"
	}
	for _, b := range card.Body {
		if b.Type != "RichTextBlock" || b.Text != "" || len(b.Inlines) == 0 {
			return c, "an element that is not a RichTextBlock of TextRuns: " + b.Type
		}
		for _, r := range b.Inlines {
			if r.Type != "TextRun" || r.Text == "" {
				return c, "an inline that is not a TextRun"
			}
		}
	}
	return c, ""
}

// teamsWorkflow answers as a Workflows webhook: 202, or 400 or 413 with the
// error as JSON.
func teamsWorkflow(w http.ResponseWriter, _ *http.Request, body []byte) {
	switch _, problem := teamsCheck(body); problem {
	case "":
		w.WriteHeader(202)
	case "413":
		w.WriteHeader(413)
		fmt.Fprint(w, `{"error":{"code":"MessageTooLarge","message":"The request content length exceeds the limit."}}`)
	default:
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"error":{"code":"InvalidRequestContent","message":%q}}`, problem)
	}
}

// teamsConnector answers as a legacy connector: 200 and "1", or 200 and a
// failure in text.
func teamsConnector(w http.ResponseWriter, _ *http.Request, body []byte) {
	switch _, problem := teamsCheck(body); problem {
	case "":
		fmt.Fprint(w, "1")
	case "413":
		fmt.Fprint(w, "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 413 with ContextId tcid=0,server=msgapi-production-eus-azsc2-4-170,cv=Y0bHZq.0..")
	default:
		w.WriteHeader(400)
		fmt.Fprint(w, problem)
	}
}

func teamsURL(srv *fakeServer) string { return srv.URL + teamsPath + "?" + teamsQuery }

func teamsSecrets(srv *fakeServer) []string {
	return []string{teamsURL(srv), "teamsSecretSig0123456789abcdef", teamsQuery}
}

func teamsDecode(t *testing.T, body []byte) teamsCard {
	t.Helper()
	c, problem := teamsCheck(body)
	if problem != "" {
		t.Fatalf("Teams would refuse the message: %s", problem)
	}
	return c
}

func TestTeamsSettings(t *testing.T) {
	hook := "https://prod-00.westus.logic.azure.com" + teamsPath + "?" + teamsQuery
	refuseSettings(t, "ops", "teams", []settingsCase{
		{map[string]any{}, "key webhook_url: missing"},
		{map[string]any{"webhook_url": strings.TrimPrefix(hook, "https://")}, "key webhook_url: not an http"},
		{map[string]any{"webhook_url": hook, "title": "x"}, "title"},
	}, hook, "teamsSecretSig0123456789abcdef")
}

func TestTeamsRequest(t *testing.T) {
	srv := newFakeServer(t, teamsWorkflow)
	ch := newTestChannel(t, "teams", map[string]any{"webhook_url": teamsURL(srv)})
	m := renderReport(t, ch, config.Channel{}, sampleDigest())
	if err := sendOnce(testCtx(t), ch, m); err != nil {
		t.Fatal(err)
	}
	r := srv.last(t)
	if r.Method != "POST" || r.Path != teamsPath || r.Query.Get("sig") != "teamsSecretSig0123456789abcdef" || r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("request %s %s?%s with Content-Type %q", r.Method, r.Path, r.Query.Encode(), r.Header.Get("Content-Type"))
	}
	card := teamsDecode(t, r.Body)
	if got := card.Attachments[0].Content.FallbackText; got != m.Subject {
		t.Errorf("fallback text %q, want the subject", got)
	}
	lines, bold := card.lines()
	if got, want := strings.Join(lines, "\n"), strings.ReplaceAll(strings.ReplaceAll(m.Bodies[channels.TeamsFormat], "**", ""), "\n\n", "\n"); got != strings.TrimRight(want, "\n") {
		t.Errorf("the card's lines are not the report's:\n%s", got)
	}
	if len(bold) < 6 || bold[0] != "15 bans from 7 addresses, +88% on the previous report (8 bans)" || bold[1] != "Fail2Ban report for web1.example.org" || bold[2] != "15" {
		t.Errorf("bold runs %q", bold)
	}
	for _, want := range []string{"• sshd: 10 bans, 4 addresses, 40 failures, 1 unban", "• 203.0.113.45 (recidive, sshd): 5 bans", "users: <script>alert(1)</script>"} {
		if !strings.Contains(strings.Join(lines, "\n"), want) {
			t.Errorf("the card lacks %q", want)
		}
	}
	checkGolden(t, "teams", "sample", indentJSON(t, r.Body))
}

func TestTeamsErrors(t *testing.T) {
	srv := newFakeServer(t, nil)
	ch := newTestChannel(t, "teams", map[string]any{"webhook_url": teamsURL(srv)})
	send := func(ctx context.Context) error { return ch.Send(ctx, "subject", "**report**") }
	flow := func(status int, code, msg string) fakeAnswer {
		return fakeReply(status, map[string]string{"Content-Type": "application/json"}, fmt.Sprintf(`{"error":{"code":%q,"message":%q}}`, code, msg))
	}
	connector := func(quoted int) fakeAnswer {
		return fakeReply(200, nil, fmt.Sprintf("Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error %d with ContextId tcid=0,server=msgapi-production-eus-azsc2-4-170,cv=Y0bHZq.0..", quoted))
	}
	cases := []errCase{
		{name: "workflow accepted", answer: fakeReply(202, nil, ""), class: "ok"},
		{name: "connector 1", answer: fakeReply(200, nil, "1"), class: "ok"},
		{name: "workflow bad request", answer: flow(400, "InvalidRequestContent", "The input body for trigger 'manual' of type 'Request' did not match its schema definition."), class: "permanent",
			want: "HTTP 400 Bad Request: InvalidRequestContent: The input body"},
		{name: "workflow unauthorized", answer: flow(401, "DirectApiAuthorizationRequired", "The request must be authenticated"), class: "permanent", want: "DirectApiAuthorizationRequired"},
		{name: "workflow gone", answer: flow(404, "WorkflowNotFound", "The workflow 'teamsWorkflowId0123' could not be found."), class: "permanent", want: "HTTP 404"},
		{name: "echoing the signature", answer: flow(403, "AuthorizationFailed", "sig teamsSecretSig0123456789abcdef is not valid"), class: "permanent", want: "[redacted]"},
		{name: "workflow too large", answer: flow(413, "MessageTooLarge", "too large"), class: "permanent", want: "HTTP 413"},
		{name: "workflow throttled", answer: fakeReply(429, map[string]string{"Retry-After": "17"}, `{"error":{"code":"WorkflowTriggerIsThrottled","message":"slow down"}}`),
			class: "retry-after", after: 17 * time.Second, want: "WorkflowTriggerIsThrottled"},
		{name: "workflow 500", answer: flow(500, "InternalServerError", "oops"), class: "retry", want: "HTTP 500"},
		{name: "workflow 502", answer: fakeReply(502, nil, ""), class: "retry", want: "HTTP 502"},
		{name: "connector summary required", answer: fakeReply(400, nil, "Summary or Text is required."), class: "permanent", want: "Summary or Text is required."},
		{name: "connector 429 in a 200", answer: connector(429), class: "retry-after", after: 0, want: "HTTP 429 Too Many Requests: Webhook message delivery failed"},
		{name: "connector 413 in a 200", answer: connector(413), class: "permanent", want: "HTTP 413"},
		{name: "connector 500 in a 200", answer: connector(500), class: "retry", want: "HTTP 500"},
		{name: "unexpected 200", answer: fakeReply(200, nil, "<html>sign in</html>"), class: "permanent", want: "unexpected answer"},
	}
	runErrorCases(t, srv, send, teamsSecrets(srv), append(cases, transportCases()...))
}

// teamsTemplateBold matches the bold runs the default template makes.
var teamsTemplateBold = regexp.MustCompile(`^(Fail2Ban report for web1\.example\.org|\d+ bans? from \d+ address(?:es)?(?:, [-+±0-9]+% on the previous report \(\d+ bans?\)|, as many as the previous report|; the previous report had none)?|\d+|Jails|Top offenders|Unbans|Notes|[0-9a-f.:]+)$`)

func TestTeamsHostileCorpus(t *testing.T) {
	srv := newFakeServer(t, teamsConnector)
	ch := newTestChannel(t, "teams", map[string]any{"webhook_url": teamsURL(srv)})
	esc := dialectEscaper(t, channels.TeamsFormat)
	for i, s := range hostile.Corpus() {
		if err := sendOnce(testCtx(t), ch, renderReport(t, ch, config.Channel{}, hostileDigest(i))); err != nil {
			t.Fatalf("corpus entry %d %q: %v", i, s, err)
		}
		what := fmt.Sprintf("corpus entry %d %q", i, s)
		lines, bold := teamsDecode(t, srv.last(t).Body).lines()
		for _, b := range bold {
			if !teamsTemplateBold.MatchString(b) {
				t.Errorf("%s: bold text the template did not make: %q", what, b)
			}
		}
		text := strings.Join(lines, "\n")
		if strings.Contains(text, "*") || strings.Contains(text, "{{") || strings.Contains(text, "://") {
			t.Errorf("%s: the card holds *, {{ or a URL", what)
		}
		if user := esc(report.Neutralise(s)); len(user) < 400 && !strings.Contains(text, "users: "+user) {
			t.Errorf("%s: the user name is not shown as %q", what, user)
		}
	}
}

func TestTeamsEscaper(t *testing.T) {
	esc := dialectEscaper(t, channels.TeamsFormat)
	undo := strings.NewReplacer("∗", "*", "｛", "{", "[:]//", "://")
	for _, s := range append(hostile.Corpus(), "{{DATE(2017-02-14T06:08:39Z, SHORT)}}", "**bold**") {
		n := report.Neutralise(s)
		e := esc(n)
		if strings.Contains(e, "*") || strings.Contains(e, "{{") || strings.Contains(e, "://") {
			t.Errorf("%q escaped to %q", n, e)
		}
		if back := undo.Replace(e); back != n {
			t.Errorf("%q escaped to %q, which does not read back (%q)", n, e, back)
		}
	}
}

func TestTeamsFitsLargeReport(t *testing.T) {
	srv := newFakeServer(t, teamsWorkflow)
	ch := newTestChannel(t, "teams", map[string]any{"webhook_url": teamsURL(srv)})
	m := renderReport(t, ch, config.Channel{}, big5000())
	for name, answer := range map[string]fakeAnswer{"workflow": teamsWorkflow, "connector": teamsConnector} {
		t.Run(name, func(t *testing.T) {
			srv.setAnswer(answer)
			if err := sendOnce(testCtx(t), ch, m); err != nil {
				t.Fatal(err)
			}
			r := srv.last(t)
			if len(r.Body) > ch.Limit() {
				t.Errorf("a body of %d bytes, over the limit %d", len(r.Body), ch.Limit())
			}
			lines, _ := teamsDecode(t, r.Body).lines()
			text := strings.Join(lines, "\n")
			for _, want := range []string{"5000 bans · 5000 addresses", "more offenders (see notes)", "offenders were left out"} {
				if !strings.Contains(text, want) {
					t.Errorf("the cut report lacks %q", want)
				}
			}
		})
	}
}
