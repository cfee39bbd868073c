package testenv

import (
	"os"
	"strings"
	"testing"
)

func TestNeedCommandFindsSh(t *testing.T) {
	if p := NeedCommand(t, "sh", "dash"); !strings.HasSuffix(p, "/sh") {
		t.Errorf("NeedCommand(sh) = %q", p)
	}
}

func TestLookCommandMissing(t *testing.T) {
	if p, ok := lookCommand("f2b-notify-no-such-command"); ok {
		t.Errorf("found %q", p)
	}
}

func TestMsmtpConfig(t *testing.T) {
	dir := t.TempDir()
	rc := MsmtpConfig(t, dir, "127.0.0.1", 2525)
	fi, err := os.Stat(rc)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	b, err := os.ReadFile(rc)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\naccount default\n", "\nhost 127.0.0.1\n", "\nport 2525\n", "\nfrom ", "\nauth off\n", "\ntls off\n", "\nlogfile " + dir + "/msmtp.log\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("msmtprc lacks %q:\n%s", want, b)
		}
	}
}
