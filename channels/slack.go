package channels

// Slack: an incoming webhook, or a bot token calling chat.postMessage.
//
// Settings of "slack" (give webhook_url, or token and channel):
//
//	webhook_url  the incoming webhook, https://hooks.slack.com/services/...; a secret,
//	             so usually webhook_url_file
//	token        a bot token (xoxb-...) with the chat:write scope, and files:write
//	             for the chart and the full list; a secret, so usually token_file
//	channel      with token: the conversation to post to, an ID such as C0123456789
//	             (or a #name the bot is a member of)
//	api_url      with token: the Web API base, default https://slack.com/api (set it
//	             to point at a test server)
//
// The report is sent as Block Kit: one section block per part of the body
// (a section holds at most 3000 characters; a message at most 50 blocks), each
// a mrkdwn text object with "verbatim": true, and the escaped subject as the
// top-level "text", which Slack shows in notifications. The body is rendered
// with the dialect "slack" (Slack's mrkdwn), whose escaper makes attacker
// text inert; see escapeSlack in templates/escape.go for what it does and why.
//
// API facts this file relies on (docs.slack.dev, api.slack.com):
//   - Escaping: "Slack uses &, <, and > as control characters for special
//     parsing in text objects, so they must be converted to HTML entities";
//     only those three are decoded, so nothing else may be entity-encoded.
//     Mentions (<!channel>, <!here>, <@U…>, <#C…>, <!subteam^…>), dates
//     (<!date^…>) and links (<url|text>) all start with "<": escaping "<"
//     makes every one of them impossible in attacker text.
//   - A mrkdwn text object's "verbatim": by default "URLs will be
//     auto-converted into links, conversation names will be link-ified, and
//     certain mentions will be automatically parsed"; with true, Slack "will
//     continue to process all markdown formatting and manual parsing strings,
//     but it won't modify any plain-text content" (Block Kit reference, text
//     object). Formatting (*bold*, _italic_, ~strike~, `code`, > quote) still
//     applies, and mrkdwn has no escape character, hence the look-alikes.
//   - Limits: section text 1 to 3000 characters, 50 blocks per message. The
//     40,000-character truncation of chat.postMessage's text is outdated: a
//     Slack SDK maintainer notes that text of about 4,000 characters now gets
//     msg_too_long (slackapi/ChatGPT-in-Slack#102), and blocks whose text
//     passes about 12,000 characters in all get msg_blocks_too_long (the
//     markdown block documents a 12,000 cumulative limit; slackapi/bolt-js
//     #2509 and #2867 found it applies to section blocks too). Limit is
//     therefore 10,000, counted in UTF-16 code units (never fewer than
//     characters), which leaves room for the notification text.
//   - chat.postMessage answers HTTP 200 with {"ok": false, "error": "..."}
//     for its errors; rate limiting is HTTP 429 with Retry-After (seconds)
//     and "error": "ratelimited". Incoming webhooks answer plain text: 200
//     "ok"; 400 invalid_payload, user_not_found; 403 action_prohibited; 404
//     channel_not_found, no_service; 410 channel_is_archived; 500 rollup_error
//     (api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks).
//   - unfurl_links and unfurl_media false: no preview of a link the report
//     might still show.
//   - Files (files.upload is retired): files.getUploadURLExternal (filename,
//     length, alt_txt of at most 1000 characters) answers upload_url and
//     file_id; the bytes are POSTed to upload_url, raw or as a form, and any
//     answer but 200 is a failure; files.completeUploadExternal (files, a
//     JSON array of {id, title}, and channel_id, which must be an ID) shares
//     the file. Both methods need the files:write scope (else missing_scope,
//     with "needed"), are of rate-limit tier 4 and answer like
//     chat.postMessage. The calls are form-encoded, as slack-go makes them;
//     the upload URL is the permission itself, and Slack's Python SDK posts
//     to it without the token, so the token does not go there. An incoming
//     webhook can post no file.
//
// github.com/nikoksr/notify's slack service is not used: it cannot be pointed
// at a test server and sends text unescaped (measured against v1.3.0).

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/f2b-notify/f2b-notify/internal/secret"
	"github.com/f2b-notify/f2b-notify/internal/textutil"
	"github.com/f2b-notify/f2b-notify/templates"
)

// SlackFormat is the dialect of Slack's mrkdwn.
const SlackFormat = templates.Slack

const (
	// slackLimit is the largest body sent, in UTF-16 code units (see above).
	slackLimit = 10000
	// slackSectionMax is the most a section block's text may hold.
	slackSectionMax = 3000
	// slackMaxBlocks is the most blocks a message may hold.
	slackMaxBlocks = 50
	// slackDefaultAPI is the Web API base URL.
	slackDefaultAPI = "https://slack.com/api"
)

