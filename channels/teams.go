package channels

// Microsoft Teams: an incoming webhook, either a Workflows ("Post to a
// channel when a webhook request is received") URL or a legacy Office 365
// connector URL. Both take an Adaptive Card.
//
// Settings of "teams":
//
//	webhook_url  the webhook URL; a secret (it holds a signature or token), so
//	             usually webhook_url_file
//
// The report is rendered with the dialect "teams" and sent as an Adaptive
// Card (schema 1.2) whose body is one RichTextBlock per line of the report,
// made of TextRuns. Adaptive Cards document that TextRun text is never read
// as Markdown ("Text to display. Markdown is not supported."), unlike a
// TextBlock, so no Markdown in attacker text can format, link or mention.
// The dialect has one markup of its own, read by this channel and not by
// Teams: ** around text makes it bold (a TextRun with weight Bolder); its
// escaper turns every * in a value into a look-alike, so only the template can
// make text bold. See escapeTeams in templates/escape.go.
//
// API facts this file relies on (learn.microsoft.com: "Create and send
// messages" for connectors and Workflows, "Format cards in Microsoft Teams",
// the Adaptive Cards schema for TextRun; atc0005/go-teams-notify):
//   - Payload: {"type": "message", "attachments": [{"contentType":
//     "application/vnd.microsoft.card.adaptive", "contentUrl": null,
//     "content": <the card>}]}.
//   - Success: a Workflows URL answers 202 Accepted; a connector answers 200
//     with the body "1". A connector may answer 200 with a failure in text,
//     such as "Webhook message delivery failed with error: Microsoft Teams
//     endpoint returned HTTP error 429 with ContextId ...": such an answer is
//     judged by the status it quotes.
//   - Size: a message holds about 28 KB; connectors have been seen refusing
//     (413) bodies of 14 to 20 KB, apparently counting two bytes a
//     character. Limit is 12,000 bytes of the whole JSON payload.
//   - TextRun text still expands the {{DATE(...)}} and {{TIME(...)}}
//     functions, so the escaper breaks "{{".
//
// github.com/nikoksr/notify's msteams service is judged sound, but it sends
// the body in a TextBlock, which Teams reads as Markdown (so attacker text
// could format and link), puts the webhook URL in its errors, and would add
// github.com/atc0005/go-teams-notify to the build; this file posts the card
// itself with this package's HTTP helpers.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/f2b-notify/f2b-notify/internal/secret"
	"github.com/f2b-notify/f2b-notify/templates"
)

// TeamsFormat is the dialect of this channel's Adaptive Card text.
const TeamsFormat = templates.Teams

// teamsLimit is the largest JSON payload sent, in bytes (see above).
const teamsLimit = 12000

type teamsSettings struct {
	WebhookURL string `mapstructure:"webhook_url"`
}

// Teams is a channel that posts the report to a Microsoft Teams webhook.
type Teams struct {
	name    string
	url     string
	secrets []string
	client  *http.Client
}

func newTeams(name string, settings map[string]any) (Channel, error) {
	var s teamsSettings
	if err := Decode(name, settings, &s); err != nil {
		return nil, err
	}
	if s.WebhookURL == "" {
		return nil, fmt.Errorf("channel %q: key webhook_url: missing", name)
	}
	if err := checkURL(name, "webhook_url", s.WebhookURL); err != nil {
		return nil, err
	}
	return &Teams{name: name, url: s.WebhookURL, secrets: secret.URLParts(s.WebhookURL), client: NewHTTPClient()}, nil
}

// Name implements Channel.
func (c *Teams) Name() string { return c.name }

// CredentialURLs implements CredentialSender: the webhook URL holds its
// signature.
func (c *Teams) CredentialURLs() []string { return []string{c.url} }

// Formats implements Channel: the teams dialect.
func (c *Teams) Formats() []Format { return []Format{TeamsFormat} }

// Limit implements Channel: bytes of the payload, as Measure counts them.
func (c *Teams) Limit() int { return teamsLimit }

// Measure implements Measurer: the bytes of the JSON payload that carries
// body, with room for the longest subject.
func (c *Teams) Measure(body string) int {
	b, err := teamsPayload(strings.Repeat("x", 6*templates.MaxSubjectRunes), body)
	if err != nil {
		return teamsLimit + 1
	}
	return len(b)
}

type teamsRun struct {
	Type   string `json:"type"`
	Text   string `json:"text"`
	Weight string `json:"weight,omitempty"`
}

