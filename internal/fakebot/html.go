package fakebot

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Entity is a MessageEntity as the Bot API returns it: offsets and lengths
// in UTF-16 code units.
type Entity struct {
	Type          string `json:"type"`
	Offset        int    `json:"offset"`
	Length        int    `json:"length"`
	URL           string `json:"url,omitempty"`
	Language      string `json:"language,omitempty"`
	CustomEmojiID string `json:"custom_emoji_id,omitempty"`
	// Text is the text the entity covers. It is not part of the Bot API's
	// JSON; it is here for tests.
	Text string `json:"-"`
}

// Formatting reports whether the entity changes how text looks rather than
// what it does: bold, italic, underline, strikethrough, spoiler, blockquote.
func (e Entity) Formatting() bool {
	switch e.Type {
	case "bold", "italic", "underline", "strikethrough", "spoiler", "blockquote", "expandable_blockquote":
		return true
	}
	return false
}

// Active reports whether the entity makes the text do something when
// tapped: a link, a mention, a hashtag, a command, an e-mail address...
func (e Entity) Active() bool {
	switch e.Type {
	case "url", "text_link", "mention", "text_mention", "hashtag", "cashtag", "bot_command", "email", "phone_number", "custom_emoji":
		return true
	}
	return false
}

// MaxLength is the longest text sendMessage accepts, after entity parsing.
// The Bot API says "1-4096 characters"; the fake counts UTF-16 code units,
// the unit of entity offsets, which is never less than the count of
// characters, so what the fake accepts Telegram accepts.
const MaxLength = 4096

// Length returns the length of text in UTF-16 code units.
func Length(text string) int {
	n := 0
	for _, r := range text {
		n += utf16.RuneLen(r)
	}
	return n
}

// tag is how the fake treats one HTML tag of Telegram's subset.
type tag struct {
	entity string          // entity type made
	attrs  map[string]bool // attributes allowed
}

// tags is the subset of HTML the Bot API documents under "HTML style".
var tags = map[string]tag{
	"b":          {entity: "bold"},
	"strong":     {entity: "bold"},
	"i":          {entity: "italic"},
	"em":         {entity: "italic"},
	"u":          {entity: "underline"},
	"ins":        {entity: "underline"},
	"s":          {entity: "strikethrough"},
	"strike":     {entity: "strikethrough"},
	"del":        {entity: "strikethrough"},
	"span":       {entity: "spoiler", attrs: map[string]bool{"class": true}},
	"tg-spoiler": {entity: "spoiler"},
	"a":          {entity: "text_link", attrs: map[string]bool{"href": true}},
	"code":       {entity: "code", attrs: map[string]bool{"class": true}},
	"pre":        {entity: "pre"},
	"blockquote": {entity: "blockquote", attrs: map[string]bool{"expandable": true}},
	"tg-emoji":   {entity: "custom_emoji", attrs: map[string]bool{"emoji-id": true}},
}

// open is a tag whose end has not been read yet.
type open struct {
	name  string
	at    int // byte offset of its "<"
	start int // UTF-16 offset of its content
	ent   Entity
}

// ParseError is what ParseHTML returns for text Telegram refuses; its
// message is the part of the Bot API's description after
// "Bad Request: can't parse entities: ".
type ParseError struct{ Msg string }

func (e *ParseError) Error() string { return e.Msg }

func parseErr(format string, a ...any) error { return &ParseError{Msg: fmt.Sprintf(format, a...)} }

