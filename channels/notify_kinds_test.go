package channels_test

// Tests of the kinds on github.com/nikoksr/notify services: each against a
// fake of its platform that checks the request as the platform documents it
// and answers as told: success, a final error (4xx), a retryable one (5xx),
// a rate limit (429), or no answer at all (the deadline must hold, also for
// Pushover's client, which has no context).

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/channels"
)

// nbFake is a platform: it records each request and answers with mode's
// status; "hang" answers nothing until the test ends.
type nbFake struct {
	*httptest.Server
	mu       sync.Mutex
	mode     string // "ok", "hang", or a status code such as "401"
	requests []nbRequest
	release  chan struct{}
	once     sync.Once
}

// unhang lets the requests that hang end.
func (f *nbFake) unhang() { f.once.Do(func() { close(f.release) }) }

type nbRequest struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
	Body         []byte
}

// nbAnswer is how a kind's fake answers a request: ok for a success; else
// the platform's error for status, whose text echoes the request (URL,
// headers and body), as a careless server or proxy would.
type nbAnswer func(w http.ResponseWriter, r *http.Request, body []byte, status int)

func nbStart(t *testing.T, answer nbAnswer) *nbFake {
	t.Helper()
	f := &nbFake{mode: "ok", release: make(chan struct{})}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.requests = append(f.requests, nbRequest{r.Method, r.URL.Path, r.URL.Query(), r.Header.Clone(), body})
		mode := f.mode
		f.mu.Unlock()
		if mode == "hang" {
			select {
			case <-f.release:
			case <-r.Context().Done():
			}
			return
		}
		status := 200
		if mode != "ok" {
			fmt.Sscan(mode, &status)
		}
		answer(w, r, body, status)
	}))
	t.Cleanup(func() { f.unhang(); f.Close() })
	return f
}

func (f *nbFake) set(mode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode, f.requests = mode, nil
}

func (f *nbFake) got() []nbRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]nbRequest(nil), f.requests...)
}

// nbEcho is an error text that echoes the whole request.
func nbEcho(r *http.Request, body []byte) string {
	return fmt.Sprintf("refused %s %s headers %v body %s", r.Method, r.URL.String(), r.Header, body)
}

// nbKind is one notify-backed kind under test.
type nbKind struct {
	kind     string
	settings func(srv string) map[string]any
	secrets  []string
	answer   nbAnswer
	// check checks one report's requests as the platform documents them.
	check func(t *testing.T, reqs []nbRequest, subject, body string)
	// final429 is set where the platform's 429 cannot be told from its other
	// refusals (Pushover: its monthly quota; retrying cannot help).
	final429 bool
}

const (
	nbPushoverToken = "azGDORePK8gMaC0QOYAMyEEuzJnyUi"
	nbPushoverUser  = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"
	nbMMPassword    = "mm-password-Zq81xv"
	nbMMToken       = "mm-session-token-9vKq"
	nbMMChannel     = "4xp9fdt7pbgium38k5k6ef6q1o"
	nbPDToken       = "pd-rest-token-y_WNc4Ltqh"
)

func nbPushover() nbKind {
	return nbKind{
		kind: "pushover",
		settings: func(srv string) map[string]any {
			apiProxy.Route("api.pushover.net", strings.TrimPrefix(srv, "http://"))
			return map[string]any{"token": nbPushoverToken, "user_key": nbPushoverUser}
		},
		secrets: []string{nbPushoverToken, nbPushoverUser},
		answer: func(w http.ResponseWriter, r *http.Request, body []byte, status int) {
			w.Header().Set("Content-Type", "application/json")
			if status == 200 {
				w.Header().Set("X-Limit-App-Limit", "10000")
				w.Header().Set("X-Limit-App-Remaining", "9999")
				w.Header().Set("X-Limit-App-Reset", "1735689600")
				fmt.Fprint(w, `{"status":1,"request":"5042853c-402d-4a18-abcb-168734a801de"}`)
				return
			}
			w.WriteHeader(status)
			if status >= 500 {
				fmt.Fprint(w, nbEcho(r, body)) // Pushover's 5xx is not JSON
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"status": 0, "errors": []string{nbEcho(r, body)}, "request": "x"})
		},
		check: func(t *testing.T, reqs []nbRequest, subject, body string) {
			if len(reqs) != 1 {
				t.Fatalf("want 1 request, got %d", len(reqs))
			}
			r := reqs[0]
			if r.Method != "POST" || r.Path != "/1/messages.json" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
				t.Errorf("request %s %s %s, want POST /1/messages.json, a form", r.Method, r.Path, r.Header.Get("Content-Type"))
			}
			form, err := url.ParseQuery(string(r.Body))
			if err != nil {
				t.Fatal(err)
			}
			for k, want := range map[string]string{"token": nbPushoverToken, "user": nbPushoverUser, "title": subject, "message": body} {
				if got := form.Get(k); got != want {
					t.Errorf("form field %s = %q, want %q", k, got, want)
				}
			}
		},
		final429: true,
	}
}

