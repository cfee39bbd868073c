package channels

// Telegram sends the report to a chat through a bot, with the Bot API's
// sendMessage and parse_mode HTML (https://core.telegram.org/bots/api), and
// its attachments after it: the chart with sendPhoto, the full list of
// offenders with sendDocument.
//
// Settings of "telegram":
//
//	token                 the bot token BotFather gave, required; usually as
//	                      token_file, a file holding it
//	chat_id               required: the chat's integer id (-1001234567890 for a
//	                      group or channel) or a public channel's @username
//	message_thread_id     optional: the forum topic to post in
//	api_url               default https://api.telegram.org; the base URL of a
//	                      local Bot API server (telegram-bot-api --local)
//	oversize              split (default): a report over Telegram's limit is sent
//	                      as several messages, cut between offenders, every
//	                      offender in one of them; cut: one message, with
//	                      "and N more offenders"
//	max_messages          default 10 (1 to 100): a split report takes at most
//	                      this many messages, the last one cut with "and N
//	                      more offenders" (a group takes 20 messages a minute)
//	disable_notification  true to post silently; default false
//
// The body is the "telegram" format: Telegram's subset of HTML, rendered with
// html/template (see the telegram dialect in templates/dialect.go). Telegram takes no
// subject; the report's first line is its title. Link previews are turned
// off.
//
// A message holds at most 4096 characters after entity parsing (tags
// removed, entities decoded). The Bot API does not say what a character is;
// it counts entity offsets in UTF-16 code units, and reports differ on
// whether the limit does too. Measure counts UTF-16 code units, which are
// never fewer than characters, so a body that measures 4096 fits either way
// (an emoji or other character outside the BMP counts 2).
//
// Errors: the Bot API answers {"ok":false,"error_code":N,"description":...}.
// 429 (flood control) is retried after parameters.retry_after; 5xx and
// transport failures are retried; 400 (chat not found, can't parse
// entities, ...), 401 and 403 are final. The token, which sits in the URL
// path (/bot<token>/sendMessage), never appears in an error.
//
// A report split into several messages is sent in order by Deliver, one
// Send per message. If message k fails, the retry resumes at message k, so a
// flood-control pause in the middle of a long report repeats nothing; the
// flush records in its ledger how many were delivered, so a report cut off
// by a failed flush is finished by the next one. (A message whose answer was
// lost, such as on a timeout, may arrive twice: delivery is at least once.)
//
// Attachments go after the report (after its last message when it is
// split), each a message of its own, uploaded as multipart/form-data with
// the report's chat_id, message_thread_id and disable_notification, and the
// attachment's caption as plain text (no parse_mode: nothing in it is
// markup; at most 1024 characters after entity parsing, cut with "…"). The
// Bot API takes a photo of at most 10 MB whose width and height add up to
// at most 10000 and whose sides differ at most 20 times; a chart that is
// not such a photo goes as a document, which may hold 50 MB. An attachment
// that fails is retried like the report (flood control, 5xx, transport);
// one that cannot be sent is a warning of the flush, and the report stays
// delivered.
//
// The client is written here on channels/http.go rather than taken from
// github.com/nikoksr/notify: its telegram service does network I/O in its
// constructor, ignores the context, sends HTML unescaped and puts the token
// in its errors (measured against v1.3.0; the README says more).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"image/png"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/f2b-notify/f2b-notify/internal/textutil"
	"github.com/f2b-notify/f2b-notify/templates"
)

// TelegramHTML is the format of Telegram messages: the subset of HTML the
// Bot API accepts with parse_mode HTML.
const TelegramHTML = templates.Telegram