// ParseHTML reads text the way sendMessage does with parse_mode HTML and
// returns the text after entity parsing and its entities, sorted by offset:
// the ones the tags made and the ones Telegram finds by itself (links,
// mentions, hashtags, commands, e-mail addresses) in the text that is not
// inside code, pre or a link.
//
// It is stricter than Telegram where the Bot API's documentation asks for
// something Telegram tolerates: a "<", ">" or "&" that is not part of a tag
// or of an entity, an attribute other than the documented ones, a
// language on a code that is not inside pre, and tags nested where the
// documentation says entities cannot contain each other are all refused.
// f2b-notify never emits them, so a refusal is a bug to see.
func ParseHTML(s string) (string, []Entity, error) {
	if !utf8.ValidString(s) {
		return "", nil, parseErr("text must be encoded in UTF-8")
	}
	var (
		out      strings.Builder
		units    int // UTF-16 length of out
		stack    []open
		entities []Entity
	)
	write := func(r rune) {
		out.WriteRune(r)
		units += utf16.RuneLen(r)
	}
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case '&':
			r, n, ok := decodeEntity(s[i:])
			if !ok {
				return "", nil, parseErr("unsupported HTML entity or unescaped \"&\" at byte offset %d", i)
			}
			write(r)
			i += n
		case '>':
			return "", nil, parseErr("unescaped \">\" at byte offset %d", i)
		case '<':
			if strings.HasPrefix(s[i:], "</") {
				end := strings.IndexByte(s[i:], '>')
				if end < 0 {
					return "", nil, parseErr("Unclosed end tag at byte offset %d", i)
				}
				name := strings.ToLower(strings.TrimSpace(s[i+2 : i+end]))
				if len(stack) == 0 {
					return "", nil, parseErr("Unexpected end tag at byte offset %d", i)
				}
				top := stack[len(stack)-1]
				if top.name != name {
					return "", nil, parseErr("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", i, top.name, name)
				}
				stack = stack[:len(stack)-1]
				if units > top.start {
					e := top.ent
					e.Offset, e.Length = top.start, units-top.start
					entities = append(entities, e)
				}
				i += end + 1
				continue
			}
			o, n, err := readStartTag(s, i)
			if err != nil {
				return "", nil, err
			}
			if err := checkNesting(stack, o); err != nil {
				return "", nil, err
			}
			o.start = units
			stack = append(stack, o)
			i += n
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			write(r)
			i += size
		}
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		return "", nil, parseErr("Can't find end tag corresponding to start tag \"%s\" at byte offset %d", top.name, top.at)
	}
	text := out.String()
	entities = mergePreCode(entities)
	entities = append(entities, findEntities(text, entities)...)
	sortEntities(entities)
	u16 := utf16.Encode([]rune(text))
	for k := range entities {
		e := &entities[k]
		e.Text = string(utf16.Decode(u16[e.Offset : e.Offset+e.Length]))
	}
	return text, entities, nil
}

// decodeEntity decodes the entity at the start of s: &lt; &gt; &amp; &quot;
// or a numeric one.
func decodeEntity(s string) (rune, int, bool) {
	semi := strings.IndexByte(s, ';')
	if semi < 2 || semi > 12 {
		return 0, 0, false
	}
	name := s[1:semi]
	switch name {
	case "lt":
		return '<', semi + 1, true
	case "gt":
		return '>', semi + 1, true
	case "amp":
		return '&', semi + 1, true
	case "quot":
		return '"', semi + 1, true
	}
	if name[0] != '#' || len(name) < 2 {
		return 0, 0, false
	}
	var (
		v   uint64
		err error
	)
	if name[1] == 'x' || name[1] == 'X' {
		v, err = strconv.ParseUint(name[2:], 16, 32)
	} else {
		v, err = strconv.ParseUint(name[1:], 10, 32)
	}
	if err != nil || v == 0 || v > utf8.MaxRune || (v >= 0xd800 && v <= 0xdfff) {
		return 0, 0, false
	}
	return rune(v), semi + 1, true
}

