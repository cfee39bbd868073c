package channels

// ntfy: publish the report to a topic of an ntfy server (ntfy.sh or your own).
//
// Settings of "ntfy":
//
//	server    the server, default https://ntfy.sh
//	topic     the topic, required: 1 to 64 of A-Z a-z 0-9 _ -
//	title     the notification's title, default the report's subject
//	priority  1 to 5, or min, low, default, high, max; default: the server's (3)
//	tags      list of tags (emoji short codes such as warning, or words)
//	markdown  true: render the report in Markdown and let ntfy show it as
//	          such; default false, plain text
//	token     an access token (tk_...), sent as Authorization: Bearer; a secret,
//	          so usually token_file
//	username, password
//	          HTTP Basic authentication instead of a token (password_file works)
//
// API facts this file relies on (docs.ntfy.sh/publish, the binwiederhier/ntfy
// server source):
//   - Publish as JSON: POST to the server's root URL a JSON object {topic,
//     message, title, priority (1-5), tags, markdown}. The title then never
//     travels in an HTTP header, so no header injection or encoding question
//     arises for it, whatever the subject holds.
//   - A message longer than the server's message limit (4096 bytes by default)
//     is turned into an attachment, or refused where attachments are off; the
//     JSON body itself may be at most twice that limit (8192 bytes). Limit and
//     Measure keep both: see Measure.
//   - Errors are JSON {"code": 40101, "http": 401, "error": "unauthorized",
//     "link": "..."}; 429 (42901 too many requests) has no Retry-After.
//   - Attachments: PUT /TOPIC with the file as the body and a filename
//     parameter publishes the file ("Filename: bans.png"; the body is then
//     always the attachment), with message, title, priority and tags as
//     for any message. Every publish parameter is read from a header or, the
//     same, from the query string: the query carries the caption's UTF-8 as
//     it is, where a header would need RFC 2047 encoding that older servers
//     do not decode. A server without attachment-cache-dir or base-url
//     answers 400 {"code": 40014, "error": "invalid request: attachments
//     not allowed"}; one past its size or bandwidth limits 413 (41301) or
//     429 (42905). ntfy.sh takes files up to 15 MB and keeps them 3 hours.
//   - Markdown is off unless "markdown": true; plain text is shown as it is,
//     so the text dialect (no escaping) is right for it, and the markdown
//     dialect escapes Markdown when it is on.
//
// github.com/nikoksr/notify's service/http could post this JSON, but its
// errors show the URL and drop ntfy's explanation; this package's HTTP
// helpers redact the token and quote the error.

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/f2b-notify/f2b-notify/internal/secret"
	"github.com/f2b-notify/f2b-notify/internal/textutil"
	"github.com/f2b-notify/f2b-notify/templates"
)

const (
	// ntfyDefaultServer is the public server.
	ntfyDefaultServer = "https://ntfy.sh"
	// ntfyMessageLimit is ntfy's default message-size-limit, in bytes.
	ntfyMessageLimit = 4096
	// ntfyJSONLimit is the largest JSON body ntfy reads: twice the limit.
	ntfyJSONLimit = 2 * ntfyMessageLimit
)

var ntfyTopic = lazyRegexp(`^[-_A-Za-z0-9]{1,64}$`)

// ntfyPriorities maps the priority names to their numbers.
var ntfyPriorities = map[string]int{"min": 1, "low": 2, "default": 3, "high": 4, "max": 5, "urgent": 5}

type ntfySettings struct {
	Server   string   `mapstructure:"server"`
	Topic    string   `mapstructure:"topic"`
	Title    string   `mapstructure:"title"`
	Priority string   `mapstructure:"priority"`
	Tags     []string `mapstructure:"tags"`
	Markdown bool     `mapstructure:"markdown"`
	Token    string   `mapstructure:"token"`
	Username string   `mapstructure:"username"`
	Password string   `mapstructure:"password"`
}

// Ntfy is a channel that publishes the report to an ntfy topic.
type Ntfy struct {
	name     string
	url      string
	topic    string
	title    string
	priority int
	tags     []string
	markdown bool
	auth     string // Authorization header value, or ""
	secrets  []string
	overhead int // bytes of the JSON body besides the message, title at its longest
	client   *http.Client
}

