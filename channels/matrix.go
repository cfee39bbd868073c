package channels

// Matrix posts the report to a Matrix room as one m.room.message event, with
// the client-server API (https://spec.matrix.org/latest/client-server-api/):
// PUT /_matrix/client/v3/rooms/{roomId}/send/m.room.message/{txnId}.
//
// Settings of "matrix":
//
//	homeserver    required: the base URL of the homeserver's client API, such
//	              as https://matrix.example.org (the host that serves
//	              /_matrix/client; not the server name of user IDs when
//	              .well-known delegates it elsewhere)
//	access_token  required: the access token of the account that posts,
//	              usually as access_token_file, a file holding it; the
//	              account must have joined the room
//	room          required: a room ID (!abc123:example.org) or an alias
//	              (#fail2ban:example.org); an alias is resolved when the
//	              first report is sent, not when the configuration is loaded
//	msgtype       m.notice (default: shown as a bot's message; the default
//	              push rules do not notify for it) or m.text
//
// The event's content:
//
//	msgtype         as set
//	body            plain text: the subject, a blank line, then the report in
//	                the "text" format
//	format          org.matrix.custom.html
//	formatted_body  HTML: the subject as an <h4> heading, then the report in
//	                the "matrix" format (templates/default/report.matrix.tmpl:
//	                only tags the spec recommends, no styles, which clients strip;
//	                every value escaped by html/template, attacker text in
//	                <code>)
//	m.mentions      {}: the report mentions nobody, and its presence turns off
//	                the legacy push rules that would notify on "@room" or a
//	                user's name appearing in the body
//
// Size: the spec bounds a whole event (PDU) at 65,536 bytes of canonical
// JSON; the homeserver adds about 1-2 KB (IDs, hashes, signatures), so the
// content is kept under 60,000 bytes of JSON. Measure counts a formatted body
// as the bytes of its JSON string, and Limit gives the HTML 40,000 of them:
// the flush cuts offender rows ("and N more") until the HTML fits. The text
// body gets what is left; as the flush renders it from the whole digest (it
// fits only the first format), the channel cuts it itself, at a line
// boundary, with a last line saying so. Clients show the HTML; the text is
// for notifications and text-only clients.
//
// Idempotency: the transaction ID is a hash of the content sent, so a retried
// send of the same report (same batches, same rendering) reuses it and the
// homeserver answers with the first event instead of posting a second. The
// spec scopes transaction IDs to the device (before v1.7: the access token)
// and the endpoint, and homeservers remember them for a limited time
// (Dendrite: 30 to 60 minutes, in memory): this covers the retries of one
// flush, not a report sent again days later.
//
// Errors: the homeserver answers {"errcode":"M_...","error":"..."}.
// M_LIMIT_EXCEEDED (429) is retried after retry_after_ms (or Retry-After);
// 5xx and transport failures are retried; M_FORBIDDEN (not in the room),
// M_UNKNOWN_TOKEN, M_MISSING_TOKEN, M_NOT_FOUND (unknown alias or room),
// M_TOO_LARGE and the other 4xx are final. The token is sent only in the
// Authorization header, never in the URL, and never appears in an error.
//
// The client is written here on channels/http.go rather than taken from
// github.com/nikoksr/notify, whose matrix service drops the subject and never
// sends formatted_body (measured against v1.3.0; the README says more).

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/f2b-notify/f2b-notify/internal/textutil"
	"github.com/f2b-notify/f2b-notify/templates"
)

// MatrixFormat is the format of a Matrix message's formatted_body: HTML with
// the tags the Matrix spec recommends.
const MatrixFormat = templates.Matrix

const (
	// matrixMaxContent is the most bytes of JSON an event's content may
	// take: the spec's 65,536 for the whole event, less room for what the
	// homeserver adds.
	matrixMaxContent = 60000
	// matrixHTMLLimit is the share of matrixMaxContent the formatted body
	// may take (as measured by Measure); the rest is for the text body.
	matrixHTMLLimit = 40000
	// matrixRequestTimeout bounds one request when the caller's context has
	// no deadline.
	matrixRequestTimeout = 60 * time.Second
	// matrixCutNote ends a text body that was cut to fit.
	matrixCutNote = "[… cut here to fit the Matrix event size limit]"
)