func nbMattermost() nbKind {
	return nbKind{
		kind: "mattermost",
		settings: func(srv string) map[string]any {
			return map[string]any{"url": srv + "/", "login_id": "f2b-bot", "password": nbMMPassword, "channel_id": nbMMChannel}
		},
		secrets: []string{nbMMPassword, nbMMToken},
		answer: func(w http.ResponseWriter, r *http.Request, body []byte, status int) {
			w.Header().Set("Content-Type", "application/json")
			if status == 418 && r.URL.Path == "/api/v4/posts" { // the login works, the post fails
				status = 500
			}
			if status != 200 && status != 418 {
				w.WriteHeader(status)
				json.NewEncoder(w).Encode(map[string]any{"id": "api.error", "message": nbEcho(r, body), "status_code": status})
				return
			}
			switch r.URL.Path {
			case "/api/v4/users/login":
				w.Header().Set("Token", nbMMToken)
				fmt.Fprint(w, `{"id":"u1","username":"f2b-bot"}`)
			case "/api/v4/posts":
				if r.Header.Get("Authorization") != "Bearer "+nbMMToken {
					w.WriteHeader(401)
					return
				}
				w.WriteHeader(201)
				fmt.Fprint(w, `{"id":"p1"}`)
			default:
				w.WriteHeader(404)
			}
		},
		check: func(t *testing.T, reqs []nbRequest, subject, body string) {
			if len(reqs) != 2 {
				t.Fatalf("want a login and a post, got %d requests", len(reqs))
			}
			var login, post map[string]string
			if r := reqs[0]; r.Method != "POST" || r.Path != "/api/v4/users/login" || json.Unmarshal(r.Body, &login) != nil {
				t.Fatalf("first request %s %s %s, want the login", r.Method, r.Path, r.Body)
			}
			if login["login_id"] != "f2b-bot" || login["password"] != nbMMPassword {
				t.Errorf("login body %v", login)
			}
			r := reqs[1]
			if r.Method != "POST" || r.Path != "/api/v4/posts" || r.Header.Get("Authorization") != "Bearer "+nbMMToken || json.Unmarshal(r.Body, &post) != nil {
				t.Fatalf("second request %s %s (Authorization %q) %s, want the post with the session token", r.Method, r.Path, r.Header.Get("Authorization"), r.Body)
			}
			if post["channel_id"] != nbMMChannel || post["message"] != subject+"\n"+body {
				t.Errorf("post body %v, want channel %s and the subject line then the report", post, nbMMChannel)
			}
		},
	}
}

func nbPagerDuty() nbKind {
	return nbKind{
		kind: "pagerduty",
		settings: func(srv string) map[string]any {
			return map[string]any{"token": nbPDToken, "from": "admin@example.org", "service_id": "PIJ90N7", "urgency": "low", "api_url": srv}
		},
		secrets: []string{nbPDToken},
		answer: func(w http.ResponseWriter, r *http.Request, body []byte, status int) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(map[bool]int{true: 201, false: status}[status == 200])
			if status == 200 {
				fmt.Fprint(w, `{"incident":{"id":"PT4KHLK","type":"incident"}}`)
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": nbEcho(r, body), "code": 2001, "errors": []string{nbEcho(r, body)}}})
		},
		check: func(t *testing.T, reqs []nbRequest, subject, body string) {
			if len(reqs) != 1 {
				t.Fatalf("want 1 request, got %d", len(reqs))
			}
			r := reqs[0]
			if r.Method != "POST" || r.Path != "/incidents" {
				t.Errorf("request %s %s, want POST /incidents", r.Method, r.Path)
			}
			if got := r.Header.Get("Authorization"); got != "Token token="+nbPDToken {
				t.Errorf("Authorization %q, want Token token=TOKEN", got)
			}
			if got := r.Header.Get("From"); got != "admin@example.org" {
				t.Errorf("From %q", got)
			}
			var in struct {
				Incident struct {
					Type, Title, Urgency string
					Service              struct{ ID, Type string }
					Body                 struct{ Type, Details string }
				}
			}
			if err := json.Unmarshal(r.Body, &in); err != nil {
				t.Fatalf("body: %v\n%s", err, r.Body)
			}
			i := in.Incident
			if i.Type != "incident" || i.Title != subject || i.Urgency != "low" || i.Service.ID != "PIJ90N7" || i.Service.Type != "service_reference" || i.Body.Type != "incident_body" || i.Body.Details != body {
				t.Errorf("incident %+v", i)
			}
		},
	}
}