func newNtfy(name string, settings map[string]any) (Channel, error) {
	var s ntfySettings
	if err := Decode(name, settings, &s); err != nil {
		return nil, err
	}
	c := &Ntfy{name: name, title: s.Title, tags: s.Tags, markdown: s.Markdown, client: NewHTTPClient()}
	server := s.Server
	if server == "" {
		server = ntfyDefaultServer
	}
	if err := checkURL(name, "server", server); err != nil {
		return nil, err
	}
	c.url = strings.TrimRight(server, "/") + "/"
	if !ntfyTopic().MatchString(s.Topic) {
		return nil, fmt.Errorf("channel %q: key topic: want 1 to 64 of A-Z, a-z, 0-9, _ and -", name)
	}
	c.topic = s.Topic
	if strings.IndexFunc(s.Title, textutil.IsASCIIControl) >= 0 {
		return nil, fmt.Errorf("channel %q: key title: contains a control character (line break?)", name)
	}
	if p := strings.ToLower(strings.TrimSpace(s.Priority)); p != "" {
		n, err := strconv.Atoi(p)
		if named, ok := ntfyPriorities[p]; ok {
			n, err = named, nil
		}
		if err != nil || n < 1 || n > 5 {
			return nil, fmt.Errorf("channel %q: key priority: %q is not 1 to 5 or min, low, default, high, max", name, s.Priority)
		}
		c.priority = n
	}
	for _, t := range s.Tags {
		if strings.TrimSpace(t) == "" || strings.IndexFunc(t, textutil.IsASCIIControl) >= 0 || strings.Contains(t, ",") {
			return nil, fmt.Errorf("channel %q: key tags: %q: want a word without commas or control characters", name, t)
		}
	}
	switch {
	case s.Token != "" && (s.Username != "" || s.Password != ""):
		return nil, fmt.Errorf("channel %q: keys token and username/password are both set; keep one", name)
	case s.Token != "":
		if strings.IndexFunc(s.Token, textutil.IsBlankOrControl) >= 0 {
			return nil, fmt.Errorf("channel %q: key token: contains a space or a control character", name)
		}
		c.auth = "Bearer " + s.Token
		c.secrets = []string{s.Token}
	case s.Username != "" || s.Password != "":
		if s.Username == "" || s.Password == "" {
			return nil, fmt.Errorf("channel %q: keys username and password: give both, or a token", name)
		}
		if strings.ContainsRune(s.Username, ':') || strings.IndexFunc(s.Username+s.Password, textutil.IsASCIIControl) >= 0 {
			return nil, fmt.Errorf("channel %q: key username: no colon or control characters", name)
		}
		basic := base64.StdEncoding.EncodeToString([]byte(s.Username + ":" + s.Password))
		c.auth = "Basic " + basic
		c.secrets = []string{s.Password, basic}
	}
	c.secrets = append(c.secrets, secret.URLParts(c.url)...)
	// The body's size besides the message: a title of the longest subject,
	// each rune of it escaped to 6 bytes at worst (\u2028).
	title := c.title
	if title == "" {
		title = strings.Repeat("x", 6*templates.MaxSubjectRunes)
	}
	b, err := JSON(c.payload(title, ""))
	if err != nil {
		return nil, fmt.Errorf("channel %q: %w", name, err)
	}
	c.overhead = len(b)
	return c, nil
}

// Name implements Channel.
func (c *Ntfy) Name() string { return c.name }

// CredentialURLs implements CredentialSender: the server, when a token or a
// password is set.
func (c *Ntfy) CredentialURLs() []string {
	if c.auth == "" {
		return nil
	}
	return []string{c.url}
}

// Formats implements Channel: plain text, or Markdown when asked.
func (c *Ntfy) Formats() []Format {
	if c.markdown {
		return []Format{Markdown}
	}
	return []Format{Text}
}

// Limit implements Channel: ntfy's message limit, in bytes.
func (c *Ntfy) Limit() int { return ntfyMessageLimit }

// Measure implements Measurer: the message's bytes, or more when its JSON
// encoding (quotes and backslashes doubled) would take the body past the
// 8192 bytes ntfy reads, so that a body within the limit is always accepted
// whole.
func (c *Ntfy) Measure(body string) int {
	quoted, _ := JSON(body) // a string always encodes
	return max(len(body), len(quoted)+c.overhead-(ntfyJSONLimit-ntfyMessageLimit))
}

