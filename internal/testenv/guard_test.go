package testenv

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Inside Main the programs under test find a default configuration of the
// harness, whose folder is a temporary one, and no F2B_NOTIFY_* variable of
// the caller's.
func TestMainGivesADefaultConfigurationOfItsOwn(t *testing.T) {
	t.Setenv("F2B_NOTIFY_BUFFER_DIR", "/srv/from-the-caller")
	var out bytes.Buffer
	var cfg, dir string
	code := guard(filepath.Join(t.TempDir(), "guarded"), &out, func() int {
		cfg, dir = DefaultConfig(), DefaultBufferDir()
		if got := os.Getenv("F2B_NOTIFY_CONFIG"); got != cfg {
			t.Errorf("F2B_NOTIFY_CONFIG = %q, want %q", got, cfg)
		}
		if v, ok := os.LookupEnv("F2B_NOTIFY_BUFFER_DIR"); ok {
			t.Errorf("F2B_NOTIFY_BUFFER_DIR = %q inside Main", v)
		}
		env := strings.Join(Env("F2B_NOTIFY_FLAG=/x"), "\n") + "\n"
		if !strings.Contains(env, "F2B_NOTIFY_CONFIG="+cfg+"\n") || !strings.HasSuffix(env, "\nF2B_NOTIFY_FLAG=/x\n") {
			t.Errorf("Env lacks the default configuration or the extra variable:\n%s", env)
		}
		data, err := os.ReadFile(cfg)
		if err != nil || !strings.Contains(string(data), "\n  dir: "+dir+"\n") {
			t.Errorf("default configuration %s: %v\n%s", cfg, err, data)
		}
		return 0
	})
	if code != 0 || out.Len() != 0 {
		t.Errorf("status %d, said %q", code, out.String())
	}
	if _, err := os.Stat(cfg); !os.IsNotExist(err) {
		t.Errorf("the default configuration outlived Main: %v", err)
	}
}

// A run that creates or changes the guarded folder fails, saying what is
// there; one that leaves it alone keeps its own status.
func TestMainFailsARunThatWritesTheDefaultFolder(t *testing.T) {
	guarded := filepath.Join(t.TempDir(), "f2b-notify")
	write := func() int {
		if err := os.MkdirAll(guarded, 0o750); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(filepath.Join(guarded, "pending.jsonl"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(`{"v":1,"action":"ban","jail":"sshd","ip":"192.0.2.1"}` + "\n"); err != nil {
			t.Fatal(err)
		}
		return 0
	}
	for _, c := range []struct {
		name string
		run  func() int
		code int
		said string
	}{
		{"untouched", func() int { return 3 }, 3, ""},
		{"created", write, 1, "was created while these tests ran"},
		{"untouched once there", func() int { return 0 }, 0, ""},
		{"changed", write, 1, "was changed while these tests ran"},
	} {
		var out bytes.Buffer
		code := guard(guarded, &out, c.run)
		if code != c.code {
			t.Errorf("%s: status %d, want %d", c.name, code, c.code)
		}
		if c.said == "" && out.Len() != 0 || c.said != "" && (!strings.Contains(out.String(), guarded+", the default buffer folder, "+c.said) || !strings.Contains(out.String(), filepath.Join(guarded, "pending.jsonl"))) {
			t.Errorf("%s: said %q, want %q and the file", c.name, out.String(), c.said)
		}
	}
}
