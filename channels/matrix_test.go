package channels_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"image"
	"image/png"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/internal/geoip"
	"github.com/f2b-notify/f2b-notify/internal/hostile"
	"github.com/f2b-notify/f2b-notify/internal/sample"
	"github.com/f2b-notify/f2b-notify/report"
)

const (
	// mxToken is the fake's access token; errors must never show it.
	mxToken = "syt_Zm9vYmFy_SECRETtokenVALUE_1a2b3c"
	mxRoom  = "!AbCdEf123:example.org"
	mxAlias = "#fail2ban:example.org"
	// mxMaxContent is the content size the channel promises to stay under.
	mxMaxContent = 60000
)

var mxEnd = time.Date(2024, 5, 3, 6, 0, 0, 0, time.UTC)

// mxRequest is one request the fake homeserver received.
type mxRequest struct {
	Method, URI, Auth, ContentType string
	Body                           []byte
}

// mxContent is the content of an m.room.message event as the spec defines it:
// a report (format, formatted_body), or a file (m.image, m.file: filename,
// info, url).
type mxContent struct {
	MsgType       string          `json:"msgtype"`
	Body          string          `json:"body"`
	Format        string          `json:"format"`
	FormattedBody string          `json:"formatted_body"`
	FileName      string          `json:"filename"`
	Info          mxInfo          `json:"info"`
	URL           string          `json:"url"`
	Mentions      json.RawMessage `json:"m.mentions"`
}

// mxInfo is the info of an m.image or m.file event.
type mxInfo struct {
	MimeType string `json:"mimetype"`
	Size     int    `json:"size"`
	W        int    `json:"w"`
	H        int    `json:"h"`
}

// mxUpload is a file the fake's media repository stored.
type mxUpload struct {
	Name, Type string
	Data       []byte
}

// mxFake is a homeserver's client API as far as the channel uses it: send
// m.room.message with transaction IDs (a repeated one is answered with the
// first event, not posted again) and the room directory. It checks each
// request the way the spec documents it and records what breaks the rules.
type mxFake struct {
	srv *httptest.Server

	mu         sync.Mutex
	requests   []mxRequest
	events     []mxContent
	txns       map[string]string   // txnId -> event_id
	aliases    map[string]string   // alias -> room ID
	uploads    map[string]mxUpload // mxc:// URI -> the file
	violations []string
	// fail, when set, answers a request instead of the fake (after it was
	// recorded); it returns false to let the fake answer.
	fail func(w http.ResponseWriter, r *http.Request, n int) bool
}

var (
	mxSendPath   = regexp.MustCompile(`^/_matrix/client/v3/rooms/([^/?]+)/send/m\.room\.message/([^/?]+)$`)
	mxAliasPath  = regexp.MustCompile(`^/_matrix/client/v3/directory/room/([^/?]+)$`)
	mxUploadPath = "/_matrix/media/v3/upload"
	// mxEscaped is a path segment with nothing left unescaped but RFC 3986's
	// unreserved characters.
	mxEscaped = regexp.MustCompile(`^(?:[A-Za-z0-9._~-]|%[0-9A-F]{2})+$`)
)

func mxStart(t *testing.T) *mxFake {
	f := &mxFake{txns: map[string]string{}, aliases: map[string]string{mxAlias: mxRoom}, uploads: map[string]mxUpload{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *mxFake) violate(format string, args ...any) {
	f.violations = append(f.violations, fmt.Sprintf(format, args...))
}

func mxAnswer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (f *mxFake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, mxRequest{r.Method, r.RequestURI, r.Header.Get("Authorization"), r.Header.Get("Content-Type"), body})
	n := len(f.requests)
	fail := f.fail
	f.mu.Unlock()
	if fail != nil && fail(w, r, n) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	path := r.URL.EscapedPath()
	if q := r.URL.Query(); r.URL.RawQuery != "" && (path != mxUploadPath || len(q) != 1 || q.Get("filename") == "") {
		f.violate("query string %q (the token belongs in the Authorization header; only an upload takes one, its filename)", r.URL.RawQuery)
	}
	if auth := r.Header.Get("Authorization"); auth != "Bearer "+mxToken {
		mxAnswer(w, http.StatusUnauthorized, map[string]any{"errcode": "M_UNKNOWN_TOKEN", "error": "Unknown access token " + strings.TrimPrefix(auth, "Bearer ")})
		return
	}
	if path == mxUploadPath {
		f.upload(w, r, body)
		return
	}
	if m := mxAliasPath.FindStringSubmatch(path); m != nil {
		if r.Method != http.MethodGet {
			f.violate("%s on the room directory, want GET", r.Method)
		}
		if !mxEscaped.MatchString(m[1]) {
			f.violate("alias not fully escaped in the path: %q", m[1])
		}
		room, ok := f.aliases[mxUnescape(m[1])]
		if !ok {
			mxAnswer(w, http.StatusNotFound, map[string]any{"errcode": "M_NOT_FOUND", "error": "Room alias " + mxUnescape(m[1]) + " not found."})
			return
		}
		mxAnswer(w, http.StatusOK, map[string]any{"room_id": room, "servers": []string{"example.org"}})
		return
	}
	m := mxSendPath.FindStringSubmatch(path)
	if m == nil {
		mxAnswer(w, http.StatusNotFound, map[string]any{"errcode": "M_UNRECOGNIZED", "error": "Unrecognized request"})
		return
	}
	if r.Method != http.MethodPut {
		f.violate("%s on send, want PUT", r.Method)
	}
	if !mxEscaped.MatchString(m[1]) || !mxEscaped.MatchString(m[2]) {
		f.violate("room ID or txnId not fully escaped in the path: %q, %q", m[1], m[2])
	}
	if room := mxUnescape(m[1]); room != mxRoom {
		mxAnswer(w, http.StatusForbidden, map[string]any{"errcode": "M_FORBIDDEN", "error": "User is not in room " + room})
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.violate("Content-Type %q", ct)
	}
	if len(body) > mxMaxContent {
		f.violate("content of %d bytes, over %d", len(body), mxMaxContent)
	}
	if len(body) > 65536 {
		mxAnswer(w, http.StatusRequestEntityTooLarge, map[string]any{"errcode": "M_TOO_LARGE", "error": "event too large"})
		return
	}
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		f.violate("content is not a JSON object: %v", err)
		mxAnswer(w, http.StatusBadRequest, map[string]any{"errcode": "M_NOT_JSON", "error": "Content not JSON."})
		return
	}
	var c mxContent
	json.Unmarshal(body, &c)
	keys := map[string]string{"msgtype": "string", "body": "string", "format": "string", "formatted_body": "string", "m.mentions": "object"}
	if c.MsgType == "m.image" || c.MsgType == "m.file" {
		keys = map[string]string{"msgtype": "string", "body": "string", "filename": "string", "info": "object", "url": "string", "m.mentions": "object"}
		f.checkFile(c)
	} else {
		if c.MsgType != "m.notice" && c.MsgType != "m.text" {
			f.violate("msgtype %q", c.MsgType)
		}
		if c.Format != "org.matrix.custom.html" {
			f.violate("format %q", c.Format)
		}
	}
	for key, want := range keys {
		v, ok := raw[key]
		_, isString := v.(string)
		_, isObject := v.(map[string]any)
		if !ok || (want == "string" && !isString) || (want == "object" && !isObject) {
			f.violate("content key %s: %v, want a %s", key, v, want)
		}
	}
	if !utf8.ValidString(c.Body) || !utf8.ValidString(c.FormattedBody) {
		f.violate("invalid UTF-8 in a body")
	}
	if id, dup := f.txns[m[2]]; dup {
		mxAnswer(w, http.StatusOK, map[string]any{"event_id": id})
		return
	}
	id := fmt.Sprintf("$event%d", len(f.events)+1)
	f.txns[m[2]] = id
	f.events = append(f.events, c)
	mxAnswer(w, http.StatusOK, map[string]any{"event_id": id})
}

