package templates

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/f2b-notify/f2b-notify/internal/textutil"
)

// The escapers of the chat dialects: each makes a value inert in its
// platform's markup, so that no mention, link or formatting can come from
// an attacker's text (see the dialects list in dialect.go).

// Look-alikes that Slack's mrkdwn does not treat as markup. mrkdwn has no
// escape character: a backslash shows as a backslash and the star after it
// still makes bold.
const (
	slackStar      = "\u2217" // ∗ ASTERISK OPERATOR for *, bold
	slackUnderline = "\u02cd" // ˍ MODIFIER LETTER LOW MACRON for _, italic
	slackTilde     = "\u223c" // ∼ TILDE OPERATOR for ~, strikethrough
	slackBacktick  = "\u02cb" // ˋ MODIFIER LETTER GRAVE ACCENT for `, code
	slackQuote     = "\u203a" // › for a leading >, which would start a quote
)

// escapeSlack makes text inert in mrkdwn: &, < and > become the entities
// Slack documents (so no mention, channel link, date or <url|link> can be
// formed), the formatting characters * _ ~ ` become look-alikes, a leading >
// (a quote when the value starts a line) becomes ›, and "://" becomes
// "[:]//" so that no scheme-qualified URL is recognised even by a client
// that links text by itself (the section's verbatim flag already stops
// Slack's own auto-linking of bare URLs and domains). Text shows as typed
// but for those look-alikes.
func escapeSlack(s string) string {
	if !strings.ContainsAny(s, "&<>*_~`:") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			if i == 0 {
				b.WriteString(slackQuote)
			} else {
				b.WriteString("&gt;")
			}
		case '*':
			b.WriteString(slackStar)
		case '_':
			b.WriteString(slackUnderline)
		case '~':
			b.WriteString(slackTilde)
		case '`':
			b.WriteString(slackBacktick)
		case ':':
			if strings.HasPrefix(s[i:], "://") {
				b.WriteString("[:]")
			} else {
				b.WriteByte(c)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// codeSlack escapes text for inside a code span or block (the template
// function code): entities are decoded there too, so &, < and > are escaped;
// backticks, which would close the span, become look-alikes.
func codeSlack(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "`", slackBacktick)
	return r.Replace(s)
}

// escapeDiscord makes text inert in Discord's markdown. Discord's parser
// (simple-markdown) treats a backslash before any ASCII punctuation as an
// escape, so a backslash goes before:
//   - \ * _ ~ ` | anywhere: bold, italic, underline, strikethrough, code,
//     spoilers;
//   - < > [ ] anywhere: mentions <@…> <@&…> <#…>, emoji <:…:…>, timestamps
//     <t:…>, autolinks <https://…>, masked links [text](url), quotes;
//   - # anywhere: headings and -# subtext;
//   - @ anywhere: @everyone and @here show as plain text, not as a mention
//     (which allowed_mentions already keeps from notifying anyone);
//   - the colon of "://": a bare http(s) URL is then not recognised as a
//     link, and shows with its colon;
//   - at the start, - + and "1." or "1)": list items.
//
// The backslashes are hidden when Discord shows the message.
func escapeDiscord(s string) string {
	if strings.IndexFunc(s, discordNeedsEscape) < 0 {
		return s
	}
	return backslashEscape(s, "\\*_~`|<>[]#@", "-+", true)
}

func discordNeedsEscape(r rune) bool {
	return strings.ContainsRune("\\*_~`|<>[]#@:-+.)", r)
}

// The look-alikes the teams escaper uses.
const (
	teamsStar  = "\u2217" // ∗ ASTERISK OPERATOR for *: "**" is the dialect's bold
	teamsBrace = "\uff5b" // ｛ for the first { of "{{", which starts a DATE() or TIME() function
)

// escapeTeams makes a value inert in the card: * becomes a look-alike so that
// no "**" from a value toggles bold, "{{" loses its first brace to a
// look-alike so that no {{DATE(...)}} is expanded, and "://" becomes "[:]//" so
// that no client that links text by itself recognises a URL. Everything else
// is shown as it is: TextRun text is not Markdown.
func escapeTeams(s string) string {
	if !strings.ContainsAny(s, "*{:") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '*':
			b.WriteString(teamsStar)
		case c == '{' && strings.HasPrefix(s[i:], "{{"):
			b.WriteString(teamsBrace)
		case c == ':' && strings.HasPrefix(s[i:], "://"):
			b.WriteString("[:]")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// escapeJSON makes s safe inside a JSON string: quotes and backslashes get a
// backslash, newline and tab become \n and \t, the line and paragraph
// separators \u2028 and \u2029, and any other control character (C0, DEL,
// C1) the visible text \x1b that report.Neutralise would show, so that no
// control character reaches the receiver even after it decodes the JSON. It
// adds no quotes: the template writes them.
func escapeJSON(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c == 0x7f || c >= utf8.RuneSelf {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\u2028' || r == '\u2029':
			fmt.Fprintf(&b, `\u%04x`, r)
		case textutil.IsControl(r):
			fmt.Fprintf(&b, `\\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// markdownEscape puts a backslash before every character of s that could
// start Markdown markup (CommonMark and its common extensions), so that s
// shows as typed: emphasis, code, links, raw HTML, entities, tables and
// strikethrough anywhere, and headings, lists, quotes and rules where s starts
// a line.
func markdownEscape(s string) string {
	if !utf8.ValidString(s) {
		s = strings.Map(func(r rune) rune { return r }, s) // each invalid byte becomes U+FFFD
	}
	return backslashEscape(s, "\\`*_[]<>&|~", "#+-=>!", false)
}

// backslashEscape puts a backslash before every byte of s in inline, before
// the first byte if it is in lineStart, before the . or ) of a leading "1."
// or "1)" (a list marker), and, with scheme, before the colon of "://". The
// characters named are ASCII; the bytes of other characters pass as they are.
func backslashEscape(s, inline, lineStart string, scheme bool) string {
	var b strings.Builder
	b.Grow(len(s) + 16)
	digits := true // s so far is only digits: "1. " or "1) " would start a list
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < utf8.RuneSelf && strings.IndexByte(inline, c) >= 0,
			i == 0 && c < utf8.RuneSelf && strings.IndexByte(lineStart, c) >= 0,
			scheme && c == ':' && strings.HasPrefix(s[i:], "://"),
			digits && i > 0 && (c == '.' || c == ')') && listEnd(s[i+1:]):
			b.WriteByte('\\')
		}
		digits = digits && c >= '0' && c <= '9'
		b.WriteByte(c)
	}
	return b.String()
}

// listEnd reports whether rest, what follows "1." or "1)", makes it a list
// marker: nothing or a blank.
func listEnd(rest string) bool {
	return rest == "" || rest[0] == ' ' || rest[0] == '\t'
}