type slackSettings struct {
	WebhookURL string `mapstructure:"webhook_url"`
	Token      string `mapstructure:"token"`
	Channel    string `mapstructure:"channel"`
	APIURL     string `mapstructure:"api_url"`
}

// Slack is a channel that posts the report to Slack.
type Slack struct {
	name    string
	webhook string // incoming webhook URL, or
	token   string // bot token,
	channel string // with the conversation
	api     string // and the Web API base URL
	client  *http.Client
	mu      sync.Mutex
	posted  string // the conversation ID chat.postMessage answered last
}

func newSlack(name string, settings map[string]any) (Channel, error) {
	var s slackSettings
	if err := Decode(name, settings, &s); err != nil {
		return nil, err
	}
	c := &Slack{name: name, client: NewHTTPClient()}
	switch {
	case s.WebhookURL != "" && s.Token != "":
		return nil, fmt.Errorf("channel %q: keys webhook_url and token are both set; keep one", name)
	case s.WebhookURL != "":
		if err := checkURL(name, "webhook_url", s.WebhookURL); err != nil {
			return nil, err
		}
		if s.Channel != "" || s.APIURL != "" {
			return nil, fmt.Errorf("channel %q: keys channel and api_url go with token; an incoming webhook posts to the channel it was made for", name)
		}
		c.webhook = s.WebhookURL
	case s.Token != "":
		if strings.IndexFunc(s.Token, textutil.IsBlankOrControl) >= 0 {
			return nil, fmt.Errorf("channel %q: key token: contains a space or a control character", name)
		}
		if strings.TrimSpace(s.Channel) == "" {
			return nil, fmt.Errorf("channel %q: key channel: required with token (a conversation ID such as C0123456789)", name)
		}
		c.token, c.channel, c.api = s.Token, strings.TrimSpace(s.Channel), slackDefaultAPI
		if s.APIURL != "" {
			if err := checkURL(name, "api_url", s.APIURL); err != nil {
				return nil, err
			}
			c.api = strings.TrimRight(s.APIURL, "/")
		}
	default:
		return nil, fmt.Errorf("channel %q: key webhook_url (or token and channel): missing", name)
	}
	return c, nil
}

// Name implements Channel.
func (c *Slack) Name() string { return c.name }

// CredentialURLs implements CredentialSender: the incoming webhook, whose
// URL is the secret, or the Web API that the token goes to.
func (c *Slack) CredentialURLs() []string {
	if c.webhook != "" {
		return []string{c.webhook}
	}
	return []string{c.api}
}

// Formats implements Channel: Slack's mrkdwn.
func (c *Slack) Formats() []Format { return []Format{SlackFormat} }

// Limit implements Channel, in the units of Measure.
func (c *Slack) Limit() int { return slackLimit }

// Measure implements Measurer: UTF-16 code units, which is never fewer than
// the characters Slack counts.
func (c *Slack) Measure(body string) int { return utf16Len(body) }

// slackText is a Block Kit text object.
type slackText struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Verbatim bool   `json:"verbatim"`
}

// slackBlock is a section block.
type slackBlock struct {
	Type string    `json:"type"`
	Text slackText `json:"text"`
}

// slackPayload is the body of chat.postMessage and of an incoming webhook.
type slackPayload struct {
	Channel     string       `json:"channel,omitempty"`
	Text        string       `json:"text"`
	Blocks      []slackBlock `json:"blocks"`
	UnfurlLinks bool         `json:"unfurl_links"`
	UnfurlMedia bool         `json:"unfurl_media"`
	// chat.postMessage only: no automatic parsing of names and URLs.
	Parse     string `json:"parse,omitempty"`
	LinkNames *bool  `json:"link_names,omitempty"`
}

// Send posts one message: body (mrkdwn, escaped by the slack dialect) as
// section blocks, the subject as the notification text.
func (c *Slack) Send(ctx context.Context, subject, body string) error {
	b, err := c.request(subject, body)
	if err != nil {
		return err
	}
	if c.webhook != "" {
		return c.sendWebhook(ctx, b)
	}
	return c.postMessage(ctx, b)
}

// Payload implements Payloader: the one body Send posts for the message's
// first format, to the incoming webhook or to chat.postMessage (then with
// channel, parse and link_names). The webhook URL and the token are not in
// it: they travel in the URL and the Authorization header.
func (c *Slack) Payload(m Message) ([]byte, error) {
	return c.request(m.Subject, m.Bodies[SlackFormat])
}