// mxMaxUpload is the fake's upload size limit (m.upload.size).
const mxMaxUpload = 1 << 20

// upload serves POST /_matrix/media/v3/upload as the spec documents it:
// the file is the body, its type the Content-Type, its name the filename
// parameter; the answer is its content URI.
func (f *mxFake) upload(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.Method != http.MethodPost {
		f.violate("%s on upload, want POST", r.Method)
	}
	name := r.URL.Query().Get("filename")
	if name == "" {
		f.violate("upload without a filename")
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" || ct == "application/json" {
		f.violate("upload of %s with Content-Type %q, want the file's type", name, ct)
	}
	if len(body) > mxMaxUpload {
		mxAnswer(w, http.StatusRequestEntityTooLarge, map[string]any{"errcode": "M_TOO_LARGE", "error": "Cannot upload files larger than 1.00M"})
		return
	}
	mxc := fmt.Sprintf("mxc://example.org/media%d", len(f.uploads)+1)
	f.uploads[mxc] = mxUpload{Name: name, Type: ct, Data: body}
	mxAnswer(w, http.StatusOK, map[string]any{"content_uri": mxc})
}

// checkFile checks an m.image or m.file event against the file it points
// at: its url one the repository gave, its filename, type and size those
// of the upload.
func (f *mxFake) checkFile(c mxContent) {
	up, ok := f.uploads[c.URL]
	if !ok {
		f.violate("%s points at %q, which was not uploaded", c.MsgType, c.URL)
		return
	}
	if c.FileName != up.Name || c.Info.MimeType != up.Type || c.Info.Size != len(up.Data) {
		f.violate("%s says filename %q, mimetype %q, size %d; the upload was %q, %q, %d bytes",
			c.MsgType, c.FileName, c.Info.MimeType, c.Info.Size, up.Name, up.Type, len(up.Data))
	}
	if c.Body == "" {
		f.violate("%s without a body", c.MsgType)
	}
}

func mxUnescape(s string) string {
	out, err := urlPathUnescape(s)
	if err != nil {
		return "(bad escape " + s + ")"
	}
	return out
}

// urlPathUnescape decodes %XX sequences.
func urlPathUnescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", errors.New("short escape")
		}
		var c byte
		if _, err := fmt.Sscanf(s[i+1:i+3], "%02X", &c); err != nil {
			return "", err
		}
		b.WriteByte(c)
		i += 2
	}
	return b.String(), nil
}

func (f *mxFake) Events() []mxContent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.events)
}

// Uploads returns the files the fake's media repository stored, by their
// content URI.
func (f *mxFake) Uploads() map[string]mxUpload {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.uploads)
}

func (f *mxFake) Requests() []mxRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

func (f *mxFake) checkRules(t *testing.T) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.violations) > 0 {
		t.Errorf("requests broke the client-server API's rules: %q", f.violations)
	}
}

func mxSettings(url, room string, extra map[string]any) map[string]any {
	s := map[string]any{"homeserver": url, "access_token": mxToken, "room": room}
	for k, v := range extra {
		s[k] = v
	}
	return s
}

func mxChannel(t *testing.T, f *mxFake, room string, extra map[string]any) *channels.Matrix {
	t.Helper()
	return newChannel(t, "ops-room", "matrix", mxSettings(f.srv.URL, room, extra)).(*channels.Matrix)
}

// mxNoSecret fails the test if err shows the token in any form.
func mxNoSecret(t *testing.T, token string, err error) {
	t.Helper()
	if err != nil && (strings.Contains(err.Error(), token) || strings.Contains(err.Error(), token[4:20])) {
		t.Errorf("error shows the token: %s", err)
	}
}

func mxSampleDigest() *report.Digest {
	b := report.NewBuilder(report.Options{Host: "web1.example.org", Generated: mxEnd, Geo: geoip.Demo(), History: sample.History(mxEnd)})
	for _, r := range sample.Records(mxEnd) {
		b.Add(r)
	}
	return b.Digest()
}

// mxHostileDigest is a digest built from records whose user names and log
// lines are the hostile corpus, with a hostile host name.
func mxHostileDigest() (*report.Digest, []string) {
	corpus := hostile.Corpus()
	b := report.NewBuilder(report.Options{Host: "evil<b>host</b> @room https://evil.example/", Generated: mxEnd})
	for i, s := range corpus {
		b.Add(&buffer.Record{
			V: buffer.SchemaVersion, Action: buffer.ActionBan, Jail: "sshd",
			IP:   fmt.Sprintf("198.51.100.%d", i+1),
			Time: float64(mxEnd.Add(-time.Duration(i) * time.Minute).Unix()), At: mxEnd.Unix(),
			Failures: 3, Bantime: 600, User: s, Matches: []string{hostile.Match(i)},
		})
	}
	return b.Digest(), corpus
}

// mxTagRE finds the tags of a formatted body.
var mxTagRE = regexp.MustCompile(`<[^>]*>`)

// mxAllowedTags are the tags the default template writes: a subset of those
// the spec recommends, none with attributes.
var mxAllowedTags = map[string]bool{}

func init() {
	for _, name := range []string{"p", "br", "b", "i", "code", "h4", "h5", "ul", "li", "table", "thead", "tbody", "tr", "th", "td"} {
		mxAllowedTags["<"+name+">"] = true
		mxAllowedTags["</"+name+">"] = true
	}
}

