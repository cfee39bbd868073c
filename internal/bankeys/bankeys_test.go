package bankeys

import (
	"testing"

	"github.com/f2b-notify/f2b-notify/internal/defaults"
)

func TestRead(t *testing.T) {
	env := func(kv map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
	}
	for _, c := range []struct {
		name   string
		doc    map[string]any
		env    map[string]string
		want   Settings
		failed []string // keys the error must name
	}{
		{"defaults", nil, nil, Defaults(), nil},
		{"file", map[string]any{"buffer": map[string]any{"dir": "/srv/b", "fsync": false}, "flag": ""}, nil,
			Settings{Dir: "/srv/b", Flag: ""}, nil},
		{"environment over file", map[string]any{"buffer": map[string]any{"dir": "/srv/b"}},
			map[string]string{"F2B_NOTIFY_BUFFER_DIR": "/srv/e", "F2B_NOTIFY_BUFFER_FSYNC": "false", "F2B_NOTIFY_FLAG": "/run/e.flag"},
			Settings{Dir: "/srv/e", Flag: "/run/e.flag"}, nil},
		{"empty variables are unset", map[string]any{"flag": "/run/f.flag"},
			map[string]string{"F2B_NOTIFY_BUFFER_DIR": "", "F2B_NOTIFY_BUFFER_FSYNC": "", "F2B_NOTIFY_FLAG": ""},
			Settings{Dir: defaults.BufferDir, Fsync: true, Flag: "/run/f.flag"}, nil},
		{"capitals", map[string]any{"Buffer": map[string]any{"dir": "/srv/b"}, "Flag": "/x"}, nil, Defaults(), []string{Dir, Flag}},
		{"a relative folder falls back to the default folder", map[string]any{"buffer": map[string]any{"dir": "rel", "fsync": false}},
			map[string]string{"F2B_NOTIFY_BUFFER_DIR": "/srv/e"}, Settings{Dir: defaults.BufferDir, Flag: defaults.Flag}, []string{Dir}},
		{"a wrong fsync keeps the folder", map[string]any{"buffer": map[string]any{"dir": "/srv/b", "fsync": "no"}}, nil,
			Settings{Dir: "/srv/b", Fsync: true, Flag: defaults.Flag}, []string{Fsync}},
		{"null flag", map[string]any{"flag": nil}, nil, Defaults(), []string{Flag}},
	} {
		got, err := Read(c.doc, env(c.env))
		if got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
		if (err != nil) != (len(c.failed) > 0) {
			t.Errorf("%s: error %v", c.name, err)
		}
		for _, k := range c.failed {
			if !Failed(err, k) {
				t.Errorf("%s: %v does not name %s", c.name, err, k)
			}
		}
	}
}