// readStartTag reads the start tag at s[i] ("<name attr=value ...>").
func readStartTag(s string, i int) (open, int, error) {
	j := i + 1
	for j < len(s) && (isAlnum(s[j]) || s[j] == '-') {
		j++
	}
	name := strings.ToLower(s[i+1 : j])
	t, ok := tags[name]
	if name == "" || !ok {
		return open{}, 0, parseErr("Unsupported start tag \"%s\" at byte offset %d", name, i)
	}
	o := open{name: name, at: i, ent: Entity{Type: t.entity}}
	attrs := map[string]string{}
	for {
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		if j >= len(s) {
			return open{}, 0, parseErr("Unclosed start tag at byte offset %d", i)
		}
		if s[j] == '>' {
			j++
			break
		}
		k := j
		for j < len(s) && (isAlnum(s[j]) || s[j] == '-' || s[j] == '_') {
			j++
		}
		attr := strings.ToLower(s[k:j])
		if attr == "" {
			return open{}, 0, parseErr("Expected equal sign in declaration of an attribute of the tag \"%s\" at byte offset %d", name, i)
		}
		value := ""
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		if j < len(s) && s[j] == '=' {
			j++
			for j < len(s) && isSpace(s[j]) {
				j++
			}
			if j >= len(s) {
				return open{}, 0, parseErr("Unclosed start tag at byte offset %d", i)
			}
			var raw string
			if q := s[j]; q == '"' || q == '\'' {
				end := strings.IndexByte(s[j+1:], q)
				if end < 0 {
					return open{}, 0, parseErr("Unclosed start tag at byte offset %d", i)
				}
				raw = s[j+1 : j+1+end]
				j += end + 2
			} else {
				k := j
				for j < len(s) && !isSpace(s[j]) && s[j] != '>' {
					j++
				}
				raw = s[k:j]
			}
			v, err := decodeAttr(raw)
			if err != nil {
				return open{}, 0, err
			}
			value = v
		}
		if !t.attrs[attr] {
			return open{}, 0, parseErr("attribute \"%s\" is not allowed on tag \"%s\" at byte offset %d", attr, name, i)
		}
		attrs[attr] = value
	}
	switch name {
	case "a":
		href, ok := attrs["href"]
		if !ok {
			return open{}, 0, parseErr("tag \"a\" at byte offset %d has no href", i)
		}
		o.ent.URL = href
		if strings.HasPrefix(href, "tg://user?id=") {
			o.ent.Type, o.ent.URL = "text_mention", ""
		}
	case "span":
		if attrs["class"] != "tg-spoiler" {
			return open{}, 0, parseErr("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", i)
		}
	case "code":
		if class, ok := attrs["class"]; ok {
			lang, ok := strings.CutPrefix(class, "language-")
			if !ok || lang == "" {
				return open{}, 0, parseErr("class of tag \"code\" at byte offset %d must be language-NAME", i)
			}
			o.ent.Language = lang
		}
	case "blockquote":
		if _, ok := attrs["expandable"]; ok {
			o.ent.Type = "expandable_blockquote"
		}
	case "tg-emoji":
		if attrs["emoji-id"] == "" {
			return open{}, 0, parseErr("tag \"tg-emoji\" at byte offset %d has no emoji-id", i)
		}
		o.ent.CustomEmojiID = attrs["emoji-id"]
	}
	return o, j - i, nil
}

// decodeAttr decodes the entities of an attribute value.
func decodeAttr(raw string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(raw); {
		switch raw[i] {
		case '&':
			r, n, ok := decodeEntity(raw[i:])
			if !ok {
				return "", parseErr("unsupported HTML entity in an attribute value")
			}
			b.WriteRune(r)
			i += n
		case '<':
			return "", parseErr("unescaped \"<\" in an attribute value")
		default:
			b.WriteByte(raw[i])
			i++
		}
	}
	return b.String(), nil
}

// checkNesting applies the Bot API's rules on nested entities to the tag o
// opened inside stack.
func checkNesting(stack []open, o open) error {
	if len(stack) == 0 {
		if o.name == "code" && o.ent.Language != "" {
			return parseErr("a language can only be given to a code tag directly inside pre (byte offset %d)", o.at)
		}
		return nil
	}
	parent := stack[len(stack)-1]
	for _, p := range stack {
		switch {
		case p.name == "code":
			return parseErr("tag \"%s\" at byte offset %d is inside code, which can contain no other entity", o.name, o.at)
		case p.name == "pre" && !(o.name == "code" && p == parent):
			return parseErr("tag \"%s\" at byte offset %d is inside pre, which can contain only one code", o.name, o.at)
		case isQuote(p.name) && isQuote(o.name):
			return parseErr("blockquote at byte offset %d is nested in another", o.at)
		case (p.name == "a" || p.name == "tg-emoji") && !isStyle(o.name):
			return parseErr("tag \"%s\" at byte offset %d cannot be inside tag \"%s\"", o.name, o.at, p.name)
		}
	}
	if o.name == "code" && o.ent.Language != "" && parent.name != "pre" {
		return parseErr("a language can only be given to a code tag directly inside pre (byte offset %d)", o.at)
	}
	return nil
}