// mxCheckMarkup fails the test if a formatted body holds any tag but the
// template's own, bare ones: no attributes (so no styles, links or
// handlers), no <a>, no document structure.
func mxCheckMarkup(t *testing.T, formatted string) {
	t.Helper()
	for _, tag := range mxTagRE.FindAllString(formatted, -1) {
		if !mxAllowedTags[tag] {
			t.Errorf("formatted_body has the tag %q, not one of the template's", tag)
		}
	}
	if strings.Contains(formatted, "matrix.to") && strings.Contains(formatted, "<a") {
		t.Error("formatted_body links to a Matrix ID (a mention pill)")
	}
}

// mxCodeSpans returns the text of every <code> element, unescaped.
func mxCodeSpans(formatted string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<code>([^<]*)</code>`).FindAllStringSubmatch(formatted, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

func mxTruncate(n int, s string) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// mxCheckHostile checks an event made from mxHostileDigest: every corpus
// entry shown literally, as a user name and in its log line, in code spans of
// the formatted body and in the text body; nothing active.
func mxCheckHostile(t *testing.T, c mxContent, corpus []string) {
	t.Helper()
	mxCheckMarkup(t, c.FormattedBody)
	if string(c.Mentions) != "{}" {
		t.Errorf("m.mentions is %s, want {}", c.Mentions)
	}
	code := mxCodeSpans(c.FormattedBody)
	for i, s := range corpus {
		user := report.ShowUser(s)
		if !slices.Contains(code, mxTruncate(100, user)) {
			t.Errorf("corpus entry %d %.80q: user name not shown literally in a code span", i, s)
		}
		match := report.ShowLine(hostile.Match(i))
		if !slices.Contains(code, mxTruncate(300, match)) {
			t.Errorf("corpus entry %d %.80q: log line not shown literally in a code span", i, s)
		}
		if !strings.Contains(c.Body, mxTruncate(300, match)) || !strings.Contains(c.Body, user) {
			t.Errorf("corpus entry %d %.80q: not shown literally in the text body", i, s)
		}
	}
	if !strings.Contains(c.FormattedBody, "evil&lt;b&gt;host&lt;/b&gt; @room https://evil.example/") {
		t.Error("the hostile host name is not escaped in formatted_body")
	}
}

func TestMatrixSettings(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(mxToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		settings map[string]any
		want     string // in the error; "" for none
	}{
		{"minimal", map[string]any{"homeserver": "https://matrix.example.org/", "access_token": mxToken, "room": mxRoom}, ""},
		{"token file, alias, m.text", map[string]any{"homeserver": "https://matrix.example.org", "access_token_file": tokenFile, "room": mxAlias, "msgtype": "m.text"}, ""},
		{"room version 12 ID", map[string]any{"homeserver": "https://matrix.example.org", "access_token": mxToken, "room": "!31hneApxJ_1o-63DmFrpeqnkFfWppnzWso1JvH3ogLM"}, ""},
		{"path prefix", map[string]any{"homeserver": "https://example.org/matrix", "access_token": mxToken, "room": mxRoom}, ""},
		{"no homeserver", map[string]any{"access_token": mxToken, "room": mxRoom}, "key homeserver: required"},
		{"homeserver not a URL", map[string]any{"homeserver": "matrix.example.org", "access_token": mxToken, "room": mxRoom}, "key homeserver"},
		{"homeserver ftp", map[string]any{"homeserver": "ftp://matrix.example.org", "access_token": mxToken, "room": mxRoom}, "key homeserver"},
		{"token in the URL", map[string]any{"homeserver": "https://matrix.example.org/?access_token=" + mxToken, "access_token": mxToken, "room": mxRoom}, "key homeserver"},
		{"user info", map[string]any{"homeserver": "https://bot:" + mxToken + "@matrix.example.org", "access_token": mxToken, "room": mxRoom}, "key homeserver"},
		{"no token", map[string]any{"homeserver": "https://matrix.example.org", "room": mxRoom}, "key access_token: required"},
		{"token with newline", map[string]any{"homeserver": "https://matrix.example.org", "access_token": mxToken + "\nx", "room": mxRoom}, "key access_token"},
		{"no room", map[string]any{"homeserver": "https://matrix.example.org", "access_token": mxToken}, "key room: required"},
		{"room without sigil", map[string]any{"homeserver": "https://matrix.example.org", "access_token": mxToken, "room": "ops:example.org"}, "key room"},
		{"alias without server", map[string]any{"homeserver": "https://matrix.example.org", "access_token": mxToken, "room": "#ops"}, "key room"},
		{"room with space", map[string]any{"homeserver": "https://matrix.example.org", "access_token": mxToken, "room": "!a b:example.org"}, "key room"},
		{"bad msgtype", map[string]any{"homeserver": "https://matrix.example.org", "access_token": mxToken, "room": mxRoom, "msgtype": "m.emote"}, "key msgtype"},
		{"unknown key", map[string]any{"homeserver": "https://matrix.example.org", "access_token": mxToken, "room": mxRoom, "rooms": "x"}, "rooms"},
		{"wrong type", map[string]any{"homeserver": "https://matrix.example.org", "access_token": mxToken, "room": 12}, "room"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := channels.New("ops-room", "matrix", tc.settings)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				if ch.Name() != "ops-room" || !slices.Equal(ch.Formats(), []channels.Format{channels.MatrixFormat, channels.Text}) {
					t.Errorf("name %q, formats %v", ch.Name(), ch.Formats())
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one with %q", tc.want)
			}
			if !strings.Contains(err.Error(), `channel "ops-room"`) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want the channel's name and %q", err, tc.want)
			}
			mxNoSecret(t, mxToken, err)
		})
	}
}

// TestMatrixRequestShape sends the sample report and checks the request as
// the spec documents it: PUT, the room ID escaped in the path, the token only
// in the Authorization header, the content's keys and types, the subject
// heading both bodies.
func TestMatrixRequestShape(t *testing.T) {
	f := mxStart(t)
	ch := mxChannel(t, f, mxRoom, nil)
	if len(f.Requests()) != 0 {
		t.Fatal("the constructor did network I/O")
	}
	m := renderReport(t, ch, config.Channel{}, mxSampleDigest())
	if err := ch.SendMessage(timeoutCtx(t, 10*time.Second), m); err != nil {
		t.Fatal(err)
	}
	f.checkRules(t)
	reqs := f.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPut || !strings.HasPrefix(r.URI, "/_matrix/client/v3/rooms/%21AbCdEf123%3Aexample.org/send/m.room.message/") {
		t.Errorf("request %s %s", r.Method, r.URI)
	}
	if r.Auth != "Bearer "+mxToken || strings.Contains(r.URI, mxToken) {
		t.Errorf("Authorization %q, URI %q: want the token in the header only", r.Auth, r.URI)
	}
	ev := f.Events()[0]
	if ev.MsgType != "m.notice" || ev.Format != "org.matrix.custom.html" || string(ev.Mentions) != "{}" {
		t.Errorf("msgtype %q, format %q, m.mentions %s", ev.MsgType, ev.Format, ev.Mentions)
	}
	wantHTML := "<h4>" + html.EscapeString(m.Subject) + "</h4>\n" + m.Bodies[channels.MatrixFormat]
	if ev.FormattedBody != wantHTML {
		t.Errorf("formatted_body:\n%s\nwant:\n%s", ev.FormattedBody, wantHTML)
	}
	if want := m.Subject + "\n\n" + strings.TrimRight(m.Bodies[channels.Text], "\n"); ev.Body != want {
		t.Errorf("body:\n%s\nwant:\n%s", ev.Body, want)
	}
	mxCheckMarkup(t, ev.FormattedBody)

	// m.text when asked for.
	f2 := mxStart(t)
	if err := mxChannel(t, f2, mxRoom, map[string]any{"msgtype": "m.text"}).SendMessage(timeoutCtx(t, 10*time.Second), m); err != nil {
		t.Fatal(err)
	}
	if got := f2.Events()[0].MsgType; got != "m.text" {
		t.Errorf("msgtype %q, want m.text", got)
	}
}

// TestMatrixDefaultTemplate keeps the default report in a golden file and
// checks it uses only the tags the spec recommends, without styles.
func TestMatrixDefaultTemplate(t *testing.T) {
	f := mxStart(t)
	ch := mxChannel(t, f, mxRoom, nil)
	m := renderReport(t, ch, config.Channel{}, mxSampleDigest())
	got := m.Bodies[channels.MatrixFormat]
	mxCheckMarkup(t, got)
	for _, banned := range []string{"<html", "<head", "<body", "<style", "<script", "style=", "class=", "<!DOCTYPE"} {
		if strings.Contains(strings.ToLower(got), strings.ToLower(banned)) {
			t.Errorf("the default template writes %q", banned)
		}
	}
	checkGolden(t, "matrix", "sample", []byte(got))
}

func TestMatrixHostileCorpus(t *testing.T) {
	f := mxStart(t)
	ch := mxChannel(t, f, mxRoom, nil)
	d, corpus := mxHostileDigest()
	m := renderReport(t, ch, config.Channel{}, d)
	if err := ch.SendMessage(timeoutCtx(t, 10*time.Second), m); err != nil {
		t.Fatal(err)
	}
	f.checkRules(t)
	evs := f.Events()
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	mxCheckHostile(t, evs[0], corpus)
	// Not vacuous: the corpus holds markup, links and mentions.
	all := strings.Join(corpus, "\n")
	for _, s := range []string{"<script>", "https://", "@room", "<a href"} {
		if !strings.Contains(all, s) {
			t.Errorf("the corpus has no %q", s)
		}
	}
}

// TestMatrixRetryIsIdempotent: the first attempt reaches the homeserver but
// its answer is lost (connection reset); the retry of the same report uses
// the same transaction ID, so the room gets one message. Another report
// gets another transaction ID.
func TestMatrixRetryIsIdempotent(t *testing.T) {
	f := mxStart(t)
	f.fail = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n != 1 {
			return false
		}
		// The first request is served (as request 2, to a recorder): the
		// message is posted. Then the connection is reset: the answer is lost.
		f.serve(httptest.NewRecorder(), mxReplay(r, f.Requests()[0].Body))
		mxReset(w)
		return true
	}
	ch := mxChannel(t, f, mxRoom, nil)
	m := renderReport(t, ch, config.Channel{}, mxSampleDigest())
	err := ch.SendMessage(timeoutCtx(t, 10*time.Second), m)
	if err == nil || channels.IsPermanent(err) {
		t.Fatalf("lost answer: error %v, want a retryable one", err)
	}
	if err := ch.SendMessage(timeoutCtx(t, 10*time.Second), m); err != nil {
		t.Fatalf("retry: %v", err)
	}
	reqs := f.Requests()
	if len(reqs) != 3 || reqs[0].URI != reqs[2].URI {
		t.Fatalf("requests %d, URIs %q / %q: want the retry to reuse the transaction ID", len(reqs), reqs[0].URI, reqs[len(reqs)-1].URI)
	}
	if n := len(f.Events()); n != 1 {
		t.Errorf("%d messages in the room, want 1", n)
	}
	other := m
	other.Subject += " (2)"
	if err := ch.SendMessage(timeoutCtx(t, 10*time.Second), other); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Events()); n != 2 {
		t.Errorf("a different report was taken for a retry: %d messages, want 2", n)
	}
}

// mxReplay is r with its body restored, for serving it again.
func mxReplay(r *http.Request, body []byte) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(strings.NewReader(string(body)))
	return r2
}

// mxReset closes the client's connection without an answer.
func mxReset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

func TestMatrixAlias(t *testing.T) {
	f := mxStart(t)
	ch := mxChannel(t, f, mxAlias, nil)
	if len(f.Requests()) != 0 {
		t.Fatal("the constructor resolved the alias")
	}
	m := renderReport(t, ch, config.Channel{}, mxSampleDigest())
	for range 2 {
		if err := ch.SendMessage(timeoutCtx(t, 10*time.Second), m); err != nil {
			t.Fatal(err)
		}
	}
	f.checkRules(t)
	reqs := f.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 (resolve once, send twice)", len(reqs))
	}
	if r := reqs[0]; r.Method != http.MethodGet || r.URI != "/_matrix/client/v3/directory/room/%23fail2ban%3Aexample.org" {
		t.Errorf("alias lookup %s %s", r.Method, r.URI)
	}
	if !strings.HasPrefix(reqs[1].URI, "/_matrix/client/v3/rooms/%21AbCdEf123%3Aexample.org/send/") {
		t.Errorf("send to %s, want the resolved room", reqs[1].URI)
	}

	// An alias that does not exist is a final error that names it.
	ch = mxChannel(t, f, "#nowhere:example.org", nil)
	err := ch.SendMessage(timeoutCtx(t, 10*time.Second), m)
	if err == nil || !channels.IsPermanent(err) || !strings.Contains(err.Error(), "#nowhere:example.org") || !strings.Contains(err.Error(), "M_NOT_FOUND") {
		t.Errorf("unknown alias: error %v, want a permanent one naming the alias and M_NOT_FOUND", err)
	}
}

func TestMatrixErrors(t *testing.T) {
	echo := "Unknown token " + mxToken // a server that quotes the token back
	for _, tc := range []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request)
		want   string // verdict
		reason string // in the error
	}{
		{"rate limited", func(w http.ResponseWriter, r *http.Request) {
			mxAnswer(w, 429, map[string]any{"errcode": "M_LIMIT_EXCEEDED", "error": "Too many requests", "retry_after_ms": 2500})
		}, "retry after 2.5s", "M_LIMIT_EXCEEDED"},
		{"rate limited, Retry-After header only", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			mxAnswer(w, 429, map[string]any{"errcode": "M_LIMIT_EXCEEDED", "error": "Too many requests"})
		}, "retry after 7s", "M_LIMIT_EXCEEDED"},
		{"rate limited under 400", func(w http.ResponseWriter, r *http.Request) {
			mxAnswer(w, 400, map[string]any{"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 1000})
		}, "retry after 1s", "M_LIMIT_EXCEEDED"},
		{"forbidden", func(w http.ResponseWriter, r *http.Request) {
			mxAnswer(w, 403, map[string]any{"errcode": "M_FORBIDDEN", "error": "User @bot:example.org not in room " + mxRoom})
		}, "permanent", "M_FORBIDDEN"},
		{"unknown token quoted back", func(w http.ResponseWriter, r *http.Request) {
			mxAnswer(w, 401, map[string]any{"errcode": "M_UNKNOWN_TOKEN", "error": echo, "soft_logout": false})
		}, "permanent", "M_UNKNOWN_TOKEN"},
		{"not found", func(w http.ResponseWriter, r *http.Request) {
			mxAnswer(w, 404, map[string]any{"errcode": "M_NOT_FOUND", "error": "Room not found"})
		}, "permanent", "M_NOT_FOUND"},
		{"too large", func(w http.ResponseWriter, r *http.Request) {
			mxAnswer(w, 413, map[string]any{"errcode": "M_TOO_LARGE", "error": "event too large"})
		}, "permanent", "M_TOO_LARGE"},
		{"bad json", func(w http.ResponseWriter, r *http.Request) {
			mxAnswer(w, 400, map[string]any{"errcode": "M_BAD_JSON", "error": "bad"})
		}, "permanent", "M_BAD_JSON"},
		{"server error", func(w http.ResponseWriter, r *http.Request) {
			mxAnswer(w, 500, map[string]any{"errcode": "M_UNKNOWN", "error": "Internal server error " + mxToken})
		}, "retry", "HTTP 500"},
		{"bad gateway, HTML", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(502)
			io.WriteString(w, "<html><body>502 Bad Gateway</body></html>")
		}, "retry", "HTTP 502"},
		{"200 without event_id", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "<html>a login page</html>")
		}, "permanent", "no event_id"},
		{"hang", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, "retry", "timed out"},
		{"reset", func(w http.ResponseWriter, r *http.Request) { mxReset(w) }, "retry", "EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mxStart(t)
			f.fail = func(w http.ResponseWriter, r *http.Request, _ int) bool { tc.answer(w, r); return true }
			ch := mxChannel(t, f, mxRoom, nil)
			ctx, cancel := context.WithTimeoutCause(context.Background(), 300*time.Millisecond, errors.New("timed out"))
			defer cancel()
			err := ch.Send(ctx, "subject", "<p>report</p>")
			t.Logf("error: %v", err)
			if got := verdict(err); got != tc.want {
				t.Errorf("verdict %q, want %q (error %v)", got, tc.want, err)
			}
			if err != nil && !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("error %q does not say %q", err, tc.reason)
			}
			mxNoSecret(t, mxToken, err)
			if err != nil && !strings.Contains(err.Error(), "send to room "+mxRoom) && !strings.Contains(err.Error(), "127.0.0.1") {
				t.Errorf("error %q says neither the room nor the server", err)
			}
		})
	}
	t.Run("server down", func(t *testing.T) {
		f := mxStart(t)
		ch := mxChannel(t, f, mxRoom, nil)
		f.srv.Close()
		err := ch.Send(timeoutCtx(t, 2*time.Second), "subject", "<p>report</p>")
		if got := verdict(err); got != "retry" {
			t.Errorf("verdict %q, want retry (error %v)", got, err)
		}
		mxNoSecret(t, mxToken, err)
	})
	t.Run("alias lookup rate limited", func(t *testing.T) {
		f := mxStart(t)
		f.fail = func(w http.ResponseWriter, r *http.Request, _ int) bool {
			mxAnswer(w, 429, map[string]any{"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 500})
			return true
		}
		err := mxChannel(t, f, mxAlias, nil).Send(timeoutCtx(t, 2*time.Second), "subject", "<p>report</p>")
		if got := verdict(err); got != "retry after 500ms" || !strings.Contains(err.Error(), "resolve room alias "+mxAlias) {
			t.Errorf("verdict %q, error %v", got, err)
		}
	})
}

// TestMatrixWrongToken: the fake refuses the token; the error is final and
// never shows the token, which the fake quotes back.
func TestMatrixWrongToken(t *testing.T) {
	f := mxStart(t)
	wrong := "syt_d3Jvbmc_WRONGtokenVALUE_9z8y7x"
	s := mxSettings(f.srv.URL, mxRoom, map[string]any{"access_token": wrong})
	ch, err := channels.New("ops-room", "matrix", s)
	if err != nil {
		t.Fatal(err)
	}
	v := channels.Deliver(timeoutCtx(t, 10*time.Second), channels.Job{Channel: ch, Message: renderReport(t, ch, config.Channel{}, mxSampleDigest()), Attempts: 3})
	if v.Err == nil || v.Attempts != 1 || !strings.Contains(v.Err.Error(), `channel "ops-room"`) || !strings.Contains(v.Err.Error(), "M_UNKNOWN_TOKEN") {
		t.Errorf("verdict %+v, want one final attempt naming the channel and M_UNKNOWN_TOKEN", v)
	}
	mxNoSecret(t, wrong, v.Err)
}

// mxBigDigest has n offenders, each with a user name and two log lines.
func mxBigDigest(n int) *report.Digest {
	d := &report.Digest{Host: "web1.example.org", Generated: mxEnd, From: mxEnd.Add(-time.Hour), To: mxEnd,
		Totals: report.Totals{Bans: n, IPs: n, Failures: 5 * n, Jails: 1},
		Jails:  []report.JailStat{{Name: "sshd", Bans: n, IPs: n, Failures: 5 * n}},
		Notes:  report.Notes{Records: n, Batches: 1},
	}
	var users, matches []string
	for i := range hostile.Corpus() {
		users = append(users, report.Neutralise(hostile.User(i)))
		matches = append(matches, report.Neutralise(hostile.Match(i)))
	}
	for i := range n {
		ip := fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256)
		d.Offenders = append(d.Offenders, report.Offender{
			IP: ip, Jails: []string{"sshd"}, Bans: 1, Failures: 5,
			FirstSeen: mxEnd.Add(-time.Hour), LastSeen: mxEnd, Bantime: 600,
			Users:   []string{users[i%len(users)]},
			Matches: []string{matches[i%len(matches)], "May  3 05:59:59 vm sshd[1]: Connection closed by " + ip + " port 22 [preauth]"},
		})
	}
	return d
}

// TestMatrixLargeReport: 1,000 offenders (5,000 in TestMatrixDendrite; the
// cut is the same and this keeps the test quick under -race). The flush cuts the HTML to the
// channel's limit ("and N more"); the channel cuts the text body at a line
// boundary; the content stays under 60,000 bytes of JSON.
func TestMatrixLargeReport(t *testing.T) {
	f := mxStart(t)
	ch := mxChannel(t, f, mxRoom, nil)
	d := mxBigDigest(1000)
	m := renderReport(t, ch, config.Channel{}, d)
	if got := ch.Measure(m.Bodies[channels.MatrixFormat]); got > ch.Limit() {
		t.Fatalf("the flush left an HTML body of %d, over the limit %d", got, ch.Limit())
	}
	if err := ch.SendMessage(timeoutCtx(t, 10*time.Second), m); err != nil {
		t.Fatal(err)
	}
	f.checkRules(t)
	reqs, evs := f.Requests(), f.Events()
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	if n := len(reqs[0].Body); n > mxMaxContent || n < mxMaxContent-3000 {
		t.Errorf("content is %d bytes, want just under %d", n, mxMaxContent)
	}
	mxCheckLarge(t, evs[0], m)
}

// mxCheckLarge checks the event of a report cut to fit: the HTML ends with
// "and N more offenders" and its notes, the text body is whole lines of the
// rendered text followed by the cut note.
func mxCheckLarge(t *testing.T, ev mxContent, m channels.Message) {
	t.Helper()
	mxCheckMarkup(t, ev.FormattedBody)
	if !regexp.MustCompile(`… and \d+ more offenders`).MatchString(ev.FormattedBody) || !strings.HasSuffix(ev.FormattedBody, "batch</i></p>\n") {
		t.Errorf("formatted_body does not end as the template does, with the offenders left out:\n…%s", ev.FormattedBody[max(0, len(ev.FormattedBody)-600):])
	}
	const note = "[… cut here to fit the Matrix event size limit]"
	kept, ok := strings.CutSuffix(ev.Body, "\n"+note)
	if !ok {
		t.Fatalf("body does not end with the cut note:\n…%s", ev.Body[max(0, len(ev.Body)-300):])
	}
	full := m.Subject + "\n\n" + m.Bodies[channels.Text]
	if !strings.HasPrefix(full, kept+"\n") {
		t.Error("the text body is not a prefix of whole lines of the rendered text")
	}
	if len(kept) < 10000 {
		t.Errorf("the text body kept only %d bytes", len(kept))
	}
}

// TestMatrixSend: Send (the Channel method) takes the formatted body and
// makes the text body from it.
func TestMatrixSend(t *testing.T) {
	f := mxStart(t)
	ch := mxChannel(t, f, mxRoom, nil)
	err := ch.Send(timeoutCtx(t, 10*time.Second), "Test <from> f2b-notify",
		"<p>Hello &amp; <b>welcome</b><br>line two</p>\n<ul><li><code>a&lt;b&gt;</code></li><li>x</li></ul>")
	if err != nil {
		t.Fatal(err)
	}
	f.checkRules(t)
	ev := f.Events()[0]
	if want := "Test <from> f2b-notify\n\nHello & welcome\nline two\na<b>\nx"; ev.Body != want {
		t.Errorf("body %q, want %q", ev.Body, want)
	}
	if !strings.HasPrefix(ev.FormattedBody, "<h4>Test &lt;from&gt; f2b-notify</h4>\n<p>Hello") {
		t.Errorf("formatted_body %q", ev.FormattedBody)
	}

	// A formatted body that cannot fit in an event is refused before sending.
	err = ch.Send(timeoutCtx(t, 10*time.Second), "big", "<p>"+strings.Repeat("x", 70000)+"</p>")
	if !channels.IsPermanent(err) || len(f.Requests()) != 1 {
		t.Errorf("oversized body: error %v after %d requests, want a final error and no request", err, len(f.Requests()))
	}
}

func TestMatrixMeasure(t *testing.T) {
	ch, err := channels.NewMatrix("m", "https://matrix.example.org", mxToken, mxRoom, "")
	if err != nil {
		t.Fatal(err)
	}
	// Invalid UTF-8 is sent as U+FFFD, which go1.26's encoding/json writes as
	// the escape \ufffd (6 bytes) and go1.27's as the character (3 bytes): "x\xffy"
	// measures x, y and the quoted U+FFFD of the Go in use.
	fffd, err := json.Marshal("\xff")
	if err != nil {
		t.Fatal(err)
	}
	xy := 2 + len(fffd)
	for in, want := range map[string]int{
		"":           2,
		"<p>a</p>":   10,
		"a\nb":       6,  // \n is two bytes in JSON
		`"\`:         6,  // both escaped
		"é":          4,  // UTF-8 bytes, not escaped
		"\u2028":     8,  // escaped by encoding/json
		"<&>":        5,  // markup is not HTML-escaped in the JSON
		"\x01":       8,  // \u0001
		"x\xffy":     xy, // invalid UTF-8 is sent as U+FFFD
		"日本":         8,
		"a b\tc":     8,
		"emoji 🙂":    12,
		"long" + "…": 9,
	} {
		if got := ch.Measure(in); got != want {
			t.Errorf("Measure(%q) = %d, want %d", in, got, want)
		}
	}
}

