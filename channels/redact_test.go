package channels_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/channels"
)

// TestDeliverErrorIsNeutralisedAndRedacted: a webhook answering with
// terminal escapes and a secret of another channel. The verdict's error
// shows the escapes in visible form, redacts the secret the Redactor knows,
// stays on one line and keeps its classification (final for a 400, retry
// after the given wait for a 429).
func TestDeliverErrorIsNeutralisedAndRedacted(t *testing.T) {
	const other = "OTHER-CHANNEL-SECRET-1234"
	for _, c := range []struct {
		status int
		want   string
	}{{400, "permanent"}, {429, "retry after 2s"}} {
		srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(c.status)
			_, _ = w.Write([]byte("\x1b]0;title\x07\x1b[2J \u202eevil " + other + "\nnext"))
		})
		ch, err := channels.New("hook", "webhook", map[string]any{"url": srv.URL + "/h"})
		if err != nil {
			t.Fatal(err)
		}
		v := channels.Deliver(t.Context(), channels.Job{Channel: ch, Attempts: 1, Timeout: 5 * time.Second,
			Message:  channels.Message{Bodies: map[channels.Format]string{channels.JSONFormat: "{}"}},
			Redactor: channels.NewRedactor([]string{other})})
		if v.Err == nil {
			t.Fatalf("HTTP %d: no error", c.status)
		}
		msg := v.Err.Error()
		if !strings.Contains(msg, `\x1b]0;title\x07\x1b[2J <U+202E>evil [redacted] next`) || strings.ContainsAny(msg, "\x1b\x07\u202e\n") || strings.Contains(msg, other) {
			t.Errorf("HTTP %d: error %q, want the escapes visible, the secret redacted, one line", c.status, msg)
		}
		if got := verdict(v.Err); got != c.want {
			t.Errorf("HTTP %d: %s, want %s", c.status, got, c.want)
		}
	}
}