func nbRocketChat() nbKind {
	return nbKind{
		kind: "rocketchat",
		settings: func(srv string) map[string]any {
			return map[string]any{"url": srv, "user_id": "aobEdbYhXfu5hkeqG", "token": nbRCToken, "channel": "#security"}
		},
		secrets: []string{nbRCToken},
		answer: func(w http.ResponseWriter, r *http.Request, body []byte, status int) {
			w.Header().Set("Content-Type", "application/json")
			switch {
			case status == 200:
				fmt.Fprint(w, `{"success":true,"channel":"security","message":{"_id":"m1"}}`)
			case status == 429:
				w.WriteHeader(status)
				fmt.Fprint(w, `{"success":false,"error":"Error, too many requests. Please slow down. You must wait 10 seconds before trying this endpoint again. [error-too-many-requests]"}`)
			case status >= 500: // a proxy's page, not JSON
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(status)
				fmt.Fprint(w, "<html>"+nbEcho(r, body)+"</html>")
			default:
				w.WriteHeader(status)
				json.NewEncoder(w).Encode(map[string]any{"success": false, "error": nbEcho(r, body) + " [error-not-allowed]"})
			}
		},
		check: func(t *testing.T, reqs []nbRequest, subject, body string) {
			if len(reqs) != 1 {
				t.Fatalf("want 1 request, got %d", len(reqs))
			}
			r := reqs[0]
			if r.Method != "POST" || r.Path != "/api/v1/chat.postMessage" || r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("request %s %s %s, want POST /api/v1/chat.postMessage, JSON", r.Method, r.Path, r.Header.Get("Content-Type"))
			}
			if r.Header.Get("X-Auth-Token") != nbRCToken || r.Header.Get("X-User-Id") != "aobEdbYhXfu5hkeqG" {
				t.Errorf("X-Auth-Token %q, X-User-Id %q", r.Header.Get("X-Auth-Token"), r.Header.Get("X-User-Id"))
			}
			var m map[string]any
			if err := json.Unmarshal(r.Body, &m); err != nil || m["channel"] != "#security" || m["text"] != subject+"\n"+body {
				t.Errorf("body %s (%v), want channel and the subject line then the report as text", r.Body, err)
			}
		},
	}
}

const nbRCToken = "rc-personal-token-W8dsm2Kx"

func nbKinds() []nbKind {
	return []nbKind{nbPushover(), nbMattermost(), nbRocketChat(), nbPagerDuty(), nbTextMagic(), nbBark(), nbDingTalk()}
}

// nbQuickBackoff makes retries all but immediate for the test.
func nbQuickBackoff(int) time.Duration { return 10 * time.Millisecond }

func nbDeliver(ch channels.Channel, subject, body string, timeout time.Duration) channels.Verdict {
	return channels.Deliver(context.Background(), channels.Job{
		Channel: ch, Timeout: timeout, Attempts: 3, Backoff: nbQuickBackoff,
		Message: channels.Message{Subject: subject, Bodies: map[channels.Format]string{ch.Formats()[0]: body}},
	})
}