// mxBuiltDigest is a digest of n bans from n addresses over the hour before
// mxEnd, built as the flush builds one (so it has a chart), each offender
// with a hostile user name and log line.
func mxBuiltDigest(n int) *report.Digest {
	b := report.NewBuilder(report.Options{Host: "web1.example.org", Generated: mxEnd})
	for i := range n {
		ip := fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256)
		b.Add(&buffer.Record{
			V: buffer.SchemaVersion, Action: buffer.ActionBan, Jail: []string{"sshd", "postfix-sasl"}[i%2], IP: ip,
			Time: float64(mxEnd.Add(-time.Duration(i%60) * time.Minute).Unix()), At: mxEnd.Unix(),
			Failures: 5, Bantime: 600, User: hostile.User(i % len(hostile.Corpus())), Matches: []string{hostile.Match(i % len(hostile.Corpus()))},
		})
	}
	return b.Digest()
}

// mxAttachment returns the message's attachment of kind k.
func mxAttachment(t *testing.T, m channels.Message, k channels.AttachmentKind) channels.Attachment {
	t.Helper()
	for _, a := range m.Attachments {
		if a.Kind == k {
			return a
		}
	}
	t.Fatalf("the report has no %s attachment (it has %d)", k, len(m.Attachments))
	return channels.Attachment{}
}

