package channels

// Discord: a channel webhook.
//
// Settings of "discord":
//
//	webhook_url  the webhook, https://discord.com/api/webhooks/ID/TOKEN; a secret,
//	             so usually webhook_url_file
//	username     the name the message is posted under, instead of the webhook's
//	             own (optional, 1 to 80 characters)
//	split        true: send a report longer than one message as several messages
//	             (part 1 of N, ...) instead of cutting offender rows; default false
//	max_messages default 10 (1 to 100): a split report takes at most this many
//	             messages, the last one cut with "and N more offenders"
//
// The report is the message content, rendered with the dialect "discord"
// (Discord's markdown), whose escaper puts a backslash before every character
// that could start markup in attacker text; see escapeDiscord in templates/escape.go.
//
// API facts this file relies on (discord.com/developers/docs, the
// discord/discord-api-docs repository: resources/webhook, resources/message,
// topics/rate-limits, reference):
//   - Execute Webhook: POST to the webhook URL with JSON {content, username,
//     allowed_mentions, flags}; content holds up to 2000 characters. With
//     ?wait=true Discord confirms the message was saved (HTTP 200 and the
//     message) or answers the error; without it a message that is not saved
//     "does not return an error".
//   - allowed_mentions {"parse": []} allows no mention at all: @everyone,
//     @here, users and roles in the content notify no one, whatever the
//     content holds. It is sent always.
//   - flags 4 (SUPPRESS_EMBEDS, one of the flags a webhook may set) keeps
//     links from being previewed.
//   - Errors are JSON {"code": ..., "message": ...}: 400 50035 Invalid Form
//     Body (with the field errors, such as content BASE_TYPE_MAX_LENGTH), 401
//     50027 Invalid Webhook Token, 404 10015 Unknown Webhook. 429 carries
//     {"retry_after": seconds as a float, "global": bool} and a Retry-After
//     header.
//
//   - Uploading files: the same POST as multipart/form-data, the message's
//     JSON in the part payload_json (Content-Type application/json), each
//     file in a part files[n] whose Content-Disposition has a filename, and
//     "attachments": [{"id": n, "filename": ..., "description": ...}] in the
//     JSON (description is the alt text, up to 1024 characters). A file may
//     hold 10 MiB by default (more in boosted servers); over it Discord
//     answers 413 40005 Request entity too large.
//
// Attachments (the chart, and the full list of offenders when the report
// was cut) are each a webhook message of their own after the report (after
// its last message when split), with the caption as content, escaped as the
// report's text is, and the same verdicts as the report's.
//
// github.com/nikoksr/notify's service/http could post this JSON, but its
// errors show the webhook URL (which holds the token) and drop Discord's
// answer and Retry-After, so the channel uses this package's HTTP helpers.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/f2b-notify/f2b-notify/internal/secret"
	"github.com/f2b-notify/f2b-notify/internal/textutil"
	"github.com/f2b-notify/f2b-notify/templates"
)

// DiscordFormat is the dialect of Discord's markdown.
const DiscordFormat = templates.Discord

const (
	// discordLimit is the most characters a message's content may hold.
	discordLimit = 2000
	// discordSuppressEmbeds is the message flag SUPPRESS_EMBEDS.
	discordSuppressEmbeds = 1 << 2
	// discordMaxFile is the most bytes a file may hold in a server without
	// boosts.
	discordMaxFile = 10 << 20
	// discordMaxDescription is the most characters of a file's alt text.
	discordMaxDescription = 1024
)

type discordSettings struct {
	WebhookURL  string `mapstructure:"webhook_url"`
	Username    string `mapstructure:"username"`
	Split       bool   `mapstructure:"split"`
	MaxMessages *int   `mapstructure:"max_messages"`
}

// Discord is a channel that posts the report through a Discord webhook.
type Discord struct {
	name     string
	url      string // with ?wait=true
	secrets  []string
	username string
	split    bool
	maxMsgs  int
	client   *http.Client
}

func newDiscord(name string, settings map[string]any) (Channel, error) {
	var s discordSettings
	if err := Decode(name, settings, &s); err != nil {
		return nil, err
	}
	if s.WebhookURL == "" {
		return nil, fmt.Errorf("channel %q: key webhook_url: missing (https://discord.com/api/webhooks/ID/TOKEN)", name)
	}
	if err := checkURL(name, "webhook_url", s.WebhookURL); err != nil {
		return nil, err
	}
	if n := utf8.RuneCountInString(s.Username); s.Username != "" && (n > 80 || strings.TrimSpace(s.Username) == "" || strings.IndexFunc(s.Username, textutil.IsASCIIControl) >= 0) {
		return nil, fmt.Errorf("channel %q: key username: want 1 to 80 characters, no control characters", name)
	}
	maxMsgs, err := maxMessages(name, s.MaxMessages)
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(s.WebhookURL) // checked above
	q := u.Query()
	q.Set("wait", "true")
	u.RawQuery = q.Encode()
	return &Discord{
		name:     name,
		url:      u.String(),
		secrets:  append(secret.URLParts(s.WebhookURL), secret.URLParts(u.String())...),
		username: s.Username,
		split:    s.Split,
		maxMsgs:  maxMsgs,
		client:   NewHTTPClient(),
	}, nil
}

