// Package decode turns configuration maps into typed structs strictly
// (unknown keys and values of the wrong type are errors) and words
// mapstructure's errors for people: one line, naming each key by its path.
package decode

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"

	"github.com/f2b-notify/f2b-notify/internal/bankeys"
	"github.com/f2b-notify/f2b-notify/internal/textutil"
)

// Hook converts the strings YAML and the environment give into durations
// (Go's, such as 720h, and days, such as 90d or 1d12h) and comma-separated
// lists.
var Hook = mapstructure.ComposeDecodeHookFunc(
	daysHook,
	mapstructure.StringToTimeDurationHookFunc(),
	mapstructure.StringToSliceHookFunc(","),
)

// daysHook reads a duration that starts with a number of days: "90d",
// "1d12h". Go's durations have no unit of days, the natural one for how
// long to keep things.
func daysHook(from, to reflect.Type, data any) (any, error) {
	s, ok := data.(string)
	if !ok || to != reflect.TypeFor[time.Duration]() {
		return data, nil
	}
	d, rest, found := strings.Cut(strings.TrimSpace(s), "d")
	if !found || d == "" {
		return data, nil
	}
	days, err := strconv.ParseUint(d, 10, 16)
	if err != nil {
		return data, nil // not a number of days: Go's parser names the mistake
	}
	total := time.Duration(days) * 24 * time.Hour
	if rest != "" {
		more, err := time.ParseDuration(rest)
		if err != nil || more < 0 {
			return nil, fmt.Errorf("time: invalid duration %q", s)
		}
		total += more
	}
	return total, nil
}

// Configure makes a decoder strict; viper's Unmarshal takes it as an option.
func Configure(dc *mapstructure.DecoderConfig) {
	dc.ErrorUnused = true
	dc.WeaklyTypedInput = true
	dc.DecodeHook = Hook
}

// Strict decodes in into out (a pointer to a struct with mapstructure tags).
// prefix is the key path of in, such as "channels.log", used in errors.
func Strict(in any, out any, prefix string) error {
	dc := &mapstructure.DecoderConfig{Result: out}
	Configure(dc)
	dec, err := mapstructure.NewDecoder(dc)
	if err != nil {
		return err
	}
	return Explain(dec.Decode(in), prefix, out)
}

// Explain rewords a decoding error as one line that names keys by their path
// under prefix; nil stays nil. out is what was being decoded into, whose Go
// type name mapstructure uses in place of an empty key path.
func Explain(err error, prefix string, out any) error {
	if err == nil {
		return nil
	}
	typeName := ""
	if out != nil {
		t := reflect.TypeOf(out)
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		typeName = t.String()
	}
	var parts []string
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, sub := range j.Unwrap() {
				walk(sub)
			}
			return
		}
		de, ok := e.(*mapstructure.DecodeError)
		if !ok {
			if inner := errors.Unwrap(e); inner != nil {
				walk(inner)
			} else {
				parts = append(parts, errorLine(e.Error()))
			}
			return
		}
		name := de.Name()
		if strings.ContainsAny(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") || name == typeName {
			name = "" // a Go type, not a key
		}
		inner := errorLine(de.Unwrap().Error())
		if keys, ok := strings.CutPrefix(inner, "has invalid keys: "); ok {
			for _, k := range strings.Split(keys, ", ") {
				parts = append(parts, "unknown key "+join(prefix, name, k))
			}
			return
		}
		var pe *mapstructure.ParseError
		if errors.As(de.Unwrap(), &pe) {
			inner = wanted(pe)
		}
		parts = append(parts, "key "+join(prefix, name)+": "+inner)
	}
	walk(err)
	return errors.New(strings.Join(parts, "; "))
}

// wanted words a value of the wrong kind as the ban path's reader does
// (package bankeys): what the key takes, and what it was given.
func wanted(pe *mapstructure.ParseError) string {
	switch pe.Expected.Kind() {
	case reflect.Bool:
		return bankeys.WantBool(pe.Value)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "want a whole number, not " + bankeys.Show(pe.Value)
	case reflect.Float32, reflect.Float64:
		return "want a number, not " + bankeys.Show(pe.Value)
	}
	return fmt.Sprintf("want %s, not %s (%s)", pe.Expected.Type(), bankeys.Show(pe.Value), errorLine(pe.Err.Error()))
}

// errorLine puts an error of mapstructure's on one line, without the
// header it puts above a list of errors.
func errorLine(s string) string {
	return textutil.OneLine(strings.ReplaceAll(s, "decoding failed due to the following error(s):", ""))
}

func join(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ".")
}
