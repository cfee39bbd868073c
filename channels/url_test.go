package channels_test

import (
	"strings"
	"testing"

	"github.com/f2b-notify/f2b-notify/channels"
)

// TestEndpointURLs: every channel that takes a URL refuses one that is not
// an http(s) URL with a host, or that holds a space or a line break (a
// pasted URL cut in two), naming the channel and the key and never echoing
// the URL, which may hold a token.
func TestEndpointURLs(t *testing.T) {
	const secret = "T0ken5ecretPath0123456789"
	kinds := []struct {
		kind, key string
		rest      map[string]any
	}{
		{"webhook", "url", nil},
		{"slack", "webhook_url", nil},
		{"slack", "api_url", map[string]any{"token": "xoxb-1", "channel": "C1"}},
		{"discord", "webhook_url", nil},
		{"teams", "webhook_url", nil},
		{"ntfy", "server", map[string]any{"topic": "bans"}},
		{"matrix", "homeserver", map[string]any{"access_token": "syt_x", "room": "!r:example.org"}},
		{"telegram", "api_url", map[string]any{"token": "123:abc", "chat_id": "-100"}},
	}
	bad := []string{
		"https://hooks.example.com/" + secret + " x",
		"https://hooks.example.com/" + secret + "\n",
		"https://hooks.example.com/\t" + secret,
		" https://hooks.example.com/" + secret,
		"https://hooks.example.com/" + secret + "\u00a0",
		"hooks.example.com/" + secret,
		"file:///etc/" + secret,
		"https:///" + secret,
		"https://:8443/" + secret,
	}
	for _, k := range kinds {
		for _, u := range bad {
			s := map[string]any{k.key: u}
			for key, v := range k.rest {
				s[key] = v
			}
			_, err := channels.New("c", k.kind, s)
			if err == nil {
				t.Errorf("%s %s %q: accepted", k.kind, k.key, u)
				continue
			}
			msg := err.Error()
			if !strings.Contains(msg, `channel "c"`) || !strings.Contains(msg, "key "+k.key) {
				t.Errorf("%s %s %q: error %q does not name the channel and the key", k.kind, k.key, u, msg)
			}
			if strings.Contains(msg, secret) || strings.Contains(msg, "\n") {
				t.Errorf("%s %s %q: error %q shows the URL or spans lines", k.kind, k.key, u, msg)
			}
		}
	}
}