type teamsBlock struct {
	Type    string     `json:"type"`
	Inlines []teamsRun `json:"inlines"`
	Spacing string     `json:"spacing,omitempty"`
}

type teamsCard struct {
	Type         string            `json:"type"`
	Schema       string            `json:"$schema"`
	Version      string            `json:"version"`
	FallbackText string            `json:"fallbackText,omitempty"`
	MSTeams      map[string]string `json:"msteams"`
	Body         []teamsBlock      `json:"body"`
}

type teamsAttachment struct {
	ContentType string    `json:"contentType"`
	ContentURL  *string   `json:"contentUrl"`
	Content     teamsCard `json:"content"`
}

type teamsMessage struct {
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

// teamsPayload builds the message: one RichTextBlock per non-empty line of
// body, "**" toggling bold, a blank line giving the next block more space.
func teamsPayload(subject, body string) ([]byte, error) {
	var blocks []teamsBlock
	gap := false
	for _, line := range strings.Split(body, "\n") {
		var runs []teamsRun
		for i, part := range strings.Split(line, "**") {
			if part == "" {
				continue
			}
			r := teamsRun{Type: "TextRun", Text: part}
			if i%2 == 1 {
				r.Weight = "Bolder"
			}
			runs = append(runs, r)
		}
		if strings.TrimSpace(line) == "" || len(runs) == 0 {
			gap = len(blocks) > 0
			continue
		}
		b := teamsBlock{Type: "RichTextBlock", Inlines: runs}
		if gap {
			b.Spacing = "Medium"
		}
		gap = false
		blocks = append(blocks, b)
	}
	if len(blocks) == 0 {
		blocks = []teamsBlock{{Type: "RichTextBlock", Inlines: []teamsRun{{Type: "TextRun", Text: subject, Weight: "Bolder"}}}}
	}
	return JSON(teamsMessage{
		Type: "message",
		Attachments: []teamsAttachment{{
			ContentType: "application/vnd.microsoft.card.adaptive",
			Content: teamsCard{
				Type:         "AdaptiveCard",
				Schema:       "http://adaptivecards.io/schemas/adaptive-card.json",
				Version:      "1.2",
				FallbackText: subject,
				MSTeams:      map[string]string{"width": "Full"},
				Body:         blocks,
			},
		}},
	})
}

// Payload implements Payloader: the message Send posts for the message's
// first format, an Adaptive Card. The webhook URL, which holds the
// signature, is not in it.
func (c *Teams) Payload(m Message) ([]byte, error) {
	return teamsPayload(m.Subject, m.Bodies[TeamsFormat])
}

// teamsQuoted finds the status a connector quotes in a 200 answer.
var teamsQuoted = lazyRegexp(`returned HTTP error (\d{3})`)

// Send posts the report as an Adaptive Card; the subject is the card's
// fallback text, which Teams shows in notifications.
func (c *Teams) Send(ctx context.Context, subject, body string) error {
	b, err := teamsPayload(subject, body)
	if err != nil {
		return err
	}
	a, err := Do(ctx, c.client, HTTPRequest{
		URL:     c.url,
		Header:  map[string]string{"Content-Type": "application/json; charset=utf-8"},
		Body:    b,
		Secrets: c.secrets,
	})
	if err != nil {
		return err
	}
	text := strings.TrimSpace(string(a.Body))
	if a.Status >= 200 && a.Status <= 299 {
		if a.Status != http.StatusOK || text == "" || text == "1" {
			return nil
		}
		// A connector's failure, delivered with 200.
		m := teamsQuoted().FindStringSubmatch(text)
		if m == nil {
			return Permanent(Redact(fmt.Errorf("unexpected answer (want 1): %s", cutBytes(text, 300)), c.secrets...))
		}
		quoted, _ := strconv.Atoi(m[1])
		if quoted >= 200 && quoted <= 299 {
			return Permanent(errors.New("unexpected answer: " + cutBytes(RedactString(text, c.secrets...), 300)))
		}
		a = &HTTPAnswer{Status: quoted, Header: a.Header, Body: a.Body}
	}
	// Workflows answer {"error": {"code": "...", "message": "..."}}.
	var ans struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	reason := ""
	if json.Unmarshal(a.Body, &ans) == nil && (ans.Error.Code != "" || ans.Error.Message != "") {
		reason = strings.TrimPrefix(ans.Error.Code+": "+ans.Error.Message, ": ")
		reason = RedactString(cutBytes(reason, 300), c.secrets...)
	}
	return HTTPError(a, reason, 0, c.secrets...)
}
