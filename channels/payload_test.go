package channels_test

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/internal/hostile"
	"github.com/f2b-notify/f2b-notify/report"
)

// payloadNoSecret fails the test if body shows a secret in any form.
func payloadNoSecret(t *testing.T, what string, body []byte, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		for _, form := range []string{s, url.PathEscape(s), url.QueryEscape(s)} {
			if len(form) >= 4 && bytes.Contains(body, []byte(form)) {
				t.Errorf("%s: payload shows the secret %q:\n%s", what, s, body)
			}
		}
	}
}

// TestPayloadsAreTheRequestBodies: preview --payload shows, for the HTTP
// channels, the JSON they would send, one body per request and line; it
// holds the message and no secret.
func TestPayloadsAreTheRequestBodies(t *testing.T) {
	for _, c := range []struct {
		name     string
		kind     string
		settings map[string]any
		format   channels.Format
		body     string   // of format; default <b>hello</b>
		pages    []string // the pages of a split report
		secrets  []string
		want     []string // in every body
		not      []string // in no body
	}{
		{name: "telegram", kind: "telegram", settings: map[string]any{"token": "123456789:AAsecretsecretsecretsecretsecret123", "chat_id": "-1001"},
			format: channels.TelegramHTML, secrets: []string{"AAsecretsecret"}},
		{name: "matrix", kind: "matrix", settings: map[string]any{"homeserver": "https://m.example", "access_token": "syt_secret_token", "room": "!r:m.example"},
			format: channels.MatrixFormat, secrets: []string{"syt_secret"}},
		{name: "slack webhook", kind: "slack", settings: map[string]any{"webhook_url": "https://hooks.slack.com" + slackHookPath},
			format: channels.SlackFormat, secrets: []string{slackHookPath, "slackHookSecret0123456789", "hooks.slack.com"},
			want: []string{`"text":"S"`, `"type":"mrkdwn"`, `"verbatim":true`, `"unfurl_links":false`},
			not:  []string{`"channel"`, `"parse"`, `"link_names"`}},
		{name: "slack bot", kind: "slack", settings: map[string]any{"token": slackToken, "channel": "C0123456789"},
			format: channels.SlackFormat, secrets: []string{slackToken, "slackBotSecret0123456789"},
			want: []string{`"channel":"C0123456789"`, `"parse":"none"`, `"link_names":false`, `"text":"S"`}},
		{name: "discord", kind: "discord", settings: map[string]any{"webhook_url": "https://discord.com" + discordPath, "username": "f2b"},
			format: channels.DiscordFormat, secrets: []string{discordPath, "discordSecretToken-0123456789abcdef", "discord.com"},
			want: []string{`"content":"<b>hello</b>"`, `"username":"f2b"`, `"allowed_mentions":{"parse":[]}`, `"flags":4`}},
		{name: "discord split", kind: "discord", settings: map[string]any{"webhook_url": "https://discord.com" + discordPath, "split": true},
			format: channels.DiscordFormat, pages: []string{"hello (part 1 of 3)", "hello (part 2 of 3)", "hello (part 3 of 3)"},
			secrets: []string{discordPath, "discordSecretToken-0123456789abcdef"}, want: []string{`"allowed_mentions":{"parse":[]}`}},
		{name: "ntfy token", kind: "ntfy", settings: map[string]any{"server": "https://ntfy.example", "topic": "f2b", "token": ntfyToken, "priority": "high", "tags": []string{"warning"}},
			format: channels.Text, body: "hello", secrets: []string{ntfyToken},
			want: []string{`"topic":"f2b"`, `"message":"hello"`, `"title":"S"`, `"priority":4`, `"tags":["warning"]`}, not: []string{"markdown"}},
		{name: "ntfy password", kind: "ntfy", settings: map[string]any{"topic": "f2b", "username": "u", "password": ntfyPassword, "markdown": true, "title": "T"},
			format: channels.Markdown, secrets: []string{ntfyPassword, "dTpudGZ5"},
			want: []string{`"message":"<b>hello</b>"`, `"title":"T"`, `"markdown":true`}},
		{name: "teams", kind: "teams", settings: map[string]any{"webhook_url": "https://prod.westeurope.logic.azure.com" + teamsPath + "?" + teamsQuery},
			format: channels.TeamsFormat, body: "**hello** world", secrets: []string{teamsQuery, "teamsSecretSig0123456789abcdef", teamsPath, "logic.azure.com"},
			want: []string{`"fallbackText":"S"`, `{"type":"TextRun","text":"hello","weight":"Bolder"}`, `"contentUrl":null`}},
		{name: "webhook json", kind: "webhook", settings: map[string]any{"url": "https://hooks.example/in/webhookSecretPath0123456789?key=webhookQuerySecret", "token": "webhookBearerSecret",
			"headers": map[string]string{"X-Api-Key": "webhookHeaderSecret"}},
			format: channels.JSONFormat, body: `{"host": "hello"}`, secrets: []string{"webhookSecretPath0123456789", "webhookQuerySecret", "webhookBearerSecret", "webhookHeaderSecret", "hooks.example"},
			want: []string{`{"subject":"S","text":"hello","digest":{"host":"hello"}}`}},
		{name: "webhook template", kind: "webhook", settings: map[string]any{"url": "https://hooks.example/in?key=webhookQuerySecret", "format": "template", "method": "PUT"},
			format: channels.JSONFormat, body: `{"msg": "hello"}`, secrets: []string{"webhookQuerySecret"}, want: []string{`{"msg": "hello"}`}},
	} {
		ch, err := channels.New("p", c.kind, c.settings)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		p, ok := ch.(channels.Payloader)
		if !ok {
			t.Fatalf("%s has no Payload", c.name)
		}
		body := c.body
		if body == "" {
			body = "<b>hello</b>"
		}
		if len(c.pages) > 0 {
			body = c.pages[0]
		}
		m := channels.Message{Subject: "S", Bodies: map[channels.Format]string{channels.Text: "hello"}, Pages: c.pages}
		m.Bodies[c.format] = body
		out, err := p.Payload(m)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		payloadNoSecret(t, c.name, out, c.secrets...)
		lines := strings.Split(string(out), "\n")
		if want := max(len(c.pages), 1); len(lines) != want {
			t.Fatalf("%s: %d bodies, want %d:\n%s", c.name, len(lines), want, out)
		}
		for i, line := range lines {
			if !json.Valid([]byte(line)) || !strings.Contains(line, "hello") {
				t.Errorf("%s: body %d is not JSON holding the message: %s", c.name, i+1, line)
			}
			if len(c.pages) > 0 && !strings.Contains(line, c.pages[i]) {
				t.Errorf("%s: body %d does not hold page %d: %s", c.name, i+1, i+1, line)
			}
			for _, w := range c.want {
				if !strings.Contains(line, w) {
					t.Errorf("%s: body %d lacks %s: %s", c.name, i+1, w, line)
				}
			}
			for _, n := range c.not {
				if strings.Contains(line, n) {
					t.Errorf("%s: body %d has %s: %s", c.name, i+1, n, line)
				}
			}
		}
	}
}

