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
// Attachments (see Attacher): the chart and the full list are posted after
// the report, each as an event of its own. The file is uploaded to the
// homeserver's media repository (POST /_matrix/media/v3/upload?filename=NAME,
// the file as the body, its MIME type as Content-Type; the answer is its
// mxc:// content URI), then an m.room.message points at it: msgtype m.image
// for the chart, with info {mimetype, size, w, h}, m.file for the CSV, with
// info {mimetype, size}; body is the attachment's caption and filename its
// file name (since spec v1.10 a body that differs from filename is shown as
// the caption; older clients show it as the file's name). Clients fetch the
// file through the authenticated media API (GET
// /_matrix/client/v1/media/download/SERVER/ID, spec v1.11), or the old
// /_matrix/media/v3/download on older servers; nothing here depends on
// which. A retry of a file whose upload was answered reuses the content URI,
// so the event, and its transaction ID, are the same and the room shows it
// once; a retried upload whose answer was lost stores a second copy of the
// file on the homeserver, which no event points at. A file over the
// homeserver's upload limit (m.upload.size of
// /_matrix/client/v1/media/config; by default 50 MiB on Synapse, 10 MiB on
// Dendrite) is refused with 413 (errcode M_TOO_LARGE; Dendrite says
// M_UNKNOWN): final, and the flush warns that the file is over the limit.
//
// Encryption: the channel has no end-to-end encryption (no Olm or Megolm
// sessions, no device keys). In a room with encryption on, the report and
// its files are sent in the clear, as any unencrypted event: the homeserver
// keeps them readable, and clients such as Element mark them as not
// encrypted. Post reports to a room without encryption.
//
// Errors: the homeserver answers {"errcode":"M_...","error":"..."}.
// M_LIMIT_EXCEEDED (429) is retried after retry_after_ms (or Retry-After);
// 5xx and transport failures are retried; M_FORBIDDEN (not in the room),
// M_UNKNOWN_TOKEN, M_MISSING_TOKEN, M_NOT_FOUND (unknown alias or room),
// M_TOO_LARGE and the other 4xx are final. The token is sent only in the
// Authorization header, never in the URL, and never appears in an error.
// Attachments are judged the same way.
//
// The client is written here on channels/http.go rather than taken from
// github.com/nikoksr/notify, whose matrix service drops the subject and never
// sends formatted_body (measured against v1.3.0; the README says more).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"image"
	_ "image/png" // the size of a chart, for an m.image's info
	"net/http"
	"net/url"
	"strconv"
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
	// uploads are the content URIs of the files uploaded so far, by
	// matrixFileKey, so that a retried attachment is not uploaded again.
	uploads map[[32]byte]string
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
	ctx, cancel := matrixDeadline(ctx)
	defer cancel()
	roomID, err := m.resolve(ctx)
	if err != nil {
		return err
	}
	return m.put(ctx, roomID, body, "send to room "+roomID)
}

// matrixDeadline gives ctx the default request timeout when it has no
// deadline.
func matrixDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, matrixRequestTimeout)
}

// put sends the content body as an m.room.message event to the room. The
// transaction ID is a hash of body: sending the same content again is a
// retry, which the homeserver answers with the first event.
func (m *Matrix) put(ctx context.Context, roomID string, body []byte, what string) error {
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
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := m.judge(a, what); err != nil {
		return err
	}
	var ok struct {
		EventID string `json:"event_id"`
	}
	if json.Unmarshal(a.Body, &ok) != nil || ok.EventID == "" {
		return Permanent(fmt.Errorf("%s: HTTP %d but the answer has no event_id: is homeserver the base URL of the client API?", what, a.Status))
	}
	return nil
}

// Payload implements Payloader: the m.room.message content of the report
// as it is PUT, then that of each attachment, one per line. The files are
// not uploaded: an attachment's url is matrixPreviewURL.
func (m *Matrix) Payload(msg Message) ([]byte, error) {
	c, err := m.content(msg)
	if err != nil {
		return nil, err
	}
	out, err := JSON(c)
	if err != nil {
		return nil, err
	}
	for _, a := range msg.Attachments {
		b, err := JSON(matrixFile(a, matrixPreviewURL))
		if err != nil {
			return nil, err
		}
		out = append(append(out, '\n'), b...)
	}
	return out, nil
}

// content builds the event's content from the message: the subject as a
// heading of both bodies, the text body cut to fit what the HTML leaves.
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

// matrixPreviewURL stands for the content URI of a file in what preview
// shows: nothing is uploaded there.
const matrixPreviewURL = "mxc://homeserver/uploaded-when-sent"

// Attaches implements Attacher: the chart goes as an m.image, the full list
// as an m.file.
func (m *Matrix) Attaches(k AttachmentKind) bool { return k == Chart || k == FullList }

