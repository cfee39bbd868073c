// Package fakebot is a fake Telegram Bot API server for tests. It listens on
// 127.0.0.1 and implements sendMessage the way the Bot API documents it for
// what f2b-notify uses: POST with a JSON (or form) body, the bot token in the
// path, chat_id, message_thread_id, parse_mode HTML, link_preview_options,
// disable_notification. It parses the HTML text as Telegram does (see
// ParseHTML), refuses what Telegram refuses with Telegram's error answers,
// and records every message it accepts: the text after entity parsing and
// its entities. It implements sendPhoto and sendDocument with a file
// uploaded as multipart/form-data too, checks the file against the Bot
// API's limits and records it (see Upload). A test can make it answer the next requests with the
// platform's errors (flood control with retry_after, 401, 403, chat not
// found, 5xx), hang, or reset the connection. Everything is torn down by
// t.Cleanup.
package fakebot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one message the server accepted.
type Message struct {
	// ID is the message_id the server answered. Messages and uploads take
	// their ids from one sequence, so ids give the order of arrival.
	ID int
	// ChatID is chat_id as sent: an integer's decimal digits or "@name".
	ChatID string
	// ThreadID is message_thread_id, 0 when not sent.
	ThreadID int64
	// HTML is the text as sent; Text is the text after entity parsing.
	HTML, Text string
	// Entities are the entities of Text, those the tags made and those
	// Telegram finds by itself, sorted by offset.
	Entities []Entity
	// ParseMode is parse_mode as sent.
	ParseMode string
	// LinkPreviewDisabled reports link_preview_options.is_disabled (or the
	// legacy disable_web_page_preview).
	LinkPreviewDisabled bool
	// DisableNotification is disable_notification.
	DisableNotification bool
	// Fields holds every parameter as decoded from the body: JSON values
	// (numbers as json.Number), or strings for a form.
	Fields map[string]any
	// Header is the HTTP request's header.
	Header http.Header
}

// Covered returns the text of the entities of type typ.
func (m Message) Covered(typ string) []string {
	var out []string
	for _, e := range m.Entities {
		if e.Type == typ {
			out = append(out, e.Text)
		}
	}
	return out
}

// Reply is a scripted answer to one request (see Fail).
type Reply struct {
	// Status and Description make a Bot API error answer:
	// {"ok":false,"error_code":Status,"description":Description}.
	Status      int
	Description string
	// RetryAfter, when positive, adds "parameters":{"retry_after":N}.
	RetryAfter int
	// MigrateTo, when set, adds "parameters":{"migrate_to_chat_id":N}.
	MigrateTo int64
	// Body, when set, is sent as it is instead of the JSON (an HTML error
	// page of a proxy), with ContentType.
	Body, ContentType string
	// Hang makes the server answer nothing until the client gives up.
	Hang bool
	// Reset makes the server reset the connection without an answer.
	Reset bool
	// Accept makes the server handle the request normally (to script a
	// failure after some successes).
	Accept bool
	// LoseAnswer handles the request normally (the message is posted) but
	// never answers, as when the connection dies on the way back: the
	// server hangs until the client gives up.
	LoseAnswer bool
}

