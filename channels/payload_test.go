package channels_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/f2b-notify/f2b-notify/channels"
)

// TestPayloadsAreTheRequestBodies: preview --payload shows, for the HTTP
// channels, the JSON they would send; it holds the message and no secret.
func TestPayloadsAreTheRequestBodies(t *testing.T) {
	for _, c := range []struct {
		kind     string
		settings map[string]any
		format   channels.Format
		secret   string
	}{
		{"telegram", map[string]any{"token": "123456789:AAsecretsecretsecretsecretsecret123", "chat_id": "-1001"}, channels.TelegramHTML, "AAsecretsecret"},
		{"matrix", map[string]any{"homeserver": "https://m.example", "access_token": "syt_secret_token", "room": "!r:m.example"}, channels.MatrixFormat, "syt_secret"},
	} {
		ch, err := channels.New("p", c.kind, c.settings)
		if err != nil {
			t.Fatalf("%s: %v", c.kind, err)
		}
		p, ok := ch.(channels.Payloader)
		if !ok {
			t.Fatalf("%s has no Payload", c.kind)
		}
		body, err := p.Payload(channels.Message{Subject: "S", Bodies: map[channels.Format]string{c.format: "<b>hello</b>", channels.Text: "hello"}})
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(body) || !strings.Contains(string(body), "hello") || strings.Contains(string(body), c.secret) {
			t.Errorf("%s payload %s", c.kind, body)
		}
	}
}
