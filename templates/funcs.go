package templates

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/f2b-notify/f2b-notify/internal/textutil"
	"github.com/f2b-notify/f2b-notify/report"
)

// zonedTime is a time that inZone placed in a named zone; date shows it in
// that zone rather than in Options.Location. Its time.Time methods, such as
// Format, stay callable from a template.
type zonedTime struct {
	time.Time
}

// funcs is the function map of one template, bound to its options.
type funcs struct {
	loc *time.Location

	mu    sync.Mutex
	zones map[string]*time.Location
}

// newFuncs returns the function map templates are parsed with. See the
// package documentation for what each function does.
func newFuncs(opt Options) map[string]any {
	f := &funcs{loc: opt.location(), zones: make(map[string]*time.Location)}
	return map[string]any{
		"date":     f.date,
		"notes":    f.notes,
		"glance":   f.glance,
		"origin":   f.origin,
		"inZone":   f.inZone,
		"duration": duration,
		"truncate": truncate,
		"wrap":     wrap,
		"join":     join,
		"plural":   plural,
		"padRight": padRight,
		"padLeft":  padLeft,
		"first":    first,
		"count":    count,
		"add":      add,
		"sub":      sub,
		"upper":    strings.ToUpper,
		"lower":    strings.ToLower,
		"md":       func(s string) Safe { return Safe(markdownEscape(s)) },
	}
}

// date formats t with layout, in Options.Location, or in the zone inZone
// gave it. The zero time is shown as "-".
func (f *funcs) date(layout string, t any) (string, error) {
	switch t := t.(type) {
	case time.Time:
		if t.IsZero() {
			return "-", nil
		}
		return t.In(f.loc).Format(layout), nil
	case zonedTime:
		if t.IsZero() {
			return "-", nil
		}
		return t.Format(layout), nil
	}
	return "", fmt.Errorf("date: want a time, got %T", t)
}

// inZone returns t in the zone named name, such as "Europe/Paris".
func (f *funcs) inZone(name string, t any) (zonedTime, error) {
	var tt time.Time
	switch t := t.(type) {
	case time.Time:
		tt = t
	case zonedTime:
		tt = t.Time
	default:
		return zonedTime{}, fmt.Errorf("inZone: want a time, got %T", t)
	}
	loc, err := f.zone(name)
	if err != nil {
		return zonedTime{}, err
	}
	return zonedTime{tt.In(loc)}, nil
}

// zone loads the named zone once per template.
func (f *funcs) zone(name string) (*time.Location, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if loc, ok := f.zones[name]; ok {
		return loc, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("inZone: %w", err)
	}
	f.zones[name] = loc
	return loc, nil
}

// duration shows a time.Duration, or a number of seconds, in its two largest
// units: "45s", "10m", "1h30m", "2d3h".
func duration(d any) (string, error) {
	var dd time.Duration
	if v, ok := d.(time.Duration); ok {
		dd = v
	} else {
		n, err := toInt64("duration", d)
		if err != nil {
			return "", err
		}
		dd = time.Duration(n) * time.Second
	}
	sign := ""
	if dd < 0 {
		sign, dd = "-", -dd
	}
	secs := int64(dd / time.Second)
	if secs == 0 {
		return "0s", nil
	}
	units := []struct {
		name string
		size int64
	}{{"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}}
	var b strings.Builder
	b.WriteString(sign)
	shown := 0
	for _, u := range units {
		n := secs / u.size
		if n == 0 && shown == 0 {
			continue // not yet at the largest unit
		}
		if n == 0 || shown == 2 {
			break // the rest is rounded down
		}
		secs -= n * u.size
		b.WriteString(strconv.FormatInt(n, 10))
		b.WriteString(u.name)
		shown++
	}
	return b.String(), nil
}

// truncate cuts s to at most n runes, the last of them "…" when s was cut.
func truncate(n int, s string) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	i, runes := 0, 0
	for runes < n-1 {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		runes++
	}
	return s[:i] + "…"
}

// wrap breaks s at spaces into lines of at most n runes, each line after
// the first starting with indent; a word longer than n stays whole, on a
// line of its own. Only the space where a line breaks is replaced: the
// text is otherwise kept as it is (other white space included).
func wrap(n int, indent, s string) string {
	var b strings.Builder
	line := 0 // runes on the current line
	for i, word := range strings.Split(s, " ") {
		w := utf8.RuneCountInString(word)
		switch {
		case i == 0:
		case line > 0 && line+1+w > n:
			b.WriteString("\n")
			b.WriteString(indent)
			line = 0
		default:
			b.WriteByte(' ')
			line++
		}
		b.WriteString(word)
		line += w
	}
	return b.String()
}

// join joins the elements of list, a slice of any type, with sep.
func join(sep string, list any) (string, error) {
	if ss, ok := list.([]string); ok {
		return strings.Join(ss, sep), nil
	}
	v := reflect.ValueOf(list)
	if !v.IsValid() {
		return "", nil
	}
	if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
		return "", fmt.Errorf("join: want a list, got %T", list)
	}
	parts := make([]string, v.Len())
	for i := range parts {
		parts[i] = fmt.Sprint(v.Index(i).Interface())
	}
	return strings.Join(parts, sep), nil
}

// plural returns singular when n is 1, else plural.
func plural(n any, singular, plural string) (string, error) {
	i, err := toInt64("plural", n)
	if err != nil {
		return "", err
	}
	if i != int64(int(i)) { // a count too large for int: never one
		return plural, nil
	}
	return textutil.Plural(int(i), singular, plural), nil
}

