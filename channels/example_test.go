package channels_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
)

// TestConfigExampleBuilds: every channel block of config.example.yaml, with
// its secret files in place, is a valid channel: the example documents keys
// that exist. Every kind of channels.Kinds has a block there, and the first
// block of each kind, which keeps the defaults, renders the formats and has
// the limit the list says.
func TestConfigExampleBuilds(t *testing.T) {
	cfg, err := config.Load("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(cfg.Channels)) {
		cc := cfg.Channels[name]
		settings := map[string]any{}
		kind, _ := channels.LookupKind(cc.Type)
		for k, v := range cc.Settings {
			if base, ok := strings.CutSuffix(k, "_file"); ok && slices.Contains(kind.Secrets, base) {
				content := sampleSecret(t, kind, base)
				p := filepath.Join(t.TempDir(), k)
				if err := os.WriteFile(p, []byte(content+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				v = p
			} else if strings.HasSuffix(k, "_file") {
				t.Fatalf("channel %s: %s is not a secret of the %s kind", name, k, cc.Type)
			}
			settings[k] = v
		}
		if cc.Type == "apprise" {
			// Its program is looked up when the channel is built; any
			// executable stands for it here (the apprise tests run the real one).
			settings["program"] = os.Args[0]
		}
		ch, err := channels.New(name, cc.Type, settings)
		if err != nil {
			t.Errorf("config.example.yaml: %v", err)
			continue
		}
		// The list says what a channel of the kind renders and fits.
		if !kinds[cc.Type] && (!slices.Equal(ch.Formats(), kind.Formats) || ch.Limit() != kind.Limit) {
			t.Errorf("channel %s: formats %v and limit %d, but the %s entry of channels.Kinds says %v and %d",
				name, ch.Formats(), ch.Limit(), kind.Name, kind.Formats, kind.Limit)
		}
		kinds[cc.Type] = true
	}
	for _, k := range channels.Kinds {
		if !kinds[k.Name] {
			t.Errorf("config.example.yaml has no %s channel", k.Name)
		}
	}
}

// sampleSecret is what a secret file of the example holds for key of kind:
// the value its fake settings give (a token or a URL of the right shape),
// or a made-up password.
func sampleSecret(t *testing.T, kind channels.Kind, key string) string {
	t.Helper()
	if kind.Fake != nil {
		var fake map[string]any
		settings := kind.Fake.Settings
		if kind.Fake.Host == "" {
			settings = fmt.Sprintf(settings, "127.0.0.1:9")
		}
		if err := yaml.Unmarshal([]byte(settings), &fake); err != nil {
			t.Fatalf("kind %s: fake settings: %v", kind.Name, err)
		}
		if v, ok := fake[key].(string); ok {
			return v
		}
	}
	return "azGDORePK8gMaC0QOYAMyEEuzJnyUi" // 30 letters and digits, the shape the strictest kind (pushover) wants
}
