package channels_test

// Tests of the textmagic kind, an SMS channel: against a fake of TextMagic's
// API, reached through the HTTPS proxy that stands in for its fixed address
// (main_test.go); with the other HTTP kinds in TestNotifyKindsRequestsAndVerdicts.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/channels"
)

const (
	nbTMUser = "f2bops"
	nbTMKey  = "tm-api-key-Jx8Qm2Lr5vT9wZ"
)

func nbTextMagic() nbKind {
	return nbKind{
		kind: "textmagic",
		settings: func(srv string) map[string]any {
			apiProxy.Route("rest.textmagic.com", strings.TrimPrefix(srv, "http://"))
			return map[string]any{"username": nbTMUser, "api_key": nbTMKey, "phones": []any{"+447700900123", "447700900456"}}
		},
		secrets: []string{nbTMKey, base64.StdEncoding.EncodeToString([]byte(nbTMUser + ":" + nbTMKey))},
		answer: func(w http.ResponseWriter, r *http.Request, body []byte, status int) {
			w.Header().Set("Content-Type", "application/json")
			switch {
			case status == 200:
				w.WriteHeader(201)
				fmt.Fprint(w, `{"id":49576009,"href":"/api/v2/messages/49576009","type":"message","sessionId":34436600,"bulkId":null,"messageId":49576009,"scheduleId":null,"chatId":null}`)
			default: // TextMagic's error document
				w.WriteHeader(status)
				json.NewEncoder(w).Encode(map[string]any{"code": status, "message": nbEcho(r, body), "errors": map[string]any{"fields": map[string]any{"phones": []string{nbEcho(r, body)}}}})
			}
		},
		check: func(t *testing.T, reqs []nbRequest, subject, body string) {
			if len(reqs) != 1 {
				t.Fatalf("want 1 request, got %d", len(reqs))
			}
			r := reqs[0]
			if r.Method != "POST" || r.Path != "/api/v2/messages" || r.Header.Get("Content-Type") != "application/json" {
				t.Errorf("request %s %s %s, want POST /api/v2/messages, JSON", r.Method, r.Path, r.Header.Get("Content-Type"))
			}
			if user, key, ok := (&http.Request{Header: r.Header}).BasicAuth(); !ok || user != nbTMUser || key != nbTMKey {
				t.Errorf("basic authentication %q %q %v, want the user name and the API key", user, key, ok)
			}
			var m map[string]any
			// The SMS is the summary alone (the body), not the subject.
			if err := json.Unmarshal(r.Body, &m); err != nil || m["text"] != body || m["phones"] != "+447700900123,447700900456" {
				t.Errorf("body %s (%v), want the summary as text and the numbers", r.Body, err)
			}
		},
	}
}

// TestTextMagicAcceptedIsSent: TextMagic accepted the SMS (201), whatever
// its answer says (here, less than its documentation shows): the SMS went
// out, and sending it again at a retry would send it twice. A refusal shows
// TextMagic's reason.
func TestTextMagicAcceptedIsSent(t *testing.T) {
	k := nbTextMagic()
	var answer string
	f := nbStart(t, func(w http.ResponseWriter, r *http.Request, body []byte, status int) {
		w.Header().Set("Content-Type", "application/json")
		if status != 200 {
			w.WriteHeader(status)
		} else {
			w.WriteHeader(201)
		}
		fmt.Fprint(w, answer)
	})
	ch, err := channels.New("sms", "textmagic", k.settings(f.URL))
	if err != nil {
		t.Fatal(err)
	}
	answer = `{"id":49576009,"href":"/api/v2/messages/49576009","type":"message"}`
	if v := nbDeliver(ch, "s", "f2b host: 1 ban/1 IP", 5*time.Second); v.Err != nil || v.Attempts != 1 || len(f.got()) != 1 {
		t.Errorf("an accepted SMS with a short answer: %d attempts, %d requests, error %v; want it sent once", v.Attempts, len(f.got()), v.Err)
	}
	f.set("400")
	answer = `{"code":400,"message":"Validation Failed","errors":{"fields":{"phones":["Invalid phone number format"]}}}`
	v := nbDeliver(ch, "s", "f2b host: 1 ban/1 IP", 5*time.Second)
	if v.Err == nil || !channels.IsPermanent(v.Err) || !strings.Contains(v.Err.Error(), "400 Bad Request") || !strings.Contains(v.Err.Error(), "Invalid phone number format") {
		t.Errorf("a refusal: %v, want final, with its status and TextMagic's reason", v.Err)
	}
}