func TestNotifyKindsRequestsAndVerdicts(t *testing.T) {
	subject, body := "fail2ban report for host1", "3 bans, 2 addresses\n\n192.0.2.7  sshd  5 failures\n198.51.100.3  <b>&amp;</b>"
	// The figures of RELIABILITY.md's notify-kind-faults row.
	var tried, final, retried, leaked int
	hangMin, hangMax := time.Hour, time.Duration(0)
	defer func() {
		t.Logf("RELIABILITY: scenario=notify-kind-faults tried=%d lost=0 duplicated=0 leaked=%d kinds=%d final=%d retried=%d hang_3x300ms=%d-%dms",
			tried, leaked, len(nbKinds()), final, retried, hangMin.Milliseconds(), hangMax.Milliseconds())
	}()
	for _, k := range nbKinds() {
		t.Run(k.kind, func(t *testing.T) {
			f := nbStart(t, k.answer)
			ch, err := channels.New("n-"+k.kind, k.kind, k.settings(f.URL))
			if err != nil {
				t.Fatal(err)
			}
			want := channels.Text
			if k.kind == "textmagic" || k.kind == "pushover" {
				want = channels.SMSFormat
			}
			if got := ch.Formats(); len(got) != 1 || got[0] != want {
				t.Errorf("formats %v, want %s", got, want)
			}
			if ch.Limit() <= 0 {
				t.Errorf("limit %d, want the platform's", ch.Limit())
			}

			f.set("ok")
			if v := nbDeliver(ch, subject, body, 5*time.Second); v.Err != nil || v.Attempts != 1 {
				t.Fatalf("success: %+v", v)
			}
			k.check(t, f.got(), subject, body)

			for _, c := range []struct {
				mode     string
				attempts int
			}{{"400", 1}, {"401", 1}, {"404", 1}, {"500", 3}, {"503", 3}, {"429", 3}, {"418", 1}} {
				if c.mode == "418" && k.kind == "mattermost" {
					c.attempts = 3 // the post fails with 500 after a login that works
				}
				want := c.attempts
				if c.mode == "429" && k.final429 {
					want = 1
				}
				f.set(c.mode)
				v := nbDeliver(ch, subject, body, 5*time.Second)
				tried++
				if v.Attempts == 1 {
					final++
				} else {
					retried++
				}
				if v.Err == nil || v.Attempts != want {
					t.Errorf("answer %s: %d attempts, error %v; want %d attempts and an error", c.mode, v.Attempts, v.Err, want)
					continue
				}
				if final := channels.IsPermanent(v.Err); final != (want == 1) {
					t.Errorf("answer %s: final %v: %v", c.mode, final, v.Err)
				}
				if !strings.Contains(v.Err.Error(), "n-"+k.kind) {
					t.Errorf("answer %s: error does not name the channel: %v", c.mode, v.Err)
				}
				leaked += nbNoSecret(t, v.Err, k.secrets)
			}

			f.set("hang")
			start := time.Now()
			v := nbDeliver(ch, subject, body, 300*time.Millisecond)
			took := time.Since(start)
			tried++
			hangMin, hangMax = min(hangMin, took), max(hangMax, took)
			if v.Err != nil {
				leaked += nbNoSecret(t, v.Err, k.secrets)
			}
			if v.Err == nil || took > 5*time.Second {
				t.Errorf("no answer: took %s, error %v; want the 3 attempts' deadlines to hold", took, v.Err)
			} else if !strings.Contains(v.Err.Error(), "timed out after 300ms") {
				t.Errorf("no answer: error %v does not say it timed out", v.Err)
			}
		})
	}
}

// nbNoSecret fails when err shows a secret, as given or URL-escaped, and
// says how many it shows.
func nbNoSecret(t *testing.T, err error, secrets []string) int {
	t.Helper()
	n := 0
	for _, s := range secrets {
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s)} {
			if strings.Contains(err.Error(), form) {
				t.Errorf("error shows the secret %q: %v", s, err)
				n++
			}
		}
	}
	return n
}