const (
	// telegramMaxText is the Bot API's limit on a message's text, after
	// entity parsing.
	telegramMaxText = 4096
	// telegramDefaultAPI is the Bot API's address.
	telegramDefaultAPI = "https://api.telegram.org"
	// telegramMaxCaption is the Bot API's limit on a caption, after entity
	// parsing.
	telegramMaxCaption = 1024
	// The Bot API's limits on an uploaded photo: its size in bytes, the sum
	// of its width and height, and the ratio of its sides.
	telegramMaxPhoto      = 10_000_000
	telegramMaxPhotoSides = 10000
	telegramMaxPhotoRatio = 20
	// telegramMaxDocument is the Bot API's limit on an uploaded file.
	telegramMaxDocument = 50_000_000
	// telegramRequestTimeout bounds one request when the caller's context
	// has no deadline.
	telegramRequestTimeout = 60 * time.Second
)

// telegramSettings are the settings of a telegram channel.
type telegramSettings struct {
	Token               string `mapstructure:"token"`
	ChatID              string `mapstructure:"chat_id"`
	MessageThreadID     int64  `mapstructure:"message_thread_id"`
	APIURL              string `mapstructure:"api_url"`
	Oversize            string `mapstructure:"oversize"`
	MaxMessages         *int   `mapstructure:"max_messages"`
	DisableNotification bool   `mapstructure:"disable_notification"`
}

var (
	// telegramTokenRE is the shape of a bot token: the bot's id, a colon, a
	// secret of URL-safe characters.
	telegramTokenRE = lazyRegexp(`^[0-9]{1,20}:[A-Za-z0-9_-]{1,100}$`)
	// telegramUsernameRE is a public chat's @username.
	telegramUsernameRE = lazyRegexp(`^@[A-Za-z][A-Za-z0-9_]{3,31}$`)
)

// Telegram is a channel that posts to a Telegram chat through a bot.
type Telegram struct {
	name     string
	token    string
	base     string // api_url + /bot<token>: secret
	endpoint string // base + /sendMessage: secret
	chatID   any    // int64, or string "@username"
	threadID int64
	split    bool
	maxMsgs  int // messages per split report at most
	silent   bool
	client   *http.Client
}

func newTelegram(name string, settings map[string]any) (Channel, error) {
	var s telegramSettings
	if err := Decode(name, settings, &s); err != nil {
		return nil, err
	}
	t := &Telegram{name: name, threadID: s.MessageThreadID, silent: s.DisableNotification}
	t.token = strings.TrimSpace(s.Token)
	switch {
	case t.token == "":
		return nil, fmt.Errorf("channel %q: key token: required (the bot token from BotFather; token_file reads it from a file)", name)
	case !telegramTokenRE().MatchString(t.token):
		// Never show the value: it may be a real token with a typo.
		return nil, fmt.Errorf("channel %q: key token: not a bot token (want the form 123456789:AAE..., as BotFather gives it)", name)
	}
	var err error
	if t.chatID, err = telegramChatID(s.ChatID); err != nil {
		return nil, fmt.Errorf("channel %q: key chat_id: %w", name, err)
	}
	if s.MessageThreadID < 0 {
		return nil, fmt.Errorf("channel %q: key message_thread_id: want a topic id (a positive integer), got %d", name, s.MessageThreadID)
	}
	api, err := telegramAPIURL(s.APIURL)
	if err != nil {
		return nil, fmt.Errorf("channel %q: key api_url: %w", name, err)
	}
	t.base = api + "/bot" + t.token
	t.endpoint = t.base + "/sendMessage"
	switch strings.ToLower(strings.TrimSpace(s.Oversize)) {
	case "", "split":
		t.split = true
	case "cut":
	default:
		return nil, fmt.Errorf("channel %q: key oversize: want split or cut, got %q", name, s.Oversize)
	}
	if t.maxMsgs, err = maxMessages(name, s.MaxMessages); err != nil {
		return nil, err
	}
	t.client = NewHTTPClient()
	t.client.Timeout = telegramRequestTimeout
	return t, nil
}