// mxFastJob is a job of three attempts with millisecond backoff.
func mxFastJob(ch channels.Channel, m channels.Message) channels.Job {
	return channels.Job{Channel: ch, Message: m, Attempts: 3, Timeout: 5 * time.Second, Backoff: func(int) time.Duration { return time.Millisecond }}
}

// TestMatrixAttachments delivers a report that was cut to fit: the report,
// then the chart uploaded and posted as an m.image, then the full list
// uploaded and posted as an m.file. The uploads are checked as the spec
// documents them, the events against what was uploaded.
func TestMatrixAttachments(t *testing.T) {
	f := mxStart(t)
	ch := mxChannel(t, f, mxRoom, nil)
	m := renderReport(t, ch, config.Channel{}, mxBuiltDigest(1000))
	chart, list := mxAttachment(t, m, channels.Chart), mxAttachment(t, m, channels.FullList)
	if !strings.Contains(m.Bodies[channels.MatrixFormat], "(all listed in the attached offenders.csv)") {
		t.Errorf("the cut report does not name the attached list")
	}
	v := channels.Deliver(timeoutCtx(t, 20*time.Second), mxFastJob(ch, m))
	if v.Err != nil || len(v.Warnings) != 0 || v.Attempts != 1 {
		t.Fatalf("verdict %+v, want delivered in one attempt without warnings", v)
	}
	f.checkRules(t)
	reqs := f.Requests()
	if len(reqs) != 5 {
		t.Fatalf("%d requests, want 5 (report, upload and event for each of two files)", len(reqs))
	}
	evs := f.Events()
	if len(evs) != 3 || evs[0].MsgType != "m.notice" {
		t.Fatalf("%d events, want the report then two files", len(evs))
	}
	ups := f.Uploads()
	for i, tc := range []struct {
		a       channels.Attachment
		msgtype string
	}{{chart, "m.image"}, {list, "m.file"}} {
		up, ev := reqs[1+2*i], evs[1+i]
		if up.Method != http.MethodPost || up.URI != "/_matrix/media/v3/upload?filename="+tc.a.Name {
			t.Errorf("upload of %s: %s %s", tc.a.Name, up.Method, up.URI)
		}
		if up.Auth != "Bearer "+mxToken || up.ContentType != tc.a.Type || !bytes.Equal(up.Body, tc.a.Data) {
			t.Errorf("upload of %s: Authorization %q, Content-Type %q, %d bytes; want the token, %q and the file's %d bytes",
				tc.a.Name, up.Auth, up.ContentType, len(up.Body), tc.a.Type, len(tc.a.Data))
		}
		if !strings.HasPrefix(reqs[2+2*i].URI, "/_matrix/client/v3/rooms/%21AbCdEf123%3Aexample.org/send/m.room.message/") {
			t.Errorf("event of %s sent to %s", tc.a.Name, reqs[2+2*i].URI)
		}
		if ev.MsgType != tc.msgtype || ev.FileName != tc.a.Name || ev.Body != tc.a.Caption || string(ev.Mentions) != "{}" {
			t.Errorf("event of %s: msgtype %q, filename %q, body %q, m.mentions %s; want %s, its name and caption, {}",
				tc.a.Name, ev.MsgType, ev.FileName, ev.Body, ev.Mentions, tc.msgtype)
		}
		if got, ok := ups[ev.URL]; !ok || !bytes.Equal(got.Data, tc.a.Data) {
			t.Errorf("event of %s points at %q, not at its upload", tc.a.Name, ev.URL)
		}
		if ev.Info.MimeType != tc.a.Type || ev.Info.Size != len(tc.a.Data) {
			t.Errorf("event of %s: info %+v, want %s and %d bytes", tc.a.Name, ev.Info, tc.a.Type, len(tc.a.Data))
		}
	}
	png, err := pngSize(chart.Data)
	if err != nil {
		t.Fatal(err)
	}
	if ev := evs[1]; ev.Info.W != png.X || ev.Info.H != png.Y || png.X == 0 {
		t.Errorf("m.image info w %d, h %d; the PNG is %dx%d", ev.Info.W, ev.Info.H, png.X, png.Y)
	}
	if ev := evs[2]; ev.Info.W != 0 || ev.Info.H != 0 || !strings.HasPrefix(list.Type, "text/csv") {
		t.Errorf("m.file info %+v for %s: want no width or height", ev.Info, list.Type)
	}
	if !strings.HasPrefix(string(list.Data), "ip,bans,") || strings.Count(string(list.Data), "\n10.") != 1000 {
		t.Errorf("the full list does not hold the 1,000 offenders")
	}

	// A report that fits has no full list: only the chart goes with it.
	f2 := mxStart(t)
	ch2 := mxChannel(t, f2, mxRoom, nil)
	m2 := renderReport(t, ch2, config.Channel{}, mxBuiltDigest(10))
	if v := channels.Deliver(timeoutCtx(t, 20*time.Second), mxFastJob(ch2, m2)); v.Err != nil || len(v.Warnings) != 0 {
		t.Fatalf("verdict %+v", v)
	}
	if evs := f2.Events(); len(evs) != 2 || evs[1].MsgType != "m.image" {
		t.Errorf("a report that fits: %d events, want the report and the chart", len(evs))
	}
}

