package banpath

import (
	"errors"
	"strings"
)

// ErrUnsupported is returned by ParsePlain for YAML it does not read with
// certainty; the caller then asks a full YAML parser.
var ErrUnsupported = errors.New("YAML beyond plain key: value lines")

// ParsePlain reads the subset of YAML that configuration files are written
// in: block mappings of "key: value" lines, comments, plain, single- and
// double-quoted scalars without escapes. It returns the top-level keys, with
// "buffer" as a map of its own keys, typed as YAML types them (string, bool,
// nil). Anything else in the lines that matter (flow collections, anchors,
// tags, block scalars, escapes, numbers where a path is expected, duplicate
// keys, documents) gives ErrUnsupported: never a guess. The lines of other
// blocks are skipped, but a value there that is not whole on its line (a flow
// collection or a quoted string left open, a plain value holding ": ")
// gives ErrUnsupported too, so that the full command's YAML parser, which
// refuses a broken file, has the last word on it.
func ParsePlain(data []byte) (map[string]any, error) {
	doc := map[string]any{}
	var buffer map[string]any
	top := ""          // the current top-level key
	childIndent := -1  // indentation of buffer's keys
	scalarIndent := -1 // indentation of the key of the block scalar being skipped
	for raw := range strings.SplitSeq(string(data), "\n") {
		line := strings.TrimRight(raw, "\r")
		indent := len(line) - len(strings.TrimLeft(line, " "))
		body := line[indent:]
		if scalarIndent >= 0 {
			if body == "" || indent > scalarIndent {
				continue // the text of a block scalar
			}
			scalarIndent = -1
		}
		if strings.HasPrefix(line, "---") || strings.HasPrefix(line, "...") || strings.HasPrefix(line, "%") {
			return nil, ErrUnsupported
		}
		if body == "" || body[0] == '#' {
			continue
		}
		if strings.HasPrefix(body, "\t") {
			return nil, ErrUnsupported
		}
		if indent == 0 {
			key, value, ok := splitKey(body)
			if !ok {
				return nil, ErrUnsupported
			}
			if _, dup := doc[key]; dup {
				return nil, ErrUnsupported
			}
			top = key
			switch key {
			case "buffer":
				if value != "" {
					return nil, ErrUnsupported // a flow mapping or a scalar
				}
				buffer = map[string]any{}
				doc[key] = buffer
				childIndent = -1
			case "flag":
				v, err := scalar(value)
				if err != nil {
					return nil, err
				}
				doc[key] = v
			default:
				doc[key] = nil // present; its value is none of the ban path's business
				block, ok := whole(value)
				if !ok {
					return nil, ErrUnsupported
				}
				if block {
					scalarIndent = 0
				}
			}
			continue
		}
		if top == "" {
			return nil, ErrUnsupported // indented text before any key
		}
		if top == "flag" {
			return nil, ErrUnsupported // a value continued on the next line
		}
		if top != "buffer" {
			// Inside another block: nested keys and list items.
			block, ok := whole(skippedValue(body))
			if !ok {
				return nil, ErrUnsupported
			}
			if block {
				scalarIndent = indent
			}
			continue
		}
		if childIndent < 0 {
			childIndent = indent
		}
		if indent > childIndent {
			return nil, ErrUnsupported // a continued value: buffer's keys hold no blocks
		}
		if indent < childIndent {
			return nil, ErrUnsupported
		}
		key, value, ok := splitKey(body)
		if !ok {
			return nil, ErrUnsupported
		}
		if _, dup := buffer[key]; dup {
			return nil, ErrUnsupported
		}
		switch key {
		case "dir", "fsync":
			v, err := scalar(value)
			if err != nil {
				return nil, err
			}
			buffer[key] = v
		default:
			buffer[key] = nil
		}
	}
	return doc, nil
}

// splitKey splits "key: value # comment" into its key and value. Keys are
// plain words.
func splitKey(s string) (key, value string, ok bool) {
	i := strings.Index(s, ":")
	if i <= 0 {
		return "", "", false
	}
	key = s[:i]
	if c := key[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return "", "", false // a number, or not a plain word: YAML may type it
	}
	switch strings.ToLower(key) {
	case "true", "false", "yes", "no", "on", "off", "y", "n", "null":
		return "", "", false
	}
	for _, c := range key {
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return "", "", false
		}
	}
	rest := s[i+1:]
	if rest != "" && rest[0] != ' ' {
		return "", "", false
	}
	return key, strings.TrimSpace(stripComment(rest)), true
}