// The Bot API's answers to the failures channels must handle.
var (
	Accept         = Reply{Accept: true}
	Unauthorized   = Reply{Status: 401, Description: "Unauthorized"}
	Blocked        = Reply{Status: 403, Description: "Forbidden: bot was blocked by the user"}
	NotMember      = Reply{Status: 403, Description: "Forbidden: bot is not a member of the channel chat"}
	ChatNotFound   = Reply{Status: 400, Description: "Bad Request: chat not found"}
	ThreadNotFound = Reply{Status: 400, Description: "Bad Request: message thread not found"}
	InternalError  = Reply{Status: 500, Description: "Internal Server Error: restart"}
	BadGateway     = Reply{Status: 502, ContentType: "text/html",
		Body: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n"}
	Hang  = Reply{Hang: true}
	Reset = Reply{Reset: true}
)

// FloodWait is the answer to a bot that sends too fast.
func FloodWait(seconds int) Reply {
	return Reply{Status: 429, Description: fmt.Sprintf("Too Many Requests: retry after %d", seconds), RetryAfter: seconds}
}

// Migrated is the answer when the group became a supergroup with a new id.
func Migrated(to int64) Reply {
	return Reply{Status: 400, Description: "Bad Request: group chat was upgraded to a supergroup chat", MigrateTo: to}
}

// Server is a running fake Bot API. Its methods are safe for concurrent use.
type Server struct {
	token string
	srv   *httptest.Server
	done  chan struct{}

	mu         sync.Mutex
	chats      map[string]bool
	script     []Reply
	messages   []Message
	uploads    []Upload
	requests   int
	violations []string
	nextID     int
	closed     bool
}

// Start starts a fake Bot API for the bot token. Only the chats given are
// known (others get "chat not found"); with none, every chat is.
func Start(t testing.TB, token string, chats ...string) *Server {
	t.Helper()
	s := &Server{token: token, done: make(chan struct{}), chats: map[string]bool{}, nextID: 1}
	for _, c := range chats {
		s.chats[c] = true
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.handle))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("fakebot: listen: %v", err)
	}
	s.srv.Listener.Close()
	s.srv.Listener = l
	s.srv.Start()
	t.Cleanup(s.Close)
	return s
}

// URL is the base URL of the API, what api_url is set to
// ("http://127.0.0.1:PORT").
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server, releasing hung requests. Connections are refused
// afterwards.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Fail makes the next requests get these replies, one each, in order;
// requests after them are handled normally.
func (s *Server) Fail(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, replies...)
}

// Messages returns the messages accepted so far, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Uploads returns the files accepted so far with sendPhoto and
// sendDocument, in order.
func (s *Server) Uploads() []Upload {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Upload(nil), s.uploads...)
}

// Requests returns how many requests reached the server.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Violations lists the requests that broke the Bot API's rules for the
// method (wrong HTTP method, content type, parameter types, ...): the
// server answered them with an error, and a test should expect none.
func (s *Server) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.violations...)
}

// answer is the Bot API's envelope.
type answer struct {
	OK          bool          `json:"ok"`
	Result      any           `json:"result,omitempty"`
	ErrorCode   int           `json:"error_code,omitempty"`
	Description string        `json:"description,omitempty"`
	Parameters  *answerParams `json:"parameters,omitempty"`
}

type answerParams struct {
	RetryAfter      int   `json:"retry_after,omitempty"`
	MigrateToChatID int64 `json:"migrate_to_chat_id,omitempty"`
}

func writeAnswer(w http.ResponseWriter, status int, a answer) {
	b, _ := json.Marshal(a)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

func writeError(w http.ResponseWriter, status int, description string) {
	writeAnswer(w, status, answer{ErrorCode: status, Description: description})
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	var reply *Reply
	if len(s.script) > 0 {
		reply = &s.script[0]
		s.script = s.script[1:]
	}
	s.mu.Unlock()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequest+1))
	if err != nil {
		return
	}
	if len(body) > maxRequest {
		writeError(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	switch {
	case reply == nil, reply.Accept:
		s.serve(w, r, body)
	case reply.LoseAnswer:
		s.serve(httptest.NewRecorder(), r, body)
		s.scripted(w, r, Hang)
	default:
		s.scripted(w, r, *reply)
	}
}

// serve handles one request as the Bot API would.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, body []byte) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	token, method, ok := strings.Cut(rest, "/")
	if !ok || token != s.token {
		writeError(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	upload := strings.EqualFold(method, "sendPhoto") || strings.EqualFold(method, "sendDocument")
	if !strings.EqualFold(method, "sendMessage") && !upload {
		writeError(w, http.StatusNotFound, "Not Found: method not found")
		return
	}
	if r.Method != http.MethodPost {
		s.violation(w, "HTTP method %s, want POST", r.Method)
		return
	}
	if r.URL.RawQuery != "" {
		s.violation(w, "parameters in the query string")
		return
	}
	if upload {
		s.sendFile(w, r, method, body)
		return
	}
	fields, err := decodeFields(r.Header.Get("Content-Type"), body)
	if err != nil {
		s.violation(w, "%v", err)
		return
	}
	s.sendMessage(w, r, fields)
}

// scripted answers with a Reply given to Fail.
func (s *Server) scripted(w http.ResponseWriter, r *http.Request, reply Reply) {
	switch {
	case reply.Hang:
		select {
		case <-r.Context().Done():
		case <-s.done:
		}
	case reply.Reset:
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("fakebot: cannot hijack the connection")
		}
		conn, _, err := hj.Hijack()
		if err != nil {
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0) // close with RST
		}
		conn.Close()
	case reply.Body != "":
		w.Header().Set("Content-Type", reply.ContentType)
		w.WriteHeader(reply.Status)
		io.WriteString(w, reply.Body)
	default:
		a := answer{ErrorCode: reply.Status, Description: reply.Description}
		if reply.RetryAfter > 0 || reply.MigrateTo != 0 {
			a.Parameters = &answerParams{RetryAfter: reply.RetryAfter, MigrateToChatID: reply.MigrateTo}
		}
		writeAnswer(w, reply.Status, a)
	}
}