// pngSize reads the width and height of a PNG from its IHDR chunk.
func pngSize(b []byte) (image.Point, error) {
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return image.Point{}, fmt.Errorf("the chart is not a PNG: %w", err)
	}
	return image.Pt(cfg.Width, cfg.Height), nil
}

// TestMatrixAttachmentFailures: an upload the homeserver refuses for good
// (too large, forbidden) is a warning of a delivered report, and the next
// file is still sent; a rate limit or a server error is retried. The
// warnings never show the token, which the fake quotes back.
func TestMatrixAttachmentFailures(t *testing.T) {
	m := renderReport(t, mxChannel(t, mxStart(t), mxRoom, nil), config.Channel{}, mxBuiltDigest(1000))
	const tooLarge = "upload bans.png (%d bytes) to the media repository: the file is over the homeserver's upload size limit: HTTP 413"
	for _, tc := range []struct {
		name    string
		answer  func(w http.ResponseWriter)
		warning []string // none: the chart is posted after a retry
	}{
		{"too large", func(w http.ResponseWriter) {
			mxAnswer(w, 413, map[string]any{"errcode": "M_TOO_LARGE", "error": "Cannot upload files larger than 1.00M for " + mxToken})
		}, []string{fmt.Sprintf(tooLarge, len(m.Attachments[0].Data)), "M_TOO_LARGE: Cannot upload files larger than 1.00M"}},
		{"too large, as Dendrite says it", func(w http.ResponseWriter) {
			mxAnswer(w, 413, map[string]any{"errcode": "M_UNKNOWN", "error": "HTTP Content-Length is greater than the maximum allowed upload size (10485760)."})
		}, []string{fmt.Sprintf(tooLarge, len(m.Attachments[0].Data)), "(10485760)"}},
		{"forbidden", func(w http.ResponseWriter) {
			mxAnswer(w, 403, map[string]any{"errcode": "M_FORBIDDEN", "error": "Uploads are disabled"})
		}, []string{"HTTP 403 Forbidden: M_FORBIDDEN: Uploads are disabled (may the account upload files?)"}},
		{"rate limited", func(w http.ResponseWriter) {
			mxAnswer(w, 429, map[string]any{"errcode": "M_LIMIT_EXCEEDED", "error": "Too many requests", "retry_after_ms": 20})
		}, nil},
		{"server error", func(w http.ResponseWriter) {
			mxAnswer(w, 502, map[string]any{"errcode": "M_UNKNOWN", "error": "upstream " + mxToken})
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := mxStart(t)
			pngUploads := 0
			f.fail = func(w http.ResponseWriter, r *http.Request, _ int) bool {
				if r.URL.Path != "/_matrix/media/v3/upload" || r.URL.Query().Get("filename") != "bans.png" {
					return false
				}
				if pngUploads++; pngUploads > 1 {
					return false
				}
				tc.answer(w)
				return true
			}
			ch := mxChannel(t, f, mxRoom, nil)
			start := time.Now()
			v := channels.Deliver(timeoutCtx(t, 20*time.Second), mxFastJob(ch, m))
			t.Logf("verdict %+v", v)
			if v.Err != nil {
				t.Fatalf("the report counts as not delivered: %v", v.Err)
			}
			for _, w := range v.Warnings {
				mxNoSecret(t, mxToken, errors.New(w))
			}
			var types []string
			for _, ev := range f.Events() {
				types = append(types, ev.MsgType)
			}
			f.checkRules(t)
			if tc.warning == nil {
				if len(v.Warnings) != 0 || pngUploads != 2 || !slices.Equal(types, []string{"m.notice", "m.image", "m.file"}) {
					t.Errorf("warnings %q, %d uploads of the chart, events %q: want it retried and posted", v.Warnings, pngUploads, types)
				}
				if tc.name == "rate limited" && time.Since(start) < 20*time.Millisecond {
					t.Errorf("the retry did not wait the retry_after_ms")
				}
				return
			}
			want := append([]string{`channel "ops-room": the report was delivered, but not the attached bans.png: `}, tc.warning...)
			if len(v.Warnings) != 1 || slices.ContainsFunc(want, func(s string) bool { return !strings.Contains(v.Warnings[0], s) }) {
				t.Errorf("warnings %q, want one saying %q", v.Warnings, want)
			}
			if pngUploads != 1 || !slices.Equal(types, []string{"m.notice", "m.file"}) {
				t.Errorf("%d uploads of the chart, events %q: want one final try, and the list still posted", pngUploads, types)
			}
		})
	}
}

