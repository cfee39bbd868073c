package channels_test

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/templates"
)

// settingKeys lists the keys a settings struct decodes (its mapstructure
// tags, squashed structs included).
func settingKeys(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("mapstructure")
		if tag == ",squash" {
			out = append(out, settingKeys(f.Type)...)
		} else if tag != "" {
			out = append(out, tag)
		}
	}
	return out
}

// TestKindsAreWhole: every kind in the list has a unique name, a
// constructor, settings whose secrets are among them, and a default
// template for every format it renders.
func TestKindsAreWhole(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range channels.Kinds {
		if k.Name == "" || seen[k.Name] {
			t.Errorf("kind %q: empty or listed twice", k.Name)
		}
		seen[k.Name] = true
		if k.New == nil || k.Settings == nil || len(k.Formats) == 0 {
			t.Errorf("kind %s: constructor, settings or formats missing", k.Name)
			continue
		}
		keys := settingKeys(reflect.TypeOf(k.Settings))
		for _, s := range k.Secrets {
			if !slices.Contains(keys, s) {
				t.Errorf("kind %s: secret %s is not one of its settings %v", k.Name, s, keys)
			}
			if !channels.SecretKey(s) || !channels.SecretKey(strings.ToUpper(s)) {
				t.Errorf("kind %s: SecretKey(%s) is false", k.Name, s)
			}
		}
		for _, f := range k.Formats {
			if src, err := templates.Default(f); err != nil || src == "" {
				t.Errorf("kind %s: format %s has no default template: %v", k.Name, f, err)
			}
		}
		if k.Fake != nil && (strings.Contains(k.Fake.Settings, "%[1]s") == (k.Fake.Host != "") || !strings.HasPrefix(k.Fake.Path, "/")) {
			t.Errorf("kind %s: fake settings %q or path %q do not point at the fake server", k.Name, k.Fake.Settings, k.Fake.Path)
		}
	}
	for _, notSecret := range []string{"path", "to", "room", "topic", "host", "chat_id"} {
		if channels.SecretKey(notSecret) {
			t.Errorf("SecretKey(%s) is true", notSecret)
		}
	}
}

// TestReadmeListsEveryKind: the README's list of channels is the list of
// kinds, in its order.
func TestReadmeListsEveryKind(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile("(?m)^Channels: ((?:`[a-z]+`(?:,\\s+|\\s+and\\s+)?)+)")
	m := line.FindSubmatch(b)
	if m == nil {
		t.Fatal("README.md has no line \"Channels: `sendmail`, ...\"")
	}
	var listed []string
	for _, n := range regexp.MustCompile("`([a-z]+)`").FindAllSubmatch(m[1], -1) {
		listed = append(listed, string(n[1]))
	}
	if want := channels.KindNames(); !slices.Equal(listed, want) {
		t.Errorf("README.md lists the channels %v; channels.Kinds has %v", listed, want)
	}
}
