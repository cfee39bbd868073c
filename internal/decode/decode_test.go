package decode_test

import (
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/internal/decode"
)

type inner struct {
	Dir   string        `mapstructure:"dir"`
	Fsync bool          `mapstructure:"fsync"`
	Age   time.Duration `mapstructure:"max_age"`
}

type common struct {
	To []string `mapstructure:"to"`
}

type top struct {
	Buffer inner `mapstructure:"buffer"`
	Port   int   `mapstructure:"port"`
	common `mapstructure:",squash"`
}

func TestExplainNamesKeys(t *testing.T) {
	for _, c := range []struct {
		in   map[string]any
		want string
	}{
		{map[string]any{"colour": 1}, "unknown key channels.x.colour"},
		{map[string]any{"buffer": map[string]any{"dirr": "/x"}}, "unknown key channels.x.buffer.dirr"},
		{map[string]any{"buffer": map[string]any{"fsync": "maybe"}}, `key channels.x.buffer.fsync: want true or false, not "maybe"`},
		{map[string]any{"buffer": map[string]any{"max_age": "soon"}}, "key channels.x.buffer.max_age"},
		{map[string]any{"port": "abc"}, `key channels.x.port: want a whole number, not "abc"`},
		{map[string]any{"port": []any{1}}, "key channels.x.port"},
		{map[string]any{"to": "a@b", "b": 1, "a": 2}, "unknown key channels.x.a; unknown key channels.x.b"},
		{map[string]any{"bogus": 1, "buffer": map[string]any{"fsync": "x"}}, `key channels.x.buffer.fsync: want true or false, not "x"; unknown key channels.x.bogus`},
	} {
		var out top
		err := decode.Strict(c.in, &out, "channels.x")
		if err == nil {
			t.Errorf("%v: decoded", c.in)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "decode_test") {
			t.Errorf("%v: error %q, want it to hold %q", c.in, err, c.want)
		}
	}
	var out top
	if err := decode.Strict(map[string]any{"to": "a@b", "port": "25", "buffer": map[string]any{"max_age": "1h", "fsync": "true"}}, &out, ""); err != nil {
		t.Fatal(err)
	}
	if out.Port != 25 || out.Buffer.Age != time.Hour || !out.Buffer.Fsync || len(out.To) != 1 {
		t.Errorf("decoded %+v", out)
	}
}