// TestPayloadIsWhatIsSent: for each HTTP channel kind, the bodies a fake
// platform receives when the message is sent, one per line, are Payload's
// output byte for byte: the sample report, every hostile one, and a report
// split into several messages.
func TestPayloadIsWhatIsSent(t *testing.T) {
	digests := []*report.Digest{sampleDigest()}
	for i := range hostile.Corpus() {
		digests = append(digests, hostileDigest(i))
	}
	for _, c := range []struct {
		name     string
		kind     string
		answer   fakeAnswer
		settings func(srv *fakeServer) map[string]any
		secrets  func(srv *fakeServer) []string
		digests  []*report.Digest
		pages    bool // the report must be split
	}{
		{name: "slack webhook", kind: "slack", answer: slackWebhook,
			settings: func(srv *fakeServer) map[string]any { return map[string]any{"webhook_url": srv.URL + slackHookPath} },
			secrets:  slackSecrets},
		{name: "slack bot", kind: "slack", answer: slackAPI,
			settings: func(srv *fakeServer) map[string]any {
				return map[string]any{"token": slackToken, "channel": "C0123456789", "api_url": srv.URL + "/api/"}
			},
			secrets: slackSecrets},
		{name: "discord", kind: "discord", answer: discordFake,
			settings: func(srv *fakeServer) map[string]any { return discordSettings(srv, map[string]any{"username": "f2b"}) },
			secrets:  discordSecrets},
		{name: "discord split", kind: "discord", answer: discordFake, pages: true, digests: []*report.Digest{bigDigest(300)},
			settings: func(srv *fakeServer) map[string]any { return discordSettings(srv, map[string]any{"split": true}) },
			secrets:  discordSecrets},
		{name: "ntfy", kind: "ntfy", answer: ntfyFake("Bearer " + ntfyToken),
			settings: func(srv *fakeServer) map[string]any {
				return ntfySettings(srv, map[string]any{"token": ntfyToken, "priority": "high", "tags": []string{"warning"}})
			},
			secrets: func(*fakeServer) []string { return []string{ntfyToken} }},
		{name: "ntfy markdown", kind: "ntfy", answer: ntfyFake(""),
			settings: func(srv *fakeServer) map[string]any {
				return ntfySettings(srv, map[string]any{"markdown": true, "title": "Bans"})
			},
			secrets: func(*fakeServer) []string { return nil }},
		{name: "teams", kind: "teams", answer: teamsWorkflow,
			settings: func(srv *fakeServer) map[string]any { return map[string]any{"webhook_url": teamsURL(srv)} },
			secrets:  teamsSecrets},
		{name: "webhook json", kind: "webhook", answer: fakeReply(200, nil, ""),
			settings: func(srv *fakeServer) map[string]any {
				return map[string]any{"url": srv.URL + "/in/webhookSecretPath0123456789", "token": "webhookBearerSecret", "headers": map[string]string{"X-Api-Key": "webhookHeaderSecret"}}
			},
			secrets: func(*fakeServer) []string {
				return []string{"webhookSecretPath0123456789", "webhookBearerSecret", "webhookHeaderSecret"}
			}},
		{name: "webhook template text", kind: "webhook", answer: fakeReply(200, nil, ""),
			settings: func(srv *fakeServer) map[string]any {
				return map[string]any{"url": srv.URL + "/in?key=webhookQuerySecret", "format": "template", "template_format": "text", "method": "PUT"}
			},
			secrets: func(*fakeServer) []string { return []string{"webhookQuerySecret"} }},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := newFakeServer(t, c.answer)
			ch := newTestChannel(t, c.kind, c.settings(srv))
			p, ok := ch.(channels.Payloader)
			if !ok {
				t.Fatalf("%s has no Payload", c.kind)
			}
			ds := c.digests
			if ds == nil {
				ds = digests
			}
			for i, d := range ds {
				m := renderReport(t, ch, noAttachments, d) // the payload is the report's
				if c.pages && len(m.Pages) < 2 {
					t.Fatalf("report %d: %d pages, want several", i, len(m.Pages))
				}
				before := len(srv.requests())
				if err := sendOnce(testCtx(t), ch, m); err != nil {
					t.Fatalf("report %d: send: %v", i, err)
				}
				var sent [][]byte
				for _, r := range srv.requests()[before:] {
					if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
						continue // an attachment, posted after the report: not in the payload
					}
					sent = append(sent, r.Body)
				}
				if want := max(len(m.Pages), 1); len(sent) != want {
					t.Fatalf("report %d: %d requests, want %d", i, len(sent), want)
				}
				payload, err := p.Payload(m)
				if err != nil {
					t.Fatalf("report %d: payload: %v", i, err)
				}
				if got := bytes.Join(sent, []byte("\n")); !bytes.Equal(payload, got) {
					t.Errorf("report %d: payload is not what was sent:\n--- payload\n%s\n--- sent\n%s", i, payload, got)
				}
				payloadNoSecret(t, c.name, payload, c.secrets(srv)...)
			}
		})
	}
}
