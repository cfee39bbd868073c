package banpath

import (
	"errors"
	"os"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/f2b-notify/f2b-notify/internal/defaults"
)

// project keeps what the ban path reads from a parsed document.
func project(doc map[string]any) map[string]any {
	out := map[string]any{}
	b, ok := doc["buffer"].(map[string]any) // an empty block reads as nil or as an empty map: the same
	out["buffer.dir"], out["buffer.fsync"] = b["dir"], b["fsync"]
	if v := doc["buffer"]; !ok && v != nil {
		out["buffer"] = v
	}
	if v, present := doc["flag"]; present {
		out["flag"] = v
	}
	return out
}

// agrees checks the differential property: when ParsePlain reads a file,
// it reads what a full YAML parser reads.
func agrees(t *testing.T, src string) (readByPlain bool) {
	t.Helper()
	plain, err := ParsePlain([]byte(src))
	if errors.Is(err, ErrUnsupported) {
		return false
	}
	var full map[string]any
	if yerr := yaml.Unmarshal([]byte(src), &full); yerr != nil {
		// A file YAML refuses elsewhere: the full command then falls back to
		// the defaults; reading buffer.dir all the same is only better.
		return true
	}
	if err != nil {
		t.Fatalf("ParsePlain(%q): %v", src, err)
	}
	if p, f := project(plain), project(full); !reflect.DeepEqual(p, f) {
		t.Fatalf("%q:\nplain %#v\nyaml  %#v", src, p, f)
	}
	return true
}

func TestParsePlainAgreesWithYAML(t *testing.T) {
	for _, c := range []struct {
		src  string
		read bool
	}{
		{"buffer:\n  dir: /var/lib/f2b-notify\n  fsync: false\nflag: /run/fail2ban/mail.flag\n", true},
		{"# comment\nbuffer:\n    dir: '/srv/it''s here' # why\n\nflag: \"\"\nchannels:\n  log:\n    type: file\n    dir: /not/this\n", true},
		{"buffer:\n  dir: /x\nchannels:\n  a:\n    template: |\n      buffer:\n      flag: evil\n", true},
		{"flag: ~\nbuffer:\n  fsync: TRUE\n", true},
		{"host: x\r\nbuffer:\r\n  dir: /crlf\r\n", true},
		{"buffer: {dir: /flow}\n", false},
		{"buffer:\n  dir: &a /anchor\n", false},
		{"buffer:\n  dir: /long\n    continued\n", false},
		{"flag: /x\n  continued\n", false},
		{"buffer:\n  dir:\n    /next/line\n", false},
		{"buffer:\n  dir: 123\n", false},
		{"buffer:\n  fsync: yes\n", false},
		{"buffer:\n  dir: \"/esc\\ttab\"\n", false},
		{"---\nbuffer:\n  dir: /doc\n", false},
		{"buffer:\n  dir: /a\n  dir: /b\n", false},
		{"buffer:\n    dir: /a\n  fsync: true\n", false},
		{"buffer:\n  dir: /has: colon\n", false},
		{"buffer:\n\tdir: /tab\n", false},
	} {
		if got := agrees(t, c.src); got != c.read {
			t.Errorf("%q: read by ParsePlain %v, want %v", c.src, got, c.read)
		}
	}
}

func FuzzParsePlainAgreesWithYAML(f *testing.F) {
	for _, s := range []string{
		"buffer:\n  dir: /var/lib/x\n  fsync: true\nflag: /f\n",
		"buffer:\n  dir: 'a''b'\nflag:\n",
		"x: 1\nbuffer:\n  y: {a: b}\n  dir: \"q\"\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		agrees(t, src)
	})
}

func TestReadSettingsSalvagesBufferDir(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := dir + "/config.yaml"
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A mistake in a key the ban path does not read costs nothing.
	s, own, err := Program{}.ReadSettings(write("buffer:\n  dir: /srv/kept\nflag: /run/f.flag\nchannels:\n  x:\n    type: file\n    retries: lots\n"))
	if err != nil || !own || s.Dir != "/srv/kept" || s.Flag != "/run/f.flag" {
		t.Errorf("salvaged %+v, %v, %v", s, own, err)
	}
	// A wrong type in one it reads: the others are still read, and it is said.
	s, own, err = Program{}.ReadSettings(write("buffer:\n  dir: /srv/kept\n  fsync: maybe\n"))
	if err == nil || !own || s.Dir != "/srv/kept" {
		t.Errorf("wrong fsync: %+v, %v, %v", s, own, err)
	}
	// A file that does not parse: the defaults, and the error.
	s, own, err = Program{}.ReadSettings(write("buffer: [\n"))
	if err == nil || own || s.Dir != defaults.BufferDir {
		t.Errorf("malformed file: %+v, %v, %v", s, own, err)
	}
	// A file that is not there is an error naming it, never the defaults in silence.
	missing := dir + "/typo.yaml"
	s, own, err = Program{}.ReadSettings(missing)
	if err == nil || own || s.Dir != defaults.BufferDir || err.Error() != "config "+missing+": no such file or directory" {
		t.Errorf("missing file: %+v, %v, %v", s, own, err)
	}
}
