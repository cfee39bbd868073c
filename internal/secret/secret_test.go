package secret

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"Authorization": true, "authorization": true, "Proxy-Authorization": true, "X-Api-Key": true,
		"X-Auth-Token": true, "X-Hub-Secret": true, "Cookie": true, "X-Signature": true,
		"Content-Type": false, "X-Title": false, "Accept": false, "User-Agent": false,
	} {
		if got := Header(name); got != want {
			t.Errorf("Header(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestValues(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("from-the-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := Values(map[string]any{
		"url":               "https://example.org/hooks/abcdefghijklmnop?k=querysecret",
		"token_file":        file,
		"password":          []any{"in-a-list", 3},
		"headers":           map[string]any{"authorization": "Bearer bearer-value", "x-title": "not-secret"},
		"chat_id":           "not-a-secret-key",
		"missing_file_file": "/nonexistent",
	}, func(k string) bool { return slices.Contains([]string{"url", "token", "password", "missing_file"}, k) })
	for _, want := range []string{"https://example.org/hooks/abcdefghijklmnop?k=querysecret", "abcdefghijklmnop", "querysecret",
		"from-the-file", "in-a-list", "Bearer bearer-value", "bearer-value"} {
		if !slices.Contains(got, want) {
			t.Errorf("Values misses %q: %q", want, got)
		}
	}
	for _, not := range []string{"not-secret", "not-a-secret-key", "/nonexistent", file} {
		if slices.Contains(got, not) {
			t.Errorf("Values holds %q, which is no secret: %q", not, got)
		}
	}
}