// matrixSettings are the settings of a matrix channel.
type matrixSettings struct {
	Homeserver  string `mapstructure:"homeserver"`
	AccessToken string `mapstructure:"access_token"`
	Room        string `mapstructure:"room"`
	MsgType     string `mapstructure:"msgtype"`
}

// Matrix is a channel that posts to a Matrix room.
type Matrix struct {
	name       string
	homeserver string // base URL, no trailing slash
	token      string
	room       string // as configured: a room ID or an alias
	msgtype    string
	client     *http.Client

	mu     sync.Mutex
	roomID string // room, or the room ID its alias resolved to
}

func newMatrix(name string, settings map[string]any) (Channel, error) {
	var s matrixSettings
	if err := Decode(name, settings, &s); err != nil {
		return nil, err
	}
	return NewMatrix(name, s.Homeserver, s.AccessToken, s.Room, s.MsgType)
}

// NewMatrix returns a matrix channel; msgtype "" means m.notice. It checks
// the settings and does no network I/O.
func NewMatrix(name, homeserver, token, room, msgtype string) (*Matrix, error) {
	hs, err := matrixHomeserver(homeserver)
	if err != nil {
		return nil, fmt.Errorf("channel %q: key homeserver: %w", name, err)
	}
	if token == "" {
		return nil, fmt.Errorf("channel %q: key access_token: required (or access_token_file)", name)
	}
	if strings.IndexFunc(token, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		return nil, fmt.Errorf("channel %q: key access_token: contains spaces, line breaks or other characters a token cannot hold", name)
	}
	if err := matrixCheckRoom(room); err != nil {
		return nil, fmt.Errorf("channel %q: key room: %w", name, err)
	}
	switch msgtype {
	case "":
		msgtype = "m.notice"
	case "m.notice", "m.text":
	default:
		return nil, fmt.Errorf("channel %q: key msgtype: %q is not m.notice or m.text", name, msgtype)
	}
	m := &Matrix{name: name, homeserver: hs, token: token, room: room, msgtype: msgtype, client: NewHTTPClient()}
	if strings.HasPrefix(room, "!") {
		m.roomID = room
	}
	return m, nil
}

// matrixHomeserver checks the homeserver URL and returns it without a
// trailing slash.
func matrixHomeserver(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("required (such as https://matrix.example.org)")
	}
	u, err := parseHTTPURL(raw)
	if err != nil {
		return "", fmt.Errorf("%w, such as https://matrix.example.org", err)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return "", errors.New("want a base URL without user info, query or fragment (the token goes in access_token)")
	}
	return strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/"), nil
}

// matrixCheckRoom accepts a room ID (!opaque, with :server before room
// version 12) or an alias (#localpart:server).
func matrixCheckRoom(room string) error {
	if room == "" {
		return errors.New("required: a room ID (!abc:example.org) or alias (#name:example.org)")
	}
	if strings.IndexFunc(room, textutil.IsBlankOrControl) >= 0 {
		return fmt.Errorf("%q contains spaces or control characters", room)
	}
	switch {
	case strings.HasPrefix(room, "!") && len(room) > 1:
		return nil
	case strings.HasPrefix(room, "#") && strings.Index(room, ":") > 1 && !strings.HasSuffix(room, ":"):
		return nil
	}
	return fmt.Errorf("%q is neither a room ID (!abc:example.org) nor an alias (#name:example.org)", room)
}

// Name implements Channel.
func (m *Matrix) Name() string { return m.name }

// CredentialURLs implements CredentialSender: the access token goes to the
// homeserver with every request.
func (m *Matrix) CredentialURLs() []string { return []string{m.homeserver} }

// Formats implements Channel: the HTML of formatted_body, then the text of
// body.
func (m *Matrix) Formats() []Format { return []Format{MatrixFormat, Text} }

// Limit implements Channel: the bytes (as Measure counts them) the formatted
// body may take.
func (m *Matrix) Limit() int { return matrixHTMLLimit }

// Measure implements Measurer: the bytes the formatted body takes in the
// event's JSON, escapes included.
func (m *Matrix) Measure(body string) int { return matrixJSONLen(body) }

// Send implements Channel with body as the formatted body; the text body is
// made from it by removing the tags.
func (m *Matrix) Send(ctx context.Context, subject, body string) error {
	return m.SendMessage(ctx, Message{Subject: subject, Bodies: map[Format]string{MatrixFormat: body}})
}