// padRight pads v, shown as text, with spaces on the right to n runes.
func padRight(n int, v any) string {
	s := fmt.Sprint(v)
	if pad := n - utf8.RuneCountInString(s); pad > 0 {
		return s + strings.Repeat(" ", pad)
	}
	return s
}

// padLeft pads v, shown as text, with spaces on the left to n runes.
func padLeft(n int, v any) string {
	s := fmt.Sprint(v)
	if pad := n - utf8.RuneCountInString(s); pad > 0 {
		return strings.Repeat(" ", pad) + s
	}
	return s
}

// first returns the first n elements of list, a slice of any type, or all of
// them when it has fewer.
func first(n int, list any) (any, error) {
	v := reflect.ValueOf(list)
	if !v.IsValid() {
		return list, nil
	}
	if v.Kind() != reflect.Slice {
		return nil, fmt.Errorf("first: want a list, got %T", list)
	}
	n = max(0, min(n, v.Len()))
	return v.Slice(0, n).Interface(), nil
}

// count returns the length of a list, map or string; 0 for nil.
func count(list any) (int, error) {
	v := reflect.ValueOf(list)
	if !v.IsValid() {
		return 0, nil
	}
	switch v.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map, reflect.String:
		return v.Len(), nil
	}
	return 0, fmt.Errorf("count: want a list, got %T", list)
}

// add returns a+b.
func add(a, b any) (int64, error) {
	x, err := toInt64("add", a)
	if err != nil {
		return 0, err
	}
	y, err := toInt64("add", b)
	if err != nil {
		return 0, err
	}
	return x + y, nil
}

// sub returns a-b.
func sub(a, b any) (int64, error) {
	x, err := toInt64("sub", a)
	if err != nil {
		return 0, err
	}
	y, err := toInt64("sub", b)
	if err != nil {
		return 0, err
	}
	return x - y, nil
}

// toInt64 converts any integer to int64; fn names the caller in errors.
func toInt64(fn string, v any) (int64, error) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := rv.Uint()
		if u > 1<<63-1 {
			return 0, fmt.Errorf("%s: %d is too large", fn, u)
		}
		return int64(u), nil
	}
	return 0, fmt.Errorf("%s: want an integer, got %T", fn, v)
}

// notes returns what a reader must know about the report itself, one plain
// sentence each: damaged lines skipped, records retention deleted, reports
// this channel missed, rows left out, attacker's text cut. Every default
// template prints them the same way: {{range notes .Notes}}...{{.}}...{{end}}.
func (f *funcs) notes(n report.Notes) []string {
	out := slices.Clone(n.Warnings)
	if n.TornLines > 0 {
		out = append(out, fmt.Sprintf("%d damaged buffer %s skipped (a write cut short by a crash).", n.TornLines, textutil.Plural(n.TornLines, "line was", "lines were")))
	}
	if n.Dropped > 0 {
		out = append(out, fmt.Sprintf("%d %s deleted by retention before this channel received %s.", n.Dropped, textutil.Plural(n.Dropped, "record was", "records were"), textutil.Plural(n.Dropped, "it", "them")))
	}
	for _, st := range n.Strays {
		out = append(out, st.Sentence("here"))
	}
	if n.MissedReports > 0 {
		s := fmt.Sprintf("This channel missed %d earlier %s (bans included); ", n.MissedReports, textutil.Plural(n.MissedReports, "report", "reports"))
		if n.LastSuccess.IsZero() {
			s += "none has reached it yet."
		} else {
			s += "last received " + n.LastSuccess.In(f.loc).Format("2006-01-02 15:04 MST") + "."
		}
		out = append(out, s)
	}
	if n.MoreOffenders > 0 {
		out = append(out, fmt.Sprintf("%d more %s left out (report.max_offenders, or this channel's size limit).", n.MoreOffenders, textutil.Plural(n.MoreOffenders, "offender was", "offenders were")))
	}
	if n.MoreUnbans > 0 {
		out = append(out, fmt.Sprintf("%d more %s left out to fit this channel's size limit.", n.MoreUnbans, textutil.Plural(n.MoreUnbans, "unban was", "unbans were")))
	}
	if n.MoreJails > 0 {
		out = append(out, fmt.Sprintf("%d more %s left out of the per-jail table to fit this channel's size limit; the totals count %s.", n.MoreJails, textutil.Plural(n.MoreJails, "jail was", "jails were"), textutil.Plural(n.MoreJails, "it", "them")))
	}
	users := fmt.Sprintf("%d user %s", n.CutUsers, textutil.Plural(n.CutUsers, "name", "names"))
	lines := fmt.Sprintf("%d log %s", n.CutMatches, textutil.Plural(n.CutMatches, "line", "lines"))
	switch {
	case n.CutUsers > 0 && n.CutMatches > 0:
		out = append(out, fmt.Sprintf("%s and %s were cut, to %d and %d characters.", users, lines, report.MaxUserLen, report.MaxLineLen))
	case n.CutUsers > 0:
		out = append(out, fmt.Sprintf("%s %s cut to %d characters.", users, textutil.Plural(n.CutUsers, "was", "were"), report.MaxUserLen))
	case n.CutMatches > 0:
		out = append(out, fmt.Sprintf("%s %s cut to %d characters.", lines, textutil.Plural(n.CutMatches, "was", "were"), report.MaxLineLen))
	}
	if n.CappedOffenders > 0 {
		out = append(out, fmt.Sprintf("%d %s more user names and log lines than %d characters hold; the rest %s counted as more.", n.CappedOffenders, textutil.Plural(n.CappedOffenders, "offender had", "offenders had"), report.MaxOffenderText, textutil.Plural(n.CappedOffenders, "is", "are")))
	}
	return out
}