// skippedValue is the value of a line of a block the ban path does not
// read: "- item", "key: value", "- key: value", or a plain continued value.
func skippedValue(body string) string {
	v := strings.TrimSpace(stripComment(body))
	for v == "-" || strings.HasPrefix(v, "- ") {
		v = strings.TrimLeft(v[1:], " ")
	}
	if v == "" || strings.ContainsRune("\"'[{", rune(v[0])) {
		return v
	}
	if i := strings.Index(v, ": "); i >= 0 {
		return strings.TrimSpace(v[i+2:])
	}
	if strings.HasSuffix(v, ":") {
		return ""
	}
	return v
}

// whole reports whether a value the ban path skips ends on its line, and
// whether it starts a block scalar (| or >), whose text lines follow.
func whole(v string) (blockScalar, ok bool) {
	if v == "" {
		return false, true
	}
	switch v[0] {
	case '|', '>':
		return true, true
	case '"':
		closed := false
		for i := 1; i < len(v); i++ {
			if v[i] == '\\' {
				i++
				continue
			}
			if v[i] == '"' {
				closed = i == len(v)-1
				break
			}
		}
		return false, closed
	case '\'':
		return false, len(v) >= 2 && v[len(v)-1] == '\'' && !strings.Contains(strings.ReplaceAll(v[1:len(v)-1], "''", ""), "'")
	case '[', '{':
		depth := 0
		var quote byte
		for i := 0; i < len(v); i++ {
			c := v[i]
			switch {
			case quote != 0:
				if c == quote {
					quote = 0
				}
			case c == '"' || c == '\'':
				quote = c
			case c == '[' || c == '{':
				depth++
			case c == ']' || c == '}':
				depth--
				if depth == 0 {
					return false, i == len(v)-1
				}
			}
		}
		return false, false // left open: continued on the next lines, or broken
	}
	return false, !strings.Contains(v, ": ")
}

// stripComment removes a " # comment" outside quotes.
func stripComment(s string) string {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			if i == 0 || s[i-1] == ' ' {
				quote = c
			}
		case c == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return s[:i]
		}
	}
	return s
}

// scalar types a value as YAML would: nil, a bool, or a string. Numbers and
// anything with YAML syntax are ErrUnsupported.
func scalar(v string) (any, error) {
	switch v {
	case "", "~", "null", "Null", "NULL":
		return nil, nil
	case "true", "True", "TRUE":
		return true, nil
	case "false", "False", "FALSE":
		return false, nil
	}
	switch v[0] {
	case '\'':
		if len(v) < 2 || v[len(v)-1] != '\'' {
			return nil, ErrUnsupported
		}
		inner := v[1 : len(v)-1]
		if strings.Contains(strings.ReplaceAll(inner, "''", ""), "'") {
			return nil, ErrUnsupported
		}
		return strings.ReplaceAll(inner, "''", "'"), nil
	case '"':
		if len(v) < 2 || v[len(v)-1] != '"' {
			return nil, ErrUnsupported
		}
		inner := v[1 : len(v)-1]
		if strings.ContainsAny(inner, "\\\"") {
			return nil, ErrUnsupported
		}
		return inner, nil
	case '{', '[', '&', '*', '!', '|', '>', '%', '@', '`', '-', '?', ',', '#':
		return nil, ErrUnsupported
	}
	if c := v[0]; c == '.' || c == '+' || (c >= '0' && c <= '9') {
		return nil, ErrUnsupported // may be a number: let YAML decide
	}
	if strings.Contains(v, ": ") || strings.Contains(v, " #") {
		return nil, ErrUnsupported
	}
	switch strings.ToLower(v) {
	case "yes", "no", "on", "off", "y", "n":
		return nil, ErrUnsupported // YAML 1.1 booleans: let YAML decide
	}
	return v, nil
}