// request is the JSON body of the one request Send makes for a message.
func (c *Slack) request(subject, body string) ([]byte, error) {
	sections := slackSections(body)
	if len(sections) == 0 {
		sections = []string{templates.Escape(SlackFormat, subject)}
	}
	if len(sections) > slackMaxBlocks {
		return nil, Permanent(fmt.Errorf("the report needs %d section blocks, more than Slack's %d", len(sections), slackMaxBlocks))
	}
	// The notification text: the subject, which templates.Subject keeps to a
	// line of 200 characters; cut all the same, Slack refuses long text.
	p := slackPayload{Text: slackCut(templates.Escape(SlackFormat, subject), slackSectionMax)}
	for _, s := range sections {
		p.Blocks = append(p.Blocks, slackBlock{Type: "section", Text: slackText{Type: "mrkdwn", Text: s, Verbatim: true}})
	}
	if c.webhook == "" {
		// chat.postMessage: the conversation, and no automatic parsing.
		no := false
		p.Channel, p.Parse, p.LinkNames = c.channel, "none", &no
	}
	return JSON(p)
}

func (c *Slack) sendWebhook(ctx context.Context, b []byte) error {
	a, err := Do(ctx, c.client, HTTPRequest{URL: c.webhook, Body: b, Secrets: secret.URLParts(c.webhook)})
	if err != nil {
		return err
	}
	// Errors are one word of plain text, such as channel_is_archived.
	return HTTPError(a, "", 0, secret.URLParts(c.webhook)...)
}

// slackAnswer is what the Web API answers; with missing_scope, needed is
// the scope the method wants.
type slackAnswer struct {
	OK     bool   `json:"ok"`
	Error  string `json:"error"`
	Needed string `json:"needed"`
}

// slackRetryable are the Web API errors worth another attempt; any
// other error (invalid_auth, channel_not_found, not_in_channel, is_archived,
// msg_too_long, invalid_blocks, file_uploads_disabled, ...) is final.
var slackRetryable = map[string]bool{
	"internal_error":      true,
	"fatal_error":         true,
	"service_unavailable": true,
	"request_timeout":     true,
	"team_added_to_org":   true,
}

func (c *Slack) postMessage(ctx context.Context, b []byte) error {
	var ans struct {
		Channel string `json:"channel"`
	}
	if err := c.call(ctx, "chat.postMessage", "application/json; charset=utf-8", b, &ans); err != nil {
		return err
	}
	if ans.Channel != "" {
		c.mu.Lock()
		c.posted = ans.Channel
		c.mu.Unlock()
	}
	return nil
}

// call calls the Web API method with body and judges the answer, which it
// decodes into out (if not nil) when ok.
func (c *Slack) call(ctx context.Context, method, contentType string, body []byte, out any) error {
	secrets := []string{c.token}
	a, err := Do(ctx, c.client, HTTPRequest{
		URL:     c.api + "/" + method,
		Header:  map[string]string{"Content-Type": contentType, "Authorization": "Bearer " + c.token},
		Body:    body,
		Secrets: secrets,
	})
	if err != nil {
		return err
	}
	var ans slackAnswer
	jsonErr := json.Unmarshal(a.Body, &ans)
	if a.Status < 200 || a.Status > 299 {
		return HTTPError(a, RedactString(ans.Error, secrets...), 0, secrets...)
	}
	switch {
	case jsonErr != nil:
		return Permanent(fmt.Errorf("%s: answer is not the JSON Slack documents", method))
	case ans.OK:
		if out != nil {
			if err := json.Unmarshal(a.Body, out); err != nil {
				return Permanent(fmt.Errorf("%s: answer is not the JSON Slack documents: %w", method, err))
			}
		}
		return nil
	}
	reason := ans.Error
	if reason == "" {
		reason = "ok is false, no error given"
	}
	if reason == "missing_scope" {
		scope := cmp.Or(ans.Needed, slackScopes[method])
		reason += fmt.Sprintf(" (the token lacks the %s scope: add it to the Slack app and reinstall the app", scope)
		if strings.HasPrefix(method, "files.") {
			reason += ", or set attachments: [] on this channel"
		}
		reason += ")"
	}
	err = Redact(fmt.Errorf("%s: %s", method, reason), secrets...)
	switch {
	case reason == "ratelimited" || reason == "rate_limited":
		return &RetryAfterError{Err: err, After: ParseRetryAfter(a.Header.Get("Retry-After"))}
	case slackRetryable[reason]:
		return err
	}
	return Permanent(err)
}

// slackScopes is the scope each method this file calls needs.
var slackScopes = map[string]string{
	"chat.postMessage":             "chat:write",
	"files.getUploadURLExternal":   "files:write",
	"files.completeUploadExternal": "files:write",
}

// Attaches implements Attacher: with a bot token, the chart and the full
// list, uploaded as files; an incoming webhook can post no file.
func (c *Slack) Attaches(AttachmentKind) bool { return c.token != "" }

// slackAltTextMax is the most characters files.getUploadURLExternal takes
// in alt_txt.
const slackAltTextMax = 1000

