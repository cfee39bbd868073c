package channels

// Generic webhook: an HTTP request to any URL, with the report as JSON or as
// the output of a template.
//
// Settings of "webhook":
//
//	url              the endpoint, http or https; often a secret, so url_file works
//	method           POST (default) or PUT
//	headers          map of extra request headers, such as X-Api-Key: ...; their
//	                 values never appear in errors
//	token            sent as Authorization: Bearer TOKEN (token_file works)
//	format           json (default) or template:
//	                   json      the body is {"subject": ..., "text": ..., "digest": {...}}:
//	                             the subject, the plain-text report, and the digest
//	                             itself as JSON, rendered by the json dialect's default
//	                             template (overridable with templates: {json: FILE})
//	                   template  the body is the channel's template, rendered as it is:
//	                             templates: {json: FILE} (the default; values are
//	                             JSON-string-escaped, and the output must be valid
//	                             JSON) or templates: {text: FILE} with
//	                             template_format: text
//	template_format  json (default) or text: the dialect of format template
//	content_type     the Content-Type; default application/json, or
//	                 text/plain; charset=utf-8 for template_format text
//	max_bytes        format template only: cut the report (fewer offender rows) to
//	                 at most this many bytes; default 0, no limit
//
// The dialect "json" is the one for JSON templates: its escaper makes every
// value a template prints safe inside a JSON string, so that a template such
// as {"msg": "{{.Host}}: {{.Totals.Bans}} bans"} stays valid JSON whatever
// an attacker put in a user name or log line. Write string values between
// quotes: a value printed outside quotes is still escaped, but could be read
// as a number or a list.
//
// The request is made with this package's HTTP helpers rather than
// github.com/nikoksr/notify's service/http: that one puts the URL in its
// errors, discards the answer (so no reason and no Retry-After), and sets the
// webhook's own header map on every request and then writes to it, a data
// race when two reports go out at once.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/f2b-notify/f2b-notify/internal/secret"
	"github.com/f2b-notify/f2b-notify/internal/textutil"
	"github.com/f2b-notify/f2b-notify/templates"
)

// JSONFormat is the dialect of JSON templates.
const JSONFormat = templates.JSON

type webhookSettings struct {
	URL            string            `mapstructure:"url"`
	Method         string            `mapstructure:"method"`
	Headers        map[string]string `mapstructure:"headers"`
	Token          string            `mapstructure:"token"`
	Format         string            `mapstructure:"format"`
	TemplateFormat string            `mapstructure:"template_format"`
	ContentType    string            `mapstructure:"content_type"`
	MaxBytes       int               `mapstructure:"max_bytes"`
}

// Webhook is a channel that sends the report to an HTTP endpoint.
type Webhook struct {
	name     string
	url      string
	method   string
	header   map[string]string
	secrets  []string
	envelope bool   // format json: {"subject", "text", "digest"}
	format   Format // format template: the template's dialect
	maxBytes int
	client   *http.Client
}