// matrixContent is the content of the m.room.message event. The field order
// is fixed, so the same report always encodes to the same bytes (and
// transaction ID).
type matrixContent struct {
	MsgType       string         `json:"msgtype"`
	Body          string         `json:"body"`
	Format        string         `json:"format,omitempty"`
	FormattedBody string         `json:"formatted_body,omitempty"`
	Mentions      map[string]any `json:"m.mentions"`
}

// SendMessage implements MessageSender: one event with the text and HTML
// renderings of the report.
func (m *Matrix) SendMessage(ctx context.Context, msg Message) error {
	content, err := m.content(msg)
	if err != nil {
		return err
	}
	body, err := JSON(content)
	if err != nil {
		return err
	}
	if len(body) > matrixMaxContent {
		return Permanent(fmt.Errorf("the message is %d bytes of JSON, over the %d a Matrix event can carry; use a shorter template", len(body), matrixMaxContent))
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, matrixRequestTimeout)
		defer cancel()
	}
	roomID, err := m.resolve(ctx)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	txnID := "f2b-" + hex.EncodeToString(sum[:16])
	a, err := Do(ctx, m.client, HTTPRequest{
		Method:  http.MethodPut,
		URL:     m.homeserver + "/_matrix/client/v3/rooms/" + matrixPathEscape(roomID) + "/send/m.room.message/" + txnID,
		Header:  map[string]string{"Authorization": "Bearer " + m.token},
		Body:    body,
		Secrets: []string{m.token},
	})
	if err != nil {
		return fmt.Errorf("send to room %s: %w", roomID, err)
	}
	if err := m.judge(a, "send to room "+roomID); err != nil {
		return err
	}
	var ok struct {
		EventID string `json:"event_id"`
	}
	if json.Unmarshal(a.Body, &ok) != nil || ok.EventID == "" {
		return Permanent(fmt.Errorf("send to room %s: HTTP %d but the answer has no event_id: is homeserver the base URL of the client API?", roomID, a.Status))
	}
	return nil
}

// content builds the event's content from the message: the subject as a
// heading of both bodies, the text body cut to fit what the HTML leaves.
// Payload implements Payloader: the m.room.message content as it is PUT.
func (m *Matrix) Payload(msg Message) ([]byte, error) {
	c, err := m.content(msg)
	if err != nil {
		return nil, err
	}
	return JSON(c)
}

func (m *Matrix) content(msg Message) (matrixContent, error) {
	formatted, hasHTML := msg.Bodies[MatrixFormat]
	text, hasText := msg.Bodies[Text]
	if !hasHTML && !hasText {
		return matrixContent{}, Permanent(errors.New("build message: no matrix or text body"))
	}
	if !hasText {
		text = matrixPlain(formatted)
	}
	c := matrixContent{MsgType: m.msgtype, Mentions: map[string]any{}}
	subject := strings.TrimSpace(msg.Subject)
	if hasHTML {
		c.Format = "org.matrix.custom.html"
		c.FormattedBody = formatted
		if subject != "" {
			c.FormattedBody = "<h4>" + html.EscapeString(subject) + "</h4>\n" + formatted
		}
	}
	head := ""
	if subject != "" {
		head = subject + "\n\n"
	}
	// What the content takes without the text: the text may have the rest.
	c.Body = head
	base, err := JSON(c)
	if err != nil {
		return matrixContent{}, err
	}
	c.Body = head + matrixCutText(strings.TrimRight(text, "\n"), matrixMaxContent-len(base))
	return c, nil
}

// matrixCutText returns text if its JSON string content takes at most budget
// bytes; else its longest prefix of whole lines that fits with a last line
// saying it was cut.
func matrixCutText(text string, budget int) string {
	if matrixJSONLen(text)-2 <= budget {
		return text
	}
	budget -= matrixJSONLen("\n"+matrixCutNote) - 2
	used, end := 0, 0
	for end < len(text) {
		next := strings.IndexByte(text[end:], '\n')
		line := text[end:]
		if next >= 0 {
			line = text[end : end+next+1]
		}
		n := matrixJSONLen(line) - 2 // JSON escaping is per character: lengths add up
		if used+n > budget {
			break
		}
		used += n
		end += len(line)
	}
	return strings.TrimRight(text[:end], "\n") + "\n" + matrixCutNote
}

// matrixJSONLen is the length of s encoded as a JSON string, quotes included,
// as JSON encodes it: control characters, quotes and backslashes escaped,
// markup left as it is.
func matrixJSONLen(s string) int {
	b, err := JSON(s)
	if err != nil {
		return len(s) * 6 // not reached: a string always encodes
	}
	return len(b)
}

