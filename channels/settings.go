package channels

import (
	"fmt"
	"os"
	"strings"

	"github.com/f2b-notify/f2b-notify/internal/decode"
)

// Factory builds a channel of one kind from its settings: the keys of its
// configuration block other than the common ones (type, enabled, timeout, ...).
// A factory does no network I/O.
type Factory func(name string, settings map[string]any) (Channel, error)

// ResolveFiles returns a copy of settings where every KEY_file entry is
// replaced by KEY holding the file's content, trailing newlines removed. Giving
// both KEY and KEY_file is an error. The file's content never appears in errors.
func ResolveFiles(name string, settings map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(settings))
	for k, v := range settings {
		out[k] = v
	}
	for k, v := range settings {
		base, ok := strings.CutSuffix(k, "_file")
		if !ok {
			continue
		}
		path, isString := v.(string)
		if !isString || path == "" {
			return nil, fmt.Errorf("channel %q: key %s: want a file path", name, k)
		}
		if _, both := settings[base]; both {
			return nil, fmt.Errorf("channel %q: keys %s and %s are both set; keep one", name, base, k)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("channel %q: key %s: read secret: %w", name, k, err)
		}
		delete(out, k)
		out[base] = strings.TrimRight(string(b), "\r\n")
	}
	return out, nil
}

// Decode fills out (a pointer to a struct with `mapstructure` tags) from a
// channel's settings. Unknown keys and values of the wrong type are errors
// that name the channel and the key.
func Decode(name string, settings map[string]any, out any) error {
	if err := decode.Strict(settings, out, ""); err != nil {
		return fmt.Errorf("channel %q: %w", name, err)
	}
	return nil
}