// Name implements Channel.
func (c *Discord) Name() string { return c.name }

// CredentialURLs implements CredentialSender: the webhook URL holds its
// token.
func (c *Discord) CredentialURLs() []string { return []string{c.url} }

// Formats implements Channel: Discord's markdown.
func (c *Discord) Formats() []Format { return []Format{DiscordFormat} }

// Limit implements Channel: 2000, in the units of Measure.
func (c *Discord) Limit() int { return discordLimit }

// Measure implements Measurer: UTF-16 code units, never fewer than the
// characters Discord counts.
func (c *Discord) Measure(body string) int { return utf16Len(body) }

// Split implements Splitter.
func (c *Discord) Split() bool { return c.split }

// MaxMessages implements Splitter.
func (c *Discord) MaxMessages() int { return c.maxMsgs }

type discordMentions struct {
	Parse []string `json:"parse"` // always empty, never null
}

type discordPayload struct {
	Content         string              `json:"content"`
	Username        string              `json:"username,omitempty"`
	AllowedMentions discordMentions     `json:"allowed_mentions"`
	Flags           int                 `json:"flags,omitempty"`
	Attachments     []discordAttachment `json:"attachments,omitempty"`
}

// discordAttachment describes the file uploaded as files[ID].
type discordAttachment struct {
	ID          int    `json:"id"`
	Filename    string `json:"filename"`
	Description string `json:"description,omitempty"`
}

// Send posts body as one message. The subject is not sent: the report's
// first line says the same.
func (c *Discord) Send(ctx context.Context, subject, body string) error {
	b, err := c.request(subject, body)
	if err != nil {
		return err
	}
	return c.post(ctx, b, "application/json")
}

// Attaches implements Attacher: the chart and the full list, each as a file
// of a message of its own.
func (c *Discord) Attaches(k AttachmentKind) bool { return k == Chart || k == FullList }

// SendAttachment implements AttachmentSender: it executes the webhook with
// a uploaded as files[0], its caption as the message's content and alt
// text. One attempt, its error classified like Send's.
func (c *Discord) SendAttachment(ctx context.Context, a Attachment) error {
	if err := checkFile(a, discordMaxFile, "Discord's 10 MiB for a file"); err != nil {
		return err
	}
	caption := strings.TrimSpace(a.Caption)
	payload, err := JSON(discordPayload{
		Content:         cutUTF16(templates.Escape(DiscordFormat, caption), discordLimit),
		Username:        c.username,
		AllowedMentions: discordMentions{Parse: []string{}},
		Attachments:     []discordAttachment{{ID: 0, Filename: a.Name, Description: cutUTF16(caption, discordMaxDescription)}},
	})
	if err != nil {
		return err
	}
	body, contentType, err := multipartForm([]formPart{
		{Name: "payload_json", Value: payload, Type: "application/json"},
		formFile("files[0]", a),
	})
	if err != nil {
		return err
	}
	return c.post(ctx, body, contentType)
}

// post executes the webhook with body and judges Discord's answer.
func (c *Discord) post(ctx context.Context, body []byte, contentType string) error {
	a, err := Do(ctx, c.client, HTTPRequest{URL: c.url, Body: body, Header: map[string]string{"Content-Type": contentType}, Secrets: c.secrets})
	if err != nil {
		return err
	}
	var ans struct {
		Code       int      `json:"code"`
		Message    string   `json:"message"`
		RetryAfter *float64 `json:"retry_after"`
		Global     bool     `json:"global"`
		Errors     any      `json:"errors"`
	}
	_ = json.Unmarshal(a.Body, &ans) // an answer that is not JSON is quoted as it is
	reason := ""
	if ans.Message != "" {
		reason = ans.Message
		if ans.Code != 0 {
			reason = fmt.Sprintf("%s (code %d)", reason, ans.Code)
		}
		if ans.Errors != nil {
			if detail, err := json.Marshal(ans.Errors); err == nil {
				reason += ": " + cutBytes(string(detail), 300)
			}
		}
		reason = RedactString(reason, c.secrets...)
	}
	var after time.Duration
	if ans.RetryAfter != nil && *ans.RetryAfter > 0 {
		after = time.Duration(*ans.RetryAfter * float64(time.Second))
	}
	return HTTPError(a, reason, after, c.secrets...)
}

// request is the JSON body that executes the webhook for one message.
func (c *Discord) request(subject, body string) ([]byte, error) {
	if strings.TrimSpace(body) == "" {
		body = templates.Escape(DiscordFormat, subject)
	}
	return JSON(discordPayload{
		Content:         body,
		Username:        c.username,
		AllowedMentions: discordMentions{Parse: []string{}},
		Flags:           discordSuppressEmbeds,
	})
}

// Payload implements Payloader: the body of each message Deliver posts,
// one per line, in order (the pages of a split report, or the one message).
// The webhook URL, which holds the token, is not in them.
func (c *Discord) Payload(m Message) ([]byte, error) {
	return pagePayloads(m.Messages(DiscordFormat), func(p string) ([]byte, error) { return c.request(m.Subject, p) })
}