// resolve returns the room ID, resolving the configured alias on first use
// (GET /_matrix/client/v3/directory/room/{roomAlias}).
func (m *Matrix) resolve(ctx context.Context) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.roomID != "" {
		return m.roomID, nil
	}
	a, err := Do(ctx, m.client, HTTPRequest{
		Method:  http.MethodGet,
		URL:     m.homeserver + "/_matrix/client/v3/directory/room/" + matrixPathEscape(m.room),
		Header:  map[string]string{"Authorization": "Bearer " + m.token},
		Secrets: []string{m.token},
	})
	if err != nil {
		return "", fmt.Errorf("resolve room alias %s: %w", m.room, err)
	}
	if err := m.judge(a, "resolve room alias "+m.room); err != nil {
		return "", err
	}
	var dir struct {
		RoomID string `json:"room_id"`
	}
	if json.Unmarshal(a.Body, &dir) != nil || !strings.HasPrefix(dir.RoomID, "!") {
		return "", Permanent(fmt.Errorf("resolve room alias %s: HTTP %d but the answer has no room_id", m.room, a.Status))
	}
	m.roomID = dir.RoomID
	return m.roomID, nil
}

// matrixError is the body of a Matrix error answer.
type matrixError struct {
	ErrCode      string `json:"errcode"`
	Error        string `json:"error"`
	RetryAfterMS int64  `json:"retry_after_ms"`
}

// judge classifies an answer (see HTTPError): nil for 2xx; M_LIMIT_EXCEEDED,
// whatever its status, is a RetryAfterError with retry_after_ms.
func (m *Matrix) judge(a *HTTPAnswer, what string) error {
	if a.Status >= 200 && a.Status < 300 {
		return nil
	}
	var e matrixError
	reason := ""
	if json.Unmarshal(a.Body, &e) == nil && e.ErrCode != "" {
		reason = e.ErrCode
		if e.Error != "" {
			msg := e.Error
			if len(msg) > 300 {
				msg = strings.ToValidUTF8(msg[:300], "") + "…"
			}
			reason += ": " + msg
		}
		switch e.ErrCode {
		case "M_UNKNOWN_TOKEN", "M_MISSING_TOKEN":
			reason += " (check access_token)"
		case "M_FORBIDDEN":
			reason += " (has the account joined the room?)"
		}
	}
	retryAfter := time.Duration(e.RetryAfterMS) * time.Millisecond
	err := HTTPError(a, reason, retryAfter, m.token)
	var ra *RetryAfterError
	if e.ErrCode == "M_LIMIT_EXCEEDED" && !errors.As(err, &ra) {
		// Rate limited under another status than 429: wait all the same.
		if retryAfter <= 0 {
			retryAfter = ParseRetryAfter(a.Header.Get("Retry-After"))
		}
		err = &RetryAfterError{Err: errors.New(err.Error()), After: retryAfter}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// matrixPathEscape escapes s for one segment of a URL path, leaving only the
// unreserved characters of RFC 3986: "!abc:example.org" becomes
// "%21abc%3Aexample.org", as the spec writes room IDs in paths, and the "#"
// of an alias cannot start a fragment.
func matrixPathEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// matrixPlain makes a text body from a formatted body, for Send: tags
// removed, blocks and <br> as line breaks, no blank lines, entities decoded.
func matrixPlain(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		lt := strings.IndexByte(s, '<')
		if lt < 0 {
			b.WriteString(html.UnescapeString(s))
			break
		}
		b.WriteString(html.UnescapeString(s[:lt]))
		gt := strings.IndexByte(s[lt:], '>')
		if gt < 0 {
			break // an unclosed tag: drop it
		}
		tag := strings.ToLower(strings.Trim(s[lt+1:lt+gt], "/ "))
		if name, _, _ := strings.Cut(tag, " "); matrixBlockTags[name] {
			b.WriteByte('\n')
		}
		s = s[lt+gt+1:]
	}
	var out []string
	for _, l := range strings.Split(b.String(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// matrixBlockTags are the tags that end a line in matrixPlain.
var matrixBlockTags = map[string]bool{
	"br": true, "p": true, "div": true, "li": true, "tr": true, "pre": true,
	"h1": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
	"table": true, "ul": true, "ol": true, "blockquote": true, "hr": true,
}
