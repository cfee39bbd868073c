package channels

// Settings of "textmagic" (an SMS through TextMagic's REST API v2: POST
// /api/v2/messages with HTTP basic authentication). It sends the summary of
// one SMS, the sms format (sms.go), not the report.
//
//	username  the TextMagic account's user name
//	api_key   an API key of it (api_key_file works)
//	phones    the numbers to send to, in international format (+447700900123)
//
// A client of its own, not notify's textmagic service: that one's generated
// client holds the whole API, which the linker keeps (text/template's
// reflection): 2.95 MB more binary (18 %) for the one endpoint sent to.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// textmagicURL is TextMagic's API for sending; the same for every account.
const textmagicURL = "https://rest.textmagic.com/api/v2/messages"

// textmagicSettings are the settings of a textmagic channel.
type textmagicSettings struct {
	Username string   `mapstructure:"username"`
	APIKey   string   `mapstructure:"api_key"`
	Phones   []string `mapstructure:"phones"`
}

// TextMagic is an SMS channel on TextMagic.
type TextMagic struct {
	name    string
	auth    string // the Authorization header
	phones  string // joined by commas, as the API takes them
	secrets []string
	client  *http.Client
}

func newTextMagic(name string, settings map[string]any) (Channel, error) {
	var s textmagicSettings
	if err := Decode(name, settings, &s); err != nil {
		return nil, err
	}
	keys := []notifyKey{{"username", s.Username}, {"api_key", s.APIKey}}
	if err := notifyRequire(name, keys...); err != nil {
		return nil, err
	}
	if err := notifyNoBlank(name, keys...); err != nil {
		return nil, err
	}
	if err := smsPhones(name, s.Phones); err != nil {
		return nil, err
	}
	pair := base64.StdEncoding.EncodeToString([]byte(s.Username + ":" + s.APIKey))
	return &TextMagic{
		name:    name,
		auth:    "Basic " + pair,
		phones:  strings.Join(s.Phones, ","),
		secrets: []string{s.APIKey, pair}, // the header carries both, base64-encoded
		client:  NewHTTPClient(),
	}, nil
}

// Name implements Channel.
func (c *TextMagic) Name() string { return c.name }

// Formats implements Channel: the SMS summary.
func (c *TextMagic) Formats() []Format { return []Format{SMSFormat} }

// Limit implements Channel: one SMS, in the units of Measure.
func (c *TextMagic) Limit() int { return smsLimit }

// Measure implements Measurer: the summary in the units of one SMS.
func (c *TextMagic) Measure(body string) int { return smsUnits(body) }

// CredentialURLs implements CredentialSender.
func (c *TextMagic) CredentialURLs() []string { return []string{textmagicURL} }

type textmagicMessage struct {
	Text   string `json:"text"`
	Phones string `json:"phones"`
}

// Payload implements Payloader: the JSON body Send posts. The key travels
// in the Authorization header, not in it.
func (c *TextMagic) Payload(m Message) ([]byte, error) {
	return JSON(textmagicMessage{Text: m.Bodies[SMSFormat], Phones: c.phones})
}

// Send sends the summary as one SMS to every number; the subject is not
// sent (an SMS has none; the summary names the host).
func (c *TextMagic) Send(ctx context.Context, _, body string) error {
	b, err := JSON(textmagicMessage{Text: body, Phones: c.phones})
	if err != nil {
		return err
	}
	a, err := Do(ctx, c.client, HTTPRequest{URL: textmagicURL, Header: map[string]string{"Authorization": c.auth}, Body: b, Secrets: c.secrets})
	if err != nil {
		return err
	}
	// TextMagic's error document: {"code":400,"message":"Validation Failed",
	// "errors":{"fields":{"phones":["..."]}}}.
	var ans struct {
		Message string `json:"message"`
		Errors  struct {
			Fields map[string][]string `json:"fields"`
		} `json:"errors"`
	}
	reason := ""
	if json.Unmarshal(a.Body, &ans) == nil && ans.Message != "" {
		reason = ans.Message
		for _, field := range slices.Sorted(maps.Keys(ans.Errors.Fields)) {
			reason += "; " + field + ": " + strings.Join(ans.Errors.Fields[field], ", ")
		}
		reason = cutRunes(RedactString(reason, c.secrets...), 300)
	}
	return HTTPError(a, reason, 0, c.secrets...)
}
