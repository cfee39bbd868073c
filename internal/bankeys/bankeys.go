// Package bankeys defines the configuration keys the ban path reads
// (buffer.dir, buffer.fsync and flag) and reads them, from a parsed YAML
// document and the F2B_NOTIFY_* environment, with one set of rules. The full
// configuration loader and the lean ban binary both read them here, so that
// every command agrees on where bans go. It links no YAML library: the
// document comes from whichever parser the caller has.
package bankeys

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/f2b-notify/f2b-notify/internal/defaults"
)

// The keys, by their path in the configuration file.
const (
	Dir   = "buffer.dir"
	Fsync = "buffer.fsync"
	Flag  = "flag"
)

// Settings are the values of the keys.
type Settings struct {
	Dir   string // buffer.dir
	Fsync bool   // buffer.fsync
	Flag  string // flag; "" disables the flag trigger
}

// Defaults are the settings when neither the file nor the environment sets
// a key.
func Defaults() Settings {
	return Settings{Dir: defaults.BufferDir, Fsync: true, Flag: defaults.Flag}
}

// EnvName is the environment variable that overrides key: F2B_NOTIFY_, then
// the key path in capitals with dots and dashes as underscores.
func EnvName(key string) string {
	return defaults.EnvPrefix + "_" + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(key))
}

// KeyError is what is wrong with one key, in the file or in the environment.
type KeyError struct {
	Key string // Dir, Fsync or Flag
	msg string
}

func (e *KeyError) Error() string { return e.msg }

// Errors lists every key that could not be read; the key keeps its default.
type Errors []*KeyError

func (e Errors) Error() string {
	parts := make([]string, len(e))
	for i, k := range e {
		parts[i] = k.msg
	}
	return strings.Join(parts, "; ")
}

// Failed reports whether err (from Read) says key could not be read.
func Failed(err error, key string) bool {
	var e Errors
	if !errors.As(err, &e) {
		return false
	}
	for _, k := range e {
		if k.Key == key {
			return true
		}
	}
	return false
}

// UpperCaseKey is the error for a key written with capitals: keys are
// case-sensitive, and every key of the configuration is lower case. path is
// the key's path as written, such as "buffer.Dir".
func UpperCaseKey(path string) error {
	return fmt.Errorf("unknown key %s (keys are lower case: %s)", path, strings.ToLower(path))
}

// CheckPath checks the value of a key that names a file or folder: it must
// be absolute, since fail2ban runs the ban path from its own working folder
// (/), not the one a shell has. The error names the key.
func CheckPath(key, value string) error {
	if value == "" {
		return fmt.Errorf("key %s: empty; want an absolute path", key)
	}
	if !filepath.IsAbs(value) {
		return fmt.Errorf("key %s: %q is a relative path; write it in full from / (fail2ban does not run in your folder)", key, value)
	}
	return nil
}

// Read reads the keys from doc, a YAML document decoded into nested
// map[string]any (nil for no file), then from the environment through
// lookup (os.LookupEnv). An empty variable counts as unset, as for every
// other key. A key whose value is wrong, null, or written with capitals
// keeps its default and is named in the returned Errors; the other keys are
// read all the same.
func Read(doc map[string]any, lookup func(string) (string, bool)) (Settings, error) {
	s := Defaults()
	var errs Errors
	fail := func(key, format string, a ...any) {
		errs = append(errs, &KeyError{Key: key, msg: fmt.Sprintf(format, a...)})
	}
	for k := range doc {
		switch strings.ToLower(k) {
		case "buffer":
			if k != "buffer" {
				fail(Dir, "%v", UpperCaseKey(k))
			}
		case Flag:
			if k != Flag {
				fail(Flag, "%v", UpperCaseKey(k))
			}
		}
	}
	switch buf := doc["buffer"].(type) {
	case nil: // absent, or an empty block
	case map[string]any:
		for k := range buf {
			switch lk := strings.ToLower(k); {
			case lk == "dir" && k != lk:
				fail(Dir, "%v", UpperCaseKey("buffer."+k))
			case lk == "fsync" && k != lk:
				fail(Fsync, "%v", UpperCaseKey("buffer."+k))
			}
		}
		if v, ok := buf["dir"]; ok {
			if p, err := path(Dir, v); err != nil {
				fail(Dir, "%v", err)
			} else {
				s.Dir = p
			}
		}
		if v, ok := buf["fsync"]; ok {
			if b, isBool := v.(bool); isBool {
				s.Fsync = b
			} else {
				fail(Fsync, "key %s: %s", Fsync, WantBool(v))
			}
		}
	default:
		fail(Dir, "key buffer: want a block of keys such as dir, not %s", Show(buf))
	}
	if v, ok := doc[Flag]; ok {
		if p, isString := v.(string); isString && p == "" {
			s.Flag = "" // no flag file
		} else if p, err := path(Flag, v); err != nil {
			if !isString {
				err = fmt.Errorf("%w, or \"\" for no flag file", err)
			}
			fail(Flag, "%v", err)
		} else {
			s.Flag = p
		}
	}
	if lookup != nil {
		env := func(key string) (string, string, bool) {
			name := EnvName(key)
			v, ok := lookup(name)
			return name, v, ok && v != ""
		}
		if name, v, ok := env(Dir); ok {
			if err := CheckPath(Dir, v); err != nil {
				fail(Dir, "environment %s=%q: not an absolute path", name, v)
			} else {
				s.Dir = v
			}
		}
		if name, v, ok := env(Fsync); ok {
			if b, err := strconv.ParseBool(v); err != nil {
				fail(Fsync, "environment %s=%q: want true or false", name, v)
			} else {
				s.Fsync = b
			}
		}
		if name, v, ok := env(Flag); ok {
			if err := CheckPath(Flag, v); err != nil {
				fail(Flag, "environment %s=%q: not an absolute path", name, v)
			} else {
				s.Flag = v
			}
		}
	}
	if Failed(errs, Dir) {
		s.Dir = defaults.BufferDir // never half of a folder the file meant
	}
	if len(errs) == 0 {
		return s, nil
	}
	return s, errs
}

// path reads the value of a path key.
func path(key string, v any) (string, error) {
	p, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("key %s: want a path, not %s", key, Show(v))
	}
	return p, CheckPath(key, p)
}

// show words a YAML value of the wrong type for an error.
// WantBool says that v, the value of a key that takes true or false, is
// neither: the one wording of that mistake, whichever reader finds it.
func WantBool(v any) string { return "want true or false, not " + Show(v) }

// Show names a value read from YAML for an error: quoted if a string, else
// what it is (null, a number, a block of keys, a list).
func Show(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(v)
	case bool, int, int64, uint64, float64:
		return fmt.Sprint(v)
	case map[string]any, map[any]any:
		return "a block of keys"
	case []any:
		return "a list"
	}
	return fmt.Sprintf("a %T", v)
}