func TestNotifyKindsSettings(t *testing.T) {
	for _, c := range []struct {
		kind     string
		settings map[string]any
		want     string
	}{
		{"pushover", map[string]any{"user_key": nbPushoverUser}, "key token: missing"},
		{"pushover", map[string]any{"token": "short", "user_key": nbPushoverUser}, "key token: want 30 letters and digits"},
		{"pushover", map[string]any{"token": nbPushoverToken, "user_key": nbPushoverUser, "device": "x"}, "device"},
		{"mattermost", map[string]any{"url": "chat.example.org", "login_id": "a", "password": "b", "channel_id": nbMMChannel}, "key url: not an http"},
		{"mattermost", map[string]any{"url": "https://chat.example.org", "login_id": "a", "password": "b", "channel_id": "town-square"}, "key channel_id: want the channel's ID"},
		{"mattermost", map[string]any{"url": "https://chat.example.org", "login_id": "a", "channel_id": nbMMChannel}, "key password: missing"},
		{"rocketchat", map[string]any{"url": "https://chat.example.org/x", "user_id": "u", "token": "t", "channel": "#c"}, "key url: want the server's address alone"},
		{"rocketchat", map[string]any{"url": "https://chat.example.org", "user_id": "u", "token": "t"}, "key channel: missing"},
		{"pagerduty", map[string]any{"token": "t", "from": "Admin <a@example.org>", "service_id": "P1"}, "key from: want the e-mail address"},
		{"pagerduty", map[string]any{"token": "t", "from": "a@example.org", "service_id": "P 1"}, "key service_id"},
		{"pagerduty", map[string]any{"token": "t", "from": "a@example.org", "service_id": "P1", "urgency": "urgent"}, "key urgency"},
		{"textmagic", map[string]any{"username": "u", "api_key": "k"}, "key phones: missing"},
		{"textmagic", map[string]any{"username": "u", "api_key": "k", "phones": []any{"07700 900123"}}, "key phones: \"07700 900123\" is not a number in international format"},
		{"textmagic", map[string]any{"username": "u", "phones": []any{"+447700900123"}}, "key api_key: missing"},
		{"bark", map[string]any{"server": "https://bark.example.org"}, "key device_key: missing"},
		{"bark", map[string]any{"device_key": "a/b"}, "key device_key: want the key the Bark app shows"},
		{"bark", map[string]any{"device_key": "abc", "server": "bark.example.org"}, "key server: not an http"},
		{"dingtalk", map[string]any{"token": "t"}, "key secret: missing"},
		{"dingtalk", map[string]any{"token": "t t", "secret": "SEC1"}, "key token: contains a space"},
		{"syslog", map[string]any{"address": "/dev/log"}, "key address goes with network"},
		{"syslog", map[string]any{"network": "unixgram", "address": "dev/log"}, "key address: want the absolute path"},
		{"syslog", map[string]any{"network": "udp", "address": "192.0.2.1"}, "key address: want host:port"},
		{"syslog", map[string]any{"facility": "mail2"}, "key facility"},
		{"syslog", map[string]any{"severity": "loud"}, "key severity"},
		{"syslog", map[string]any{"tag": "a b"}, "key tag"},
	} {
		_, err := channels.New("c", c.kind, c.settings)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s %v: error %v, want one line with %q", c.kind, c.settings, err, c.want)
		}
	}
}

// TestNotifyAbandonedCallsBounded: a platform that never answers and a client
// that never gives up (Pushover's) leave their calls running in the
// background; the process bounds them, and says so, rather than piling up
// goroutines and connections.
func TestNotifyAbandonedCallsBounded(t *testing.T) {
	k := nbPushover()
	f := nbStart(t, k.answer)
	ch, err := channels.New("p", "pushover", k.settings(f.URL))
	if err != nil {
		t.Fatal(err)
	}
	f.set("hang")
	var last error
	for range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		last = ch.Send(ctx, "s", "b")
		cancel()
	}
	if last == nil || !strings.Contains(last.Error(), "earlier calls to notification services are still running") {
		t.Errorf("after 20 abandoned calls: %v, want the bound to say so", last)
	}
	reached := len(f.got())
	if reached > 16 {
		t.Errorf("%d requests reached the platform, want at most 16 at once", reached)
	}
	// Once the platform answers, the abandoned calls end and free their places.
	f.unhang()
	f.set("ok")
	freed := time.Now()
	deadline := freed.Add(10 * time.Second)
	defer func() {
		t.Logf("RELIABILITY: scenario=notify-abandoned-calls tried=20 lost=0 duplicated=0 leaked=0 reached=%d bound=16 sent_after=%dms", reached, time.Since(freed).Milliseconds())
	}()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := ch.Send(ctx, "s", "b")
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the abandoned calls did not end once the platform answered: %v", err)
		}
	}
}

const nbBarkKey = "yTXnR2cUeb7kq4DHpPvW3a"

