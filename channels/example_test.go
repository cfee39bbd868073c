package channels_test

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
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
	}
	kinds := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(cfg.Channels)) {
		cc := cfg.Channels[name]
		settings := map[string]any{}
		for k, v := range cc.Settings {
			if content, ok := secrets[k]; ok {
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
		ch, err := channels.New(name, cc.Type, settings)
		if err != nil {
			t.Errorf("config.example.yaml: %v", err)
			continue
		}
		if k, _ := channels.LookupKind(cc.Type); !kinds[cc.Type] {
			// The list says what a channel of the kind renders and fits.
			if !slices.Equal(ch.Formats(), k.Formats) || ch.Limit() != k.Limit {
				t.Errorf("channel %s: formats %v and limit %d, but the %s entry of channels.Kinds says %v and %d",
					name, ch.Formats(), ch.Limit(), k.Name, k.Formats, k.Limit)
			}
		}
		kinds[cc.Type] = true
	}
	for _, k := range channels.Kinds {
		if !kinds[k.Name] {
			t.Errorf("config.example.yaml has no %s channel", k.Name)
		}
	}
}
