package channels_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/internal/testenv"
)

// TestConfigExampleBuilds: every channel block of config.example.yaml, with
// its secret files in place, is a valid channel: the example documents keys
// that exist.
func TestConfigExampleBuilds(t *testing.T) {
	cfg, err := config.Load("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{
		"token_file":        "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
		"webhook_url_file":  "https://hooks.example.org/services/T000/B000/XXXX",
		"url_file":          "https://hook.example.org/f2b",
		"access_token_file": "syt_example_token",
		"password_file":     "example-password",
		"user_key_file":     "uQiRzpo4DXghDmr9QzzfQu27cmVRsG",
		"config_file":       "json://localhost/",
	}
	// Per kind, where a kind wants another shape than the sample above.
	kindSecrets := map[string]string{"pushover.token_file": "azGDORePK8gMaC0QOYAMyEEuzJnyUi"}
	kinds := map[string]bool{}
	for name, cc := range cfg.Channels {
		settings := map[string]any{}
		for k, v := range cc.Settings {
			content, ok := kindSecrets[cc.Type+"."+k]
			if !ok {
				content, ok = secrets[k]
			}
			if ok {
				p := filepath.Join(t.TempDir(), k)
				if err := os.WriteFile(p, []byte(content+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				v = p
			} else if strings.HasSuffix(k, "_file") {
				t.Fatalf("channel %s: no sample content for %s", name, k)
			}
			settings[k] = v
		}
		if cc.Type == "apprise" {
			testenv.NeedCommand(t, "apprise", "apprise") // the channel looks its program up
		}
		if _, err := channels.New(name, cc.Type, settings); err != nil {
			t.Errorf("config.example.yaml: %v", err)
		}
		kinds[cc.Type] = true
	}
	for _, k := range channels.Kinds() {
		if !kinds[k] {
			t.Errorf("config.example.yaml has no %s channel", k)
		}
	}
}