// matrixFileInfo is the info of an m.image or m.file event; w and h only
// for an image whose size could be read.
type matrixFileInfo struct {
	MimeType string `json:"mimetype"`
	Size     int    `json:"size"`
	W        int    `json:"w,omitempty"`
	H        int    `json:"h,omitempty"`
}

// matrixFileContent is the content of an m.room.message event that points
// at an uploaded file. The field order is fixed, as for matrixContent.
type matrixFileContent struct {
	MsgType  string         `json:"msgtype"`
	Body     string         `json:"body"`
	FileName string         `json:"filename"`
	Info     matrixFileInfo `json:"info"`
	URL      string         `json:"url"`
	Mentions map[string]any `json:"m.mentions"`
}

// matrixFile is the event content for attachment a uploaded at mxc: an
// m.image for a picture, an m.file for anything else, its caption as the
// body (its name when it has none).
func matrixFile(a Attachment, mxc string) matrixFileContent {
	c := matrixFileContent{MsgType: "m.file", Body: strings.TrimSpace(a.Caption), FileName: a.Name,
		Info: matrixFileInfo{MimeType: a.Type, Size: len(a.Data)}, URL: mxc, Mentions: map[string]any{}}
	if c.Body == "" {
		c.Body = a.Name
	}
	if strings.HasPrefix(a.Type, "image/") {
		c.MsgType = "m.image"
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(a.Data)); err == nil {
			c.Info.W, c.Info.H = cfg.Width, cfg.Height
		}
	}
	return c
}

// SendAttachment implements AttachmentSender: it uploads the file to the
// media repository, unless an earlier try did, then posts the event that
// points at it.
func (m *Matrix) SendAttachment(ctx context.Context, a Attachment) error {
	if len(a.Data) == 0 || a.Name == "" || a.Type == "" {
		return Permanent(fmt.Errorf("attachment %q: no data, name or type", a.Name))
	}
	ctx, cancel := matrixDeadline(ctx)
	defer cancel()
	roomID, err := m.resolve(ctx)
	if err != nil {
		return err
	}
	mxc, err := m.upload(ctx, a)
	if err != nil {
		return err
	}
	body, err := JSON(matrixFile(a, mxc))
	if err != nil {
		return err
	}
	return m.put(ctx, roomID, body, "send "+a.Name+" to room "+roomID)
}

// matrixFileKey tells files apart for Matrix.uploads.
func matrixFileKey(a Attachment) [32]byte {
	h := sha256.New()
	for _, s := range []string{a.Name, a.Type, strconv.Itoa(len(a.Data))} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	h.Write(a.Data)
	return [32]byte(h.Sum(nil))
}

// upload stores a's file in the media repository
// (POST /_matrix/media/v3/upload) and returns its mxc:// content URI.
func (m *Matrix) upload(ctx context.Context, a Attachment) (string, error) {
	key := matrixFileKey(a)
	m.mu.Lock()
	mxc, done := m.uploads[key]
	m.mu.Unlock()
	if done {
		return mxc, nil
	}
	what := fmt.Sprintf("upload %s (%d bytes) to the media repository", a.Name, len(a.Data))
	ans, err := Do(ctx, m.client, HTTPRequest{
		URL:     m.homeserver + "/_matrix/media/v3/upload?filename=" + url.QueryEscape(a.Name),
		Header:  map[string]string{"Authorization": "Bearer " + m.token, "Content-Type": a.Type},
		Body:    a.Data,
		Secrets: []string{m.token},
	})
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	var e matrixError
	if ans.Status == http.StatusRequestEntityTooLarge || json.Unmarshal(ans.Body, &e) == nil && e.ErrCode == "M_TOO_LARGE" {
		what += ": the file is over the homeserver's upload size limit"
	}
	if err := m.judgeWith(ans, what, " (may the account upload files?)"); err != nil {
		return "", err
	}
	var up struct {
		ContentURI string `json:"content_uri"`
	}
	if json.Unmarshal(ans.Body, &up) != nil || !strings.HasPrefix(up.ContentURI, "mxc://") {
		return "", Permanent(fmt.Errorf("%s: HTTP %d but the answer has no mxc:// content_uri", what, ans.Status))
	}
	m.mu.Lock()
	if m.uploads == nil {
		m.uploads = map[[32]byte]string{}
	}
	m.uploads[key] = up.ContentURI
	m.mu.Unlock()
	return up.ContentURI, nil
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
	return m.judgeWith(a, what, " (has the account joined the room?)")
}

// judgeWith is judge with the hint that follows M_FORBIDDEN.
func (m *Matrix) judgeWith(a *HTTPAnswer, what, forbidden string) error {
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
			reason += forbidden
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