func isQuote(name string) bool { return name == "blockquote" }

// isStyle reports whether the tag makes a formatting entity, which can be
// part of any other entity but code and pre.
func isStyle(name string) bool {
	switch tags[name].entity {
	case "bold", "italic", "underline", "strikethrough", "spoiler":
		return true
	}
	return false
}

// mergePreCode turns <pre><code class="language-x"> into one pre entity with
// a language, as Telegram does, and drops the code entity it held.
func mergePreCode(es []Entity) []Entity {
	var out []Entity
	for _, e := range es {
		if e.Type != "code" {
			out = append(out, e)
			continue
		}
		inPre := false
		for k := range es {
			p := &es[k]
			if p.Type == "pre" && p.Offset <= e.Offset && e.Offset+e.Length <= p.Offset+p.Length {
				inPre = true
			}
		}
		if !inPre {
			out = append(out, e)
		}
	}
	for k := range out {
		if out[k].Type != "pre" {
			continue
		}
		for _, e := range es {
			if e.Type == "code" && e.Language != "" && out[k].Offset <= e.Offset && e.Offset+e.Length <= out[k].Offset+out[k].Length {
				out[k].Language = e.Language
			}
		}
	}
	return out
}

// What Telegram finds by itself in message text. The patterns are broader
// than Telegram's (any two-letter ending counts as a top-level domain), so a
// test that finds none here would find none in Telegram.
var autoEntities = []struct {
	typ string
	re  *regexp.Regexp
}{
	{"email", regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)},
	{"url", regexp.MustCompile(`(?i)(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)[^\s<>"]+`)},
	{"url", regexp.MustCompile(`(?i)\b[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}\b(?:[/:][^\s<>"]*)?`)},
	{"mention", regexp.MustCompile(`(?:^|[^\w@])(@[A-Za-z0-9_]{2,32})`)},
	{"hashtag", regexp.MustCompile(`(?:^|[^\w#])(#\w+)`)},
	{"cashtag", regexp.MustCompile(`(?:^|[^\w$])(\$[A-Z]{1,8})\b`)},
	{"bot_command", regexp.MustCompile(`(?:^|\s)(/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?)`)},
}

// findEntities returns what Telegram would detect in text outside the
// entities that stop detection (code, pre, links, custom emoji).
func findEntities(text string, made []Entity) []Entity {
	// UTF-16 offset of every byte offset of text.
	offsets := make([]int, len(text)+1)
	u := 0
	for i, r := range text {
		for k := i; k < i+utf8.RuneLen(r); k++ {
			offsets[k] = u
		}
		u += utf16.RuneLen(r)
	}
	offsets[len(text)] = u
	blocked := func(start, end int) bool {
		for _, e := range made {
			switch e.Type {
			case "code", "pre", "text_link", "text_mention", "custom_emoji":
				if start < e.Offset+e.Length && e.Offset < end {
					return true
				}
			}
		}
		return false
	}
	var found []Entity
	taken := func(start, end int) bool {
		for _, e := range found {
			if start < e.Offset+e.Length && e.Offset < end {
				return true
			}
		}
		return false
	}
	for _, a := range autoEntities {
		for _, m := range a.re.FindAllStringSubmatchIndex(text, -1) {
			bs, be := m[0], m[1]
			if len(m) >= 4 && m[2] >= 0 {
				bs, be = m[2], m[3]
			}
			start, end := offsets[bs], offsets[be]
			if end == start || blocked(start, end) || taken(start, end) {
				continue
			}
			e := Entity{Type: a.typ, Offset: start, Length: end - start}
			found = append(found, e)
		}
	}
	return found
}

// sortEntities orders entities by offset, the longer first at one offset.
func sortEntities(es []Entity) {
	slices.SortStableFunc(es, func(a, b Entity) int {
		if c := cmp.Compare(a.Offset, b.Offset); c != 0 {
			return c
		}
		return cmp.Compare(b.Length, a.Length)
	})
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