// violation records a request that breaks the API's rules and answers it
// with 400.
func (s *Server) violation(w http.ResponseWriter, format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	s.mu.Lock()
	s.violations = append(s.violations, msg)
	s.mu.Unlock()
	writeError(w, http.StatusBadRequest, "Bad Request: "+msg)
}

// decodeFields reads the parameters of a request body: JSON, or a
// urlencoded or multipart form, as the Bot API accepts.
func decodeFields(contentType string, body []byte) (map[string]any, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, fmt.Errorf("Content-Type %q: %v", contentType, err)
	}
	switch mt {
	case "application/json":
		if cs := params["charset"]; cs != "" && !strings.EqualFold(cs, "utf-8") {
			return nil, fmt.Errorf("JSON body in charset %s", cs)
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var fields map[string]any
		if err := dec.Decode(&fields); err != nil {
			return nil, fmt.Errorf("body is not a JSON object: %v", err)
		}
		if dec.More() {
			return nil, errors.New("data after the JSON object")
		}
		return fields, nil
	case "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("form body: %v", err)
		}
		fields := map[string]any{}
		for k := range v {
			fields[k] = v.Get(k)
		}
		return fields, nil
	}
	return nil, fmt.Errorf("Content-Type %s, want application/json or a form", mt)
}

// sendMessage checks and records one message.
func (s *Server) sendMessage(w http.ResponseWriter, r *http.Request, f map[string]any) {
	m := Message{Fields: f, Header: r.Header.Clone()}
	var err error
	if m.ChatID, err = chatID(f["chat_id"]); err != nil {
		s.violation(w, "%v", err)
		return
	}
	if v, ok := f["message_thread_id"]; ok {
		if m.ThreadID, err = integer("message_thread_id", v); err != nil {
			s.violation(w, "%v", err)
			return
		}
	}
	html, ok := f["text"].(string)
	if !ok {
		if _, present := f["text"]; present {
			s.violation(w, "text is a %T, want a string", f["text"])
			return
		}
		writeError(w, http.StatusBadRequest, "Bad Request: message text is empty")
		return
	}
	m.HTML = html
	if m.ParseMode, ok = f["parse_mode"].(string); !ok || !strings.EqualFold(m.ParseMode, "HTML") {
		s.violation(w, "parse_mode %v, want HTML", f["parse_mode"])
		return
	}
	if v, ok := f["disable_notification"]; ok {
		if m.DisableNotification, err = boolean("disable_notification", v); err != nil {
			s.violation(w, "%v", err)
			return
		}
	}
	if v, ok := f["disable_web_page_preview"]; ok {
		if m.LinkPreviewDisabled, err = boolean("disable_web_page_preview", v); err != nil {
			s.violation(w, "%v", err)
			return
		}
	}
	if v, ok := f["link_preview_options"]; ok {
		if m.LinkPreviewDisabled, err = linkPreview(v); err != nil {
			s.violation(w, "%v", err)
			return
		}
	}
	s.mu.Lock()
	known := len(s.chats) == 0 || s.chats[m.ChatID]
	s.mu.Unlock()
	if !known {
		writeError(w, http.StatusBadRequest, "Bad Request: chat not found")
		return
	}
	text, entities, err := ParseHTML(html)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Bad Request: can't parse entities: "+err.Error())
		return
	}
	if strings.TrimSpace(text) == "" {
		writeError(w, http.StatusBadRequest, "Bad Request: message text is empty")
		return
	}
	if Length(text) > MaxLength {
		writeError(w, http.StatusBadRequest, "Bad Request: message is too long")
		return
	}
	m.Text, m.Entities = text, entities
	s.mu.Lock()
	m.ID = s.nextID
	s.nextID++
	s.messages = append(s.messages, m)
	s.mu.Unlock()
	result := messageResult(m.ID, m.ChatID, m.ThreadID)
	result["text"] = text
	if len(entities) > 0 {
		result["entities"] = entities
	}
	writeAnswer(w, http.StatusOK, answer{OK: true, Result: result})
}