// TestMatrixAttachmentRetryIsIdempotent: the chart's event reaches the room
// but its answer is lost; the retry posts the same event with the same
// transaction ID (the file is not uploaded again), so the room shows the
// chart once.
func TestMatrixAttachmentRetryIsIdempotent(t *testing.T) {
	f := mxStart(t)
	lost := false
	f.fail = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if lost || r.Method != http.MethodPut || len(f.Events()) != 1 {
			return false // only the first PUT after the report: the chart's event
		}
		lost = true
		f.serve(httptest.NewRecorder(), mxReplay(r, f.Requests()[n-1].Body))
		mxReset(w)
		return true
	}
	ch := mxChannel(t, f, mxRoom, nil)
	m := renderReport(t, ch, config.Channel{}, mxBuiltDigest(10))
	v := channels.Deliver(timeoutCtx(t, 20*time.Second), mxFastJob(ch, m))
	if v.Err != nil || len(v.Warnings) != 0 || !lost {
		t.Fatalf("verdict %+v (answer lost: %v), want delivered after a retry", v, lost)
	}
	f.checkRules(t)
	var puts, uploads []string
	for _, r := range f.Requests() {
		switch r.Method {
		case http.MethodPut:
			puts = append(puts, r.URI)
		case http.MethodPost:
			uploads = append(uploads, r.URI)
		}
	}
	// The report, the chart's event, the chart's event retried (served
	// twice by the fake: once replayed, once again).
	if len(puts) != 4 || puts[1] != puts[2] || puts[2] != puts[3] || puts[0] == puts[1] {
		t.Errorf("event PUTs %q: want the chart's retried with its transaction ID", puts)
	}
	if len(uploads) != 1 {
		t.Errorf("%d uploads, want 1: the retry reuses the uploaded file", len(uploads))
	}
	if evs := f.Events(); len(evs) != 2 || evs[1].MsgType != "m.image" {
		t.Errorf("%d events, want the report and one chart", len(evs))
	}
}