func nbBark() nbKind {
	return nbKind{
		kind: "bark",
		settings: func(srv string) map[string]any {
			return map[string]any{"device_key": nbBarkKey, "server": srv + "/bark"}
		},
		secrets: []string{nbBarkKey},
		answer: func(w http.ResponseWriter, r *http.Request, body []byte, status int) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			if status == 200 {
				fmt.Fprint(w, `{"code":200,"message":"success","timestamp":1735689600}`)
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"code": status, "message": nbEcho(r, body)})
		},
		check: func(t *testing.T, reqs []nbRequest, subject, body string) {
			if len(reqs) != 1 {
				t.Fatalf("want 1 request, got %d", len(reqs))
			}
			r := reqs[0]
			if r.Method != "POST" || r.Path != "/bark/push" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				t.Errorf("request %s %s %s, want POST /bark/push, JSON", r.Method, r.Path, r.Header.Get("Content-Type"))
			}
			var m map[string]any
			if err := json.Unmarshal(r.Body, &m); err != nil || m["device_key"] != nbBarkKey || m["title"] != subject || m["body"] != body {
				t.Errorf("body %s (%v), want the device key, the subject as title and the report as body", r.Body, err)
			}
		},
	}
}

const (
	nbDTToken  = "7c1a9e2f0b3d4c5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6"
	nbDTSecret = "SEC8e2d1c0b9a8f7e6d5c4b3a29180f7e6d5c4b3a2918"
)

func nbDingTalk() nbKind {
	return nbKind{
		kind: "dingtalk",
		settings: func(srv string) map[string]any {
			apiProxy.Route("oapi.dingtalk.com", strings.TrimPrefix(srv, "http://"))
			return map[string]any{"token": nbDTToken, "secret": nbDTSecret}
		},
		secrets: []string{nbDTToken, nbDTSecret},
		// DingTalk refuses with status 200 and an errcode; its rate limit is
		// one of those; a proxy in front of it answers 5xx.
		answer: func(w http.ResponseWriter, r *http.Request, body []byte, status int) {
			w.Header().Set("Content-Type", "application/json")
			switch {
			case status == 200:
				fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
			case status == 429:
				fmt.Fprint(w, `{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}`)
			case status >= 500:
				w.WriteHeader(status)
				fmt.Fprint(w, nbEcho(r, body))
			default:
				json.NewEncoder(w).Encode(map[string]any{"errcode": 310000, "errmsg": nbEcho(r, body)})
			}
		},
		check: func(t *testing.T, reqs []nbRequest, subject, body string) {
			if len(reqs) != 1 {
				t.Fatalf("want 1 request, got %d", len(reqs))
			}
			r := reqs[0]
			if r.Method != "POST" || r.Path != "/robot/send" || r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("request %s %s %s, want POST /robot/send, JSON", r.Method, r.Path, r.Header.Get("Content-Type"))
			}
			// The signature DingTalk checks: HMAC-SHA256 of "timestamp\nsecret"
			// keyed with the secret, in base64.
			mac := hmac.New(sha256.New, []byte(nbDTSecret))
			mac.Write([]byte(r.Query.Get("timestamp") + "\n" + nbDTSecret))
			if r.Query.Get("access_token") != nbDTToken || r.Query.Get("sign") != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
				t.Errorf("query %v, want the access token, a timestamp and its signature", r.Query)
			}
			var m struct {
				MsgType string
				Text    struct{ Content string }
			}
			if err := json.Unmarshal(r.Body, &m); err != nil || m.MsgType != "text" || m.Text.Content != subject+"\n"+body {
				t.Errorf("body %s (%v), want a text message: the subject line, then the report", r.Body, err)
			}
		},
	}
}

// TestDingTalkTransportErrorHidesTheSignature: a transport failure quotes
// the request's URL, with the access token and the signature, which stays
// valid for an hour: neither is in the error.
func TestDingTalkTransportErrorHidesTheSignature(t *testing.T) {
	k := nbDingTalk()
	settings := k.settings("http://127.0.0.1:9") // nothing listens there: the proxy's tunnel closes
	ch, err := channels.New("ding", "dingtalk", settings)
	if err != nil {
		t.Fatal(err)
	}
	v := nbDeliver(ch, "s", "b", 5*time.Second)
	if v.Err == nil || channels.IsPermanent(v.Err) || !strings.Contains(v.Err.Error(), "sign=[redacted]") {
		t.Fatalf("a transport failure: %v, want it retried, the signature redacted", v.Err)
	}
	nbNoSecret(t, v.Err, k.secrets)
}