type ntfyPayload struct {
	Topic    string   `json:"topic"`
	Message  string   `json:"message"`
	Title    string   `json:"title,omitempty"`
	Priority int      `json:"priority,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	Markdown bool     `json:"markdown,omitempty"`
}

func (c *Ntfy) payload(title, message string) ntfyPayload {
	return ntfyPayload{Topic: c.topic, Message: message, Title: title, Priority: c.priority, Tags: c.tags, Markdown: c.markdown}
}

// request is the JSON body that publishes one message: the title is the
// configured one or the subject.
func (c *Ntfy) request(subject, body string) ([]byte, error) {
	title := c.title
	if title == "" {
		title = subject
	}
	return JSON(c.payload(title, body))
}

// Payload implements Payloader: the JSON body Send publishes for the
// message's first format. The token or password travels in the
// Authorization header, not in it.
func (c *Ntfy) Payload(m Message) ([]byte, error) {
	return c.request(m.Subject, m.Bodies[c.Formats()[0]])
}

// Send publishes one message: the title is the configured one or the
// subject, the message the report.
func (c *Ntfy) Send(ctx context.Context, subject, body string) error {
	b, err := c.request(subject, body)
	if err != nil {
		return err
	}
	_, err = c.publish(ctx, HTTPRequest{URL: c.url, Header: c.header("application/json; charset=utf-8"), Body: b, Secrets: c.secrets})
	return err
}

// Attaches implements Attacher: both, the chart to look at and the full
// list to open or share from the phone. A server without attachments
// refuses them (see SendAttachment).
func (c *Ntfy) Attaches(AttachmentKind) bool { return true }

// ntfyAttachmentPriority is the highest priority of an attachment's
// notification: "low", no sound or vibration, since the report before it
// rang already.
const ntfyAttachmentPriority = 2

// SendAttachment implements AttachmentSender: the file is published as a
// notification of its own, its caption the message, quietly (priority
// low, or the channel's if lower).
func (c *Ntfy) SendAttachment(ctx context.Context, a Attachment) error {
	q := url.Values{"filename": {a.Name}}
	if a.Caption != "" {
		q.Set("message", a.Caption)
	}
	if c.title != "" {
		q.Set("title", c.title)
	}
	q.Set("priority", strconv.Itoa(min(cmp.Or(c.priority, 3), ntfyAttachmentPriority)))
	if len(c.tags) > 0 {
		q.Set("tags", strings.Join(c.tags, ","))
	}
	code, err := c.publish(ctx, HTTPRequest{Method: http.MethodPut, URL: c.url + c.topic + "?" + q.Encode(),
		Header: c.header(a.Type), Body: a.Data, Secrets: c.secrets})
	if code == ntfyAttachmentsDisallowed {
		err = fmt.Errorf("%w; the server takes no files (it needs attachment-cache-dir and base-url): set attachments: [] on this channel, or enable them there", err)
	}
	return err
}

// ntfyAttachmentsDisallowed is ntfy's error code for an attachment sent to a
// server that takes none (HTTP 400).
const ntfyAttachmentsDisallowed = 40014

// header is the headers of a publish request with a body of type ct.
func (c *Ntfy) header(ct string) map[string]string {
	h := map[string]string{"Content-Type": ct}
	if c.auth != "" {
		h["Authorization"] = c.auth
	}
	return h
}

// publish sends r and judges ntfy's answer: the error shows ntfy's
// explanation, and code is its error code, such as 40014 (0 if none).
func (c *Ntfy) publish(ctx context.Context, r HTTPRequest) (code int, err error) {
	a, err := Do(ctx, c.client, r)
	if err != nil {
		return 0, err
	}
	var ans struct {
		Code  int    `json:"code"`
		Error string `json:"error"`
		Link  string `json:"link"`
	}
	reason := ""
	if json.Unmarshal(a.Body, &ans) == nil && ans.Error != "" {
		reason = ans.Error
		if ans.Code != 0 {
			reason += fmt.Sprintf(" (code %d)", ans.Code)
		}
		if ans.Link != "" {
			reason += "; see " + ans.Link
		}
		reason = RedactString(reason, c.secrets...)
	}
	if err := HTTPError(a, reason, 0, c.secrets...); err != nil {
		return ans.Code, err
	}
	return 0, nil
}