func newWebhook(name string, settings map[string]any) (Channel, error) {
	var s webhookSettings
	if err := Decode(name, settings, &s); err != nil {
		return nil, err
	}
	if s.URL == "" {
		return nil, fmt.Errorf("channel %q: key url: missing", name)
	}
	if err := checkURL(name, "url", s.URL); err != nil {
		return nil, err
	}
	c := &Webhook{name: name, url: s.URL, header: map[string]string{}, client: NewHTTPClient()}
	c.secrets = secret.URLParts(s.URL)
	switch m := strings.ToUpper(strings.TrimSpace(s.Method)); m {
	case "", http.MethodPost:
		c.method = http.MethodPost
	case http.MethodPut:
		c.method = http.MethodPut
	default:
		return nil, fmt.Errorf("channel %q: key method: %q is not POST or PUT", name, s.Method)
	}
	switch s.Format {
	case "", "json":
		c.envelope = true
		if s.TemplateFormat != "" || s.MaxBytes != 0 {
			return nil, fmt.Errorf("channel %q: keys template_format and max_bytes go with format: template", name)
		}
	case "template":
		switch s.TemplateFormat {
		case "", "json":
			c.format = JSONFormat
		case "text":
			c.format = Text
		default:
			return nil, fmt.Errorf("channel %q: key template_format: %q is not json or text", name, s.TemplateFormat)
		}
		if s.MaxBytes < 0 {
			return nil, fmt.Errorf("channel %q: key max_bytes: must not be negative", name)
		}
		c.maxBytes = s.MaxBytes
	default:
		return nil, fmt.Errorf("channel %q: key format: %q is not json or template", name, s.Format)
	}
	contentType := "application/json"
	if c.format == Text {
		contentType = "text/plain; charset=utf-8"
	}
	if s.ContentType != "" {
		if strings.IndexFunc(s.ContentType, textutil.IsASCIIControl) >= 0 {
			return nil, fmt.Errorf("channel %q: key content_type: contains a control character", name)
		}
		contentType = s.ContentType
	}
	c.header["Content-Type"] = contentType
	for k, v := range s.Headers {
		if !webhookIsToken(k) {
			return nil, fmt.Errorf("channel %q: key headers: %q is not a header name", name, k)
		}
		if strings.IndexFunc(v, webhookBadHeaderRune) >= 0 {
			return nil, fmt.Errorf("channel %q: key headers.%s: the value contains a control character (line break?)", name, k)
		}
		c.header[http.CanonicalHeaderKey(k)] = v
		c.secrets = append(c.secrets, v)
	}
	if s.Token != "" {
		if strings.IndexFunc(s.Token, textutil.IsBlankOrControl) >= 0 {
			return nil, fmt.Errorf("channel %q: key token: contains a space or a control character", name)
		}
		if _, both := c.header["Authorization"]; both {
			return nil, fmt.Errorf("channel %q: keys token and headers.Authorization are both set; keep one", name)
		}
		c.header["Authorization"] = "Bearer " + s.Token
		c.secrets = append(c.secrets, s.Token)
	}
	return c, nil
}

// Name implements Channel.
func (c *Webhook) Name() string { return c.name }

// CredentialURLs implements CredentialSender: the URL, when a token or a
// header that carries a credential (Authorization, X-Api-Key, ...) is set.
func (c *Webhook) CredentialURLs() []string {
	for k := range c.header {
		if secret.Header(k) {
			return []string{c.url}
		}
	}
	return nil
}

// Formats implements Channel: for format json, the digest as JSON and the
// text report; for format template, the template's dialect.
func (c *Webhook) Formats() []Format {
	if c.envelope {
		return []Format{JSONFormat, Text}
	}
	return []Format{c.format}
}

// Limit implements Channel: max_bytes (format template), else none.
func (c *Webhook) Limit() int { return c.maxBytes }

// Measure implements Measurer: bytes.
func (c *Webhook) Measure(body string) int { return len(body) }

// Send sends one body: for format json, the digest without the text report.
func (c *Webhook) Send(ctx context.Context, subject, body string) error {
	return c.SendMessage(ctx, Message{Subject: subject, Bodies: map[Format]string{c.Formats()[0]: body}})
}

// SendMessage implements MessageSender.
func (c *Webhook) SendMessage(ctx context.Context, m Message) error {
	body, err := c.Payload(m)
	if err != nil {
		return err
	}
	a, err := Do(ctx, c.client, HTTPRequest{Method: c.method, URL: c.url, Header: c.header, Body: body, Secrets: c.secrets})
	if err != nil {
		return err
	}
	return HTTPError(a, "", 0, c.secrets...)
}

// Payload implements Payloader: the body SendMessage sends, the envelope
// {"subject", "text", "digest"} (format json) or the template's output as it
// is (format template; then text when template_format is text). The URL,
// the token and the headers are not in it.
func (c *Webhook) Payload(m Message) ([]byte, error) {
	if c.envelope {
		digest := m.Bodies[JSONFormat]
		if !json.Valid([]byte(digest)) {
			return nil, Permanent(fmt.Errorf("the json template's output is not valid JSON (is a value printed outside quotes?)"))
		}
		return JSON(struct {
			Subject string          `json:"subject"`
			Text    string          `json:"text"`
			Digest  json.RawMessage `json:"digest"`
		}{m.Subject, m.Bodies[Text], json.RawMessage(digest)})
	}
	body := []byte(m.Bodies[c.format])
	if c.format == JSONFormat && !json.Valid(body) {
		return nil, Permanent(fmt.Errorf("the json template's output is not valid JSON (is a value printed outside quotes?)"))
	}
	return body, nil
}

// webhookIsToken reports whether s is an HTTP header name (RFC 9110 token).
func webhookIsToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c <= ' ' || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 || c == 0x7f {
			return false
		}
	}
	return true
}

func webhookBadHeaderRune(r rune) bool { return r != '\t' && textutil.IsASCIIControl(r) }