// telegramChatID reads chat_id: an integer (given as a number or a string)
// or a public chat's @username.
func telegramChatID(s string) (any, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("required (the chat's integer id, such as -1001234567890, or a public @channelusername)")
	}
	if id, err := strconv.ParseInt(s, 10, 64); err == nil {
		if id == 0 {
			return nil, errors.New("0 is not a chat id")
		}
		return id, nil
	}
	if telegramUsernameRE().MatchString(s) {
		return s, nil
	}
	return nil, fmt.Errorf("want an integer id such as -1001234567890 or a public @channelusername, got %q", s)
}

// telegramAPIURL checks api_url and returns it without a trailing slash.
// Errors do not repeat the URL, which may hold credentials.
func telegramAPIURL(raw string) (string, error) {
	if raw == "" {
		return telegramDefaultAPI, nil
	}
	u, err := parseHTTPURL(raw)
	if err != nil {
		return "", fmt.Errorf("%w, such as https://api.telegram.org", err)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("want the base URL of the Bot API, without a query or fragment")
	}
	return strings.TrimRight(raw, "/"), nil
}

// Name implements Channel.
func (t *Telegram) Name() string { return t.name }

// CredentialURLs implements CredentialSender: the bot token is in the path
// of every request to api_url.
func (t *Telegram) CredentialURLs() []string { return []string{t.endpoint} }

// Formats implements Channel: Telegram's HTML.
func (t *Telegram) Formats() []Format { return []Format{TelegramHTML} }

// Limit implements Channel: 4096 characters after entity parsing, as Measure
// counts them.
func (t *Telegram) Limit() int { return telegramMaxText }

// Split implements Splitter: whether oversize is split.
func (t *Telegram) Split() bool { return t.split }

// MaxMessages implements Splitter.
func (t *Telegram) MaxMessages() int { return t.maxMsgs }

// Measure implements Measurer: the length of body as Telegram counts it,
// after entity parsing: tags removed, entities decoded, in UTF-16 code units.
// On text Telegram would refuse to parse it still returns an upper bound.
func (t *Telegram) Measure(body string) int { return telegramLength(body) }

// telegramLength returns the length of s, a message in Telegram's HTML,
// after entity parsing, in UTF-16 code units.
func telegramLength(s string) int {
	n := 0
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			if end := strings.IndexByte(s[i:], '>'); end > 0 {
				i += end + 1 // a tag shows nothing
				continue
			}
		case '&':
			if r, size := telegramEntity(s[i:]); size > 0 {
				n += utf16.RuneLen(r)
				i += size
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			n++
		} else {
			n += utf16.RuneLen(r)
		}
		i += size
	}
	return n
}

// telegramEntity decodes an HTML entity Telegram knows at the start of s and
// returns it with its length in bytes, or 0 if there is none.
func telegramEntity(s string) (rune, int) {
	semi := strings.IndexByte(s, ';')
	if semi < 3 || semi > 10 {
		return 0, 0
	}
	switch name := s[1:semi]; {
	case name == "lt":
		return '<', semi + 1
	case name == "gt":
		return '>', semi + 1
	case name == "amp":
		return '&', semi + 1
	case name == "quot":
		return '"', semi + 1
	case name[0] == '#':
		var v uint64
		var err error
		if name[1] == 'x' || name[1] == 'X' {
			v, err = strconv.ParseUint(name[2:], 16, 32)
		} else {
			v, err = strconv.ParseUint(name[1:], 10, 32)
		}
		if err == nil && v <= unicode.MaxRune {
			return rune(v), semi + 1
		}
	}
	return 0, 0
}

// Send implements Channel: it posts body as one message. The subject is not
// sent (the report carries its own title) unless body is empty.
func (t *Telegram) Send(ctx context.Context, subject, body string) error {
	if strings.TrimSpace(body) == "" {
		body = "<b>" + html.EscapeString(subject) + "</b>"
	}
	return t.post(ctx, body)
}