// TestMatrixPayload: preview --payload shows the report's event as it is
// PUT, then each file's event, with a placeholder for the URL of a file that
// preview does not upload.
func TestMatrixPayload(t *testing.T) {
	f := mxStart(t)
	ch := mxChannel(t, f, mxRoom, nil)
	m := renderReport(t, ch, config.Channel{}, mxBuiltDigest(1000))
	p, err := ch.Payload(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Requests()) != 0 {
		t.Fatal("Payload did network I/O")
	}
	if err := ch.SendMessage(timeoutCtx(t, 10*time.Second), m); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(p), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want the report and two files:\n%.500s", len(lines), p)
	}
	if sent := string(f.Requests()[0].Body); lines[0] != sent {
		t.Errorf("the report's payload is not what is PUT")
	}
	for i, want := range []struct{ msgtype, name string }{{"m.image", "bans.png"}, {"m.file", "offenders.csv"}} {
		var c mxContent
		if err := json.Unmarshal([]byte(lines[1+i]), &c); err != nil {
			t.Fatalf("line %d: %v", 2+i, err)
		}
		if c.MsgType != want.msgtype || c.FileName != want.name || c.Info.Size != len(m.Attachments[i].Data) || c.URL != "mxc://homeserver/uploaded-when-sent" {
			t.Errorf("line %d: %+v, want %s of %s with the placeholder URL", 2+i, c, want.msgtype, want.name)
		}
	}
}