// SendAttachment implements AttachmentSender: the file is uploaded and
// shared to the channel, after the report, its caption as its title.
func (c *Slack) SendAttachment(ctx context.Context, a Attachment) error {
	if c.token == "" {
		return Permanent(errors.New("an incoming webhook cannot post files"))
	}
	channel, err := c.channelID()
	if err != nil {
		return err
	}
	form := url.Values{"filename": {a.Name}, "length": {strconv.Itoa(len(a.Data))}}
	if a.Caption != "" && strings.HasPrefix(a.Type, "image/") {
		form.Set("alt_txt", slackCut(a.Caption, slackAltTextMax))
	}
	var up struct {
		UploadURL string `json:"upload_url"`
		FileID    string `json:"file_id"`
	}
	if err := c.call(ctx, "files.getUploadURLExternal", slackForm, []byte(form.Encode()), &up); err != nil {
		return err
	}
	if err := c.checkUploadURL(up.UploadURL); err != nil || up.FileID == "" {
		return Permanent(fmt.Errorf("files.getUploadURLExternal: the answer has no usable upload_url and file_id (%v)", err))
	}
	// The upload URL is the permission itself: no token goes there.
	secrets := []string{up.UploadURL, c.token}
	ans, err := Do(ctx, c.client, HTTPRequest{URL: up.UploadURL, Header: map[string]string{"Content-Type": a.Type}, Body: a.Data, Secrets: secrets})
	if err == nil {
		err = HTTPError(ans, "", 0, secrets...)
	}
	if err != nil {
		return fmt.Errorf("upload of %s to the URL files.getUploadURLExternal gave: %w", a.Name, err)
	}
	title := cmp.Or(a.Caption, a.Name)
	files, err := JSON([]struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}{{up.FileID, title}})
	if err != nil {
		return err
	}
	form = url.Values{"files": {string(files)}, "channel_id": {channel}}
	return c.call(ctx, "files.completeUploadExternal", slackForm, []byte(form.Encode()), nil)
}

// slackForm is the content type of a form-encoded Web API call.
const slackForm = "application/x-www-form-urlencoded"

// slackChannelID matches a conversation ID: a public or private channel, a
// group or a direct message.
var slackChannelID = lazyRegexp(`^[CGD][A-Z0-9]{2,}$`)

// channelID is the ID of the conversation files are shared to, which
// files.completeUploadExternal wants as an ID: the channel key if it is
// one, else the ID chat.postMessage answered for the report.
func (c *Slack) channelID() (string, error) {
	if slackChannelID().MatchString(c.channel) {
		return c.channel, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.posted == "" {
		return "", Permanent(fmt.Errorf("key channel: %q is not a conversation ID (such as C0123456789), and no report was posted yet to learn it from", c.channel))
	}
	return c.posted, nil
}

// checkUploadURL refuses an upload URL that is not https (or http when the
// Web API is, for a test server): the file would travel in the clear.
func (c *Slack) checkUploadURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("not a URL")
	}
	api, _ := url.Parse(c.api) // checked by newSlack
	if u.Scheme != "https" && u.Scheme != api.Scheme {
		return fmt.Errorf("scheme %q", u.Scheme)
	}
	return nil
}

// slackSections cuts body into section texts of at most slackSectionMax
// UTF-16 code units: at paragraph breaks where it can, else at line breaks,
// else (a line longer than a section) between characters, never inside an
// entity such as &amp;. Blank parts are dropped: Slack refuses empty text.
func slackSections(body string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		if s := strings.Trim(cur.String(), "\n"); strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
		cur.Reset()
	}
	add := func(piece, sep string) {
		if cur.Len() > 0 && utf16Len(cur.String())+utf16Len(sep)+utf16Len(piece) > slackSectionMax {
			flush()
		}
		if cur.Len() > 0 {
			cur.WriteString(sep)
		}
		cur.WriteString(piece)
	}
	for _, para := range strings.Split(body, "\n\n") {
		if utf16Len(para) <= slackSectionMax {
			add(para, "\n\n")
			continue
		}
		flush()
		for _, line := range strings.Split(para, "\n") {
			for utf16Len(line) > slackSectionMax {
				head := slackCut(line, slackSectionMax)
				add(head, "\n")
				flush()
				line = line[len(head):]
			}
			add(line, "\n")
		}
		flush()
	}
	flush()
	return out
}

// slackCut returns the longest prefix of s of at most max UTF-16 code units
// that does not end inside an entity (&amp; &lt; &gt;).
func slackCut(s string, max int) string {
	head := s[:utf16Prefix(s, max)]
	if amp := strings.LastIndexByte(head, '&'); amp >= 0 && !strings.Contains(head[amp:], ";") && amp > 0 {
		head = head[:amp]
	}
	return head
}