// telegramRequest is the body of sendMessage.
type telegramRequest struct {
	ChatID             any    `json:"chat_id"`
	MessageThreadID    int64  `json:"message_thread_id,omitempty"`
	Text               string `json:"text"`
	ParseMode          string `json:"parse_mode"`
	LinkPreviewOptions struct {
		IsDisabled bool `json:"is_disabled"`
	} `json:"link_preview_options"`
	// DisableWebPagePreview is link_preview_options' predecessor, for local
	// Bot API servers older than 7.0, which ignore link_preview_options.
	DisableWebPagePreview bool `json:"disable_web_page_preview"`
	DisableNotification   bool `json:"disable_notification,omitempty"`
}

// telegramAnswer is the Bot API's answer.
type telegramAnswer struct {
	OK          bool   `json:"ok"`
	ErrorCode   int    `json:"error_code"`
	Description string `json:"description"`
	Parameters  struct {
		RetryAfter      int   `json:"retry_after"`
		MigrateToChatID int64 `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// request is the sendMessage body for one message.
func (t *Telegram) request(text string) ([]byte, error) {
	req := telegramRequest{ChatID: t.chatID, MessageThreadID: t.threadID, Text: text, ParseMode: "HTML",
		DisableWebPagePreview: true, DisableNotification: t.silent}
	req.LinkPreviewOptions.IsDisabled = true
	return JSON(req)
}

// Payload implements Payloader: the sendMessage body of each message, one
// per line.
func (t *Telegram) Payload(m Message) ([]byte, error) {
	return pagePayloads(m.Messages(TelegramHTML), t.request)
}

// post sends one message: one attempt, its error classified.
func (t *Telegram) post(ctx context.Context, text string) error {
	if n := telegramLength(text); n > telegramMaxText {
		return Permanent(fmt.Errorf("telegram: message is %d characters after entity parsing, over Telegram's limit of %d", n, telegramMaxText))
	}
	if strings.TrimSpace(text) == "" {
		return Permanent(errors.New("telegram: empty message, nothing to send"))
	}
	body, err := t.request(text)
	if err != nil {
		return err
	}
	return t.call(ctx, "sendMessage", body, "application/json")
}

// call makes one request to the Bot API's method and judges the answer.
func (t *Telegram) call(ctx context.Context, method string, body []byte, contentType string) error {
	url := t.base + "/" + method
	secrets := []string{t.token, url}
	ans, err := Do(ctx, t.client, HTTPRequest{URL: url, Body: body, Header: map[string]string{"Content-Type": contentType}, Secrets: secrets})
	if err != nil {
		return fmt.Errorf("telegram %s: %w", method, err)
	}
	if err := t.judge(ans, secrets); err != nil {
		return fmt.Errorf("telegram %s: %w", method, err)
	}
	return nil
}

// Attaches implements Attacher: the chart goes as a photo, the full list as
// a document.
func (t *Telegram) Attaches(k AttachmentKind) bool { return k == Chart || k == FullList }

// SendAttachment implements AttachmentSender: it posts a as a message of its
// own, in the report's chat and topic: the chart with sendPhoto (or, if the
// Bot API would not take it as a photo, with sendDocument), anything else
// with sendDocument. One attempt, its error classified.
func (t *Telegram) SendAttachment(ctx context.Context, a Attachment) error {
	if err := checkFile(a, telegramMaxDocument, "Telegram's 50 MB for a file"); err != nil {
		return fmt.Errorf("telegram sendDocument: %w", err)
	}
	method, field := "sendDocument", "document"
	if a.Kind == Chart && telegramPhoto(a.Data) {
		method, field = "sendPhoto", "photo"
	}
	parts := []formPart{{Name: "chat_id", Value: []byte(fmt.Sprint(t.chatID))}}
	if t.threadID != 0 {
		parts = append(parts, formPart{Name: "message_thread_id", Value: []byte(strconv.FormatInt(t.threadID, 10))})
	}
	if c := telegramCaption(a.Caption); c != "" {
		parts = append(parts, formPart{Name: "caption", Value: []byte(c)})
	}
	if t.silent {
		parts = append(parts, formPart{Name: "disable_notification", Value: []byte("true")})
	}
	body, contentType, err := multipartForm(append(parts, formFile(field, a)))
	if err != nil {
		return fmt.Errorf("telegram %s: %w", method, err)
	}
	return t.call(ctx, method, body, contentType)
}

// telegramPhoto reports whether the Bot API takes data as a photo: a PNG of
// at most 10 MB, its width and height at most 10000 together, the longer
// side at most 20 times the shorter.
func telegramPhoto(data []byte) bool {
	if len(data) > telegramMaxPhoto {
		return false
	}
	c, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil || c.Width <= 0 || c.Height <= 0 {
		return false
	}
	long, short := max(c.Width, c.Height), min(c.Width, c.Height)
	return c.Width+c.Height <= telegramMaxPhotoSides && long <= telegramMaxPhotoRatio*short
}

// telegramCaption is caption as plain text within the Bot API's 1024
// characters, counted in UTF-16 code units as Measure counts, cut with "…"
// if longer. Sent without parse_mode, nothing in it is markup.
func telegramCaption(caption string) string {
	return cutUTF16(strings.TrimSpace(caption), telegramMaxCaption)
}

// judge turns the Bot API's answer into nil or a classified error.
func (t *Telegram) judge(ans *HTTPAnswer, secrets []string) error {
	var a telegramAnswer
	jsonErr := json.Unmarshal(ans.Body, &a)
	if ans.Status >= 200 && ans.Status < 300 {
		if jsonErr == nil && a.OK {
			return nil
		}
		if jsonErr != nil || a.ErrorCode == 0 {
			// Whether the message went out is unknown; sending it again
			// would not tell more.
			return Permanent(Redact(fmt.Errorf("HTTP %d with an answer that is not the Bot API's (is api_url right?)", ans.Status), secrets...))
		}
		ans = &HTTPAnswer{Status: a.ErrorCode, Header: ans.Header, Body: ans.Body}
	}
	reason := ""
	if jsonErr == nil && a.Description != "" {
		reason = telegramReason(ans.Status, a)
	} else {
		reason = "answer is not the Bot API's JSON: " + telegramSnippet(string(ans.Body))
	}
	return HTTPError(ans, reason, time.Duration(a.Parameters.RetryAfter)*time.Second, secrets...)
}

// telegramReason explains a Bot API error, with a hint for the common ones.
func telegramReason(status int, a telegramAnswer) string {
	d := telegramSnippet(a.Description)
	d = strings.TrimPrefix(d, http.StatusText(status)+": ")
	lower := strings.ToLower(d)
	switch {
	case a.Parameters.MigrateToChatID != 0:
		d += fmt.Sprintf(" (set chat_id to %d, the supergroup's id)", a.Parameters.MigrateToChatID)
	case status == http.StatusUnauthorized:
		d += " (check the token)"
	case status == http.StatusForbidden:
		d += " (add the bot to the chat, with the right to post)"
	case strings.Contains(lower, "chat not found"):
		d += " (check chat_id; the bot must be a member of the chat)"
	case status == http.StatusNotFound:
		d += " (check api_url)"
	case strings.Contains(lower, "can't parse entities"):
		d += " (the template made HTML Telegram does not accept)"
	case strings.Contains(lower, "message is too long"):
		d += " (Telegram counted more than f2b-notify measured)"
	}
	return d
}

// telegramSnippet makes text from the network fit for one line of an
// error: control characters become spaces, runs of spaces one, at most 200
// characters.
func telegramSnippet(s string) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return textutil.IsBlankOrControl(r) || r == utf8.RuneError
	}), " ")
	if utf8.RuneCountInString(s) > 200 {
		s = string([]rune(s)[:199]) + "…"
	}
	return s
}