// messageResult is the Message object the Bot API answers for a message
// sent to chat (and thread, if not 0), without its content.
func messageResult(id int, chatID string, thread int64) map[string]any {
	chat := map[string]any{"id": json.Number(chatID), "type": "supergroup"}
	if strings.HasPrefix(chatID, "@") {
		chat = map[string]any{"id": -1001000000001, "type": "channel", "username": chatID[1:]}
	}
	result := map[string]any{
		"message_id": id,
		"date":       time.Now().Unix(),
		"chat":       chat,
	}
	if thread != 0 {
		result["message_thread_id"] = thread
		result["is_topic_message"] = true
	}
	return result
}

// chatID reads chat_id: an integer, or a string holding one or @username.
func chatID(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", errors.New("chat_id is missing")
	case json.Number:
		if _, err := v.Int64(); err != nil {
			return "", fmt.Errorf("chat_id %s is not an integer", v)
		}
		return v.String(), nil
	case string:
		if strings.HasPrefix(v, "@") && len(v) > 1 {
			return v, nil
		}
		if _, err := strconv.ParseInt(v, 10, 64); err == nil {
			return v, nil
		}
		return "", fmt.Errorf("chat_id %q is neither an integer nor @username", v)
	}
	return "", fmt.Errorf("chat_id is a %T, want an integer or a string", v)
}

func integer(name string, v any) (int64, error) {
	switch v := v.(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n, nil
		}
	case string:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("%s %v is not an integer", name, v)
}

func boolean(name string, v any) (bool, error) {
	switch v := v.(type) {
	case bool:
		return v, nil
	case string:
		if b, err := strconv.ParseBool(v); err == nil {
			return b, nil
		}
	}
	return false, fmt.Errorf("%s %v is not a Boolean", name, v)
}

// linkPreview reads link_preview_options: a LinkPreviewOptions object, or
// its JSON in a form field.
func linkPreview(v any) (bool, error) {
	if s, ok := v.(string); ok {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var o any
		if err := dec.Decode(&o); err != nil {
			return false, fmt.Errorf("link_preview_options is not JSON: %v", err)
		}
		v = o
	}
	o, ok := v.(map[string]any)
	if !ok {
		return false, fmt.Errorf("link_preview_options is a %T, want an object", v)
	}
	for k := range o {
		switch k {
		case "is_disabled", "url", "prefer_small_media", "prefer_large_media", "show_above_text":
		default:
			return false, fmt.Errorf("link_preview_options has unknown field %s", k)
		}
	}
	d, ok := o["is_disabled"]
	if !ok {
		return false, nil
	}
	b, ok := d.(bool)
	if !ok {
		return false, fmt.Errorf("link_preview_options.is_disabled is a %T, want a Boolean", d)
	}
	return b, nil
}
