package fakebot

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestParseHTML(t *testing.T) {
	cases := []struct {
		in, text string
		ents     string // type:offset:length[:extra] ...
	}{
		{"plain", "plain", ""},
		{"<b>bold</b> <i>it</i>", "bold it", "bold:0:4 italic:5:2"},
		{"<strong>a</strong><em>b</em><u>c</u><ins>d</ins><s>e</s><strike>f</strike><del>g</del>", "abcdefg",
			"bold:0:1 italic:1:1 underline:2:1 underline:3:1 strikethrough:4:1 strikethrough:5:1 strikethrough:6:1"},
		{`<span class="tg-spoiler">x</span><tg-spoiler>y</tg-spoiler>`, "xy", "spoiler:0:1 spoiler:1:1"},
		{"&lt;b&gt; &amp; &quot; &#39; &#x27; &#128512;", `<b> & " ' ' 😀`, ""},
		{"😀<b>x</b>", "😀x", "bold:2:1"}, // offsets in UTF-16 code units
		{`<a href="https://example.org/?a=1&amp;b=2">x</a>`, "x", "text_link:0:1:https://example.org/?a=1&b=2"},
		{`<a href="tg://user?id=1">x</a>`, "x", "text_mention:0:1"},
		{`<pre><code class="language-go">x := 1</code></pre>`, "x := 1", "pre:0:6:go"},
		{"<b>bold <code>c</code></b>", "bold c", "bold:0:6 code:5:1"},
		{"<blockquote expandable>q</blockquote>", "q", "expandable_blockquote:0:1"},
		{"<b></b>x", "x", ""}, // empty entities are dropped
		{"see https://evil.example/x and www.evil.example", "see https://evil.example/x and www.evil.example", "url:4:22 url:31:16"},
		{"evil.example @everyone #tag /start a@evil.example $USD", "evil.example @everyone #tag /start a@evil.example $USD",
			"url:0:12 mention:13:9 hashtag:23:4 bot_command:28:6 email:35:14 cashtag:50:4"},
		{"<code>https://evil.example @here #x /cmd</code>", "https://evil.example @here #x /cmd", "code:0:34"},
		{"<pre>a@evil.example</pre>", "a@evil.example", "pre:0:14"},
		{"2001:db8::1 192.0.2.1 10:00 1/2 f2b-notify", "2001:db8::1 192.0.2.1 10:00 1/2 f2b-notify", ""},
	}
	for _, c := range cases {
		text, ents, err := ParseHTML(c.in)
		if err != nil {
			t.Errorf("ParseHTML(%q): %v", c.in, err)
			continue
		}
		if text != c.text {
			t.Errorf("ParseHTML(%q) text %q, want %q", c.in, text, c.text)
		}
		if got := entityString(ents); got != c.ents {
			t.Errorf("ParseHTML(%q) entities %q, want %q", c.in, got, c.ents)
		}
	}
}

func entityString(es []Entity) string {
	var parts []string
	for _, e := range es {
		s := e.Type + ":" + itoa(e.Offset) + ":" + itoa(e.Length)
		if extra := e.URL + e.Language; extra != "" {
			s += ":" + extra
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestParseHTMLRefuses(t *testing.T) {
	cases := map[string]string{
		"<p>x</p>":                           `Unsupported start tag "p" at byte offset 0`,
		"a<br>b":                             `Unsupported start tag "br" at byte offset 1`,
		"<b>x":                               `Can't find end tag corresponding to start tag "b"`,
		"<b><i>x</b></i>":                    `Unmatched end tag at byte offset 7, expected "</i>", found "</b>"`,
		"x</b>":                              "Unexpected end tag",
		"a < b":                              `Unsupported start tag "" at byte offset 2`,
		"a > b":                              `unescaped ">"`,
		"a & b":                              "unescaped \"&\"",
		"&nbsp;":                             "unsupported HTML entity",
		"&#0;":                               "unsupported HTML entity",
		`<b class="x">y</b>`:                 `attribute "class" is not allowed on tag "b"`,
		`<span class="red">y</span>`:         `Tag "span" must have class "tg-spoiler"`,
		`<code class="language-go">x</code>`: "directly inside pre",
		"<code><b>x</b></code>":              "inside code",
		"<pre><b>x</b></pre>":                "inside pre",
		"<blockquote><blockquote>x</blockquote></blockquote>": "nested",
		`<a href="https://e.org/"><code>x</code></a>`:         `cannot be inside tag "a"`,
		"<a>x</a>":    "has no href",
		"bad\xffutf8": "UTF-8",
	}
	for in, want := range cases {
		_, _, err := ParseHTML(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseHTML(%q) error %v, want %q", in, err, want)
		}
	}
}

func post(t *testing.T, u, contentType, body string) (int, answer) {
	t.Helper()
	resp, err := http.Post(u, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	return resp.StatusCode, a
}

func TestServer(t *testing.T) {
	const token = "1:secret"
	s := Start(t, token, "-100", "@chan")
	send := s.URL() + "/bot" + token + "/sendMessage"
	msg := func(text string) string {
		b, _ := jsonMarshal(map[string]any{"chat_id": -100, "text": text, "parse_mode": "HTML"})
		return b
	}
	cases := []struct {
		name, url, ct, body string
		status              int
		desc                string
	}{
		{"ok", send, "application/json", msg("<b>hi</b>"), 200, ""},
		{"form", send, "application/x-www-form-urlencoded",
			url.Values{"chat_id": {"@chan"}, "text": {"hi"}, "parse_mode": {"html"}, "link_preview_options": {`{"is_disabled":true}`}}.Encode(), 200, ""},
		{"wrong token", s.URL() + "/bot1:other/sendMessage", "application/json", msg("hi"), 401, "Unauthorized"},
		{"no bot", s.URL() + "/sendMessage", "application/json", msg("hi"), 404, "Not Found"},
		{"method", s.URL() + "/bot" + token + "/sendVideo", "application/json", msg("hi"), 404, "Not Found: method not found"},
		{"unknown chat", send, "application/json", `{"chat_id":-200,"text":"hi","parse_mode":"HTML"}`, 400, "Bad Request: chat not found"},
		{"bad html", send, "application/json", msg("<p>hi</p>"), 400, "Bad Request: can't parse entities: Unsupported start tag \"p\" at byte offset 0"},
		{"too long", send, "application/json", msg(strings.Repeat("x", 4097)), 400, "Bad Request: message is too long"},
		{"too long in UTF-16", send, "application/json", msg(strings.Repeat("😀", 2049)), 400, "Bad Request: message is too long"},
		{"empty", send, "application/json", msg("<b> </b>"), 400, "Bad Request: message text is empty"},
	}
	for _, c := range cases {
		status, a := post(t, c.url, c.ct, c.body)
		if status != c.status || a.Description != c.desc || a.OK != (c.status == 200) {
			t.Errorf("%s: %d %+v, want %d %q", c.name, status, a, c.status, c.desc)
		}
	}
	if n := len(s.Messages()); n != 2 {
		t.Errorf("%d messages recorded, want 2", n)
	}
	if v := s.Violations(); len(v) != 0 {
		t.Errorf("violations %q", v)
	}
	// Violations: answered 400 and recorded.
	for _, body := range []string{
		`{"chat_id":-100,"text":"hi"}`,
		`{"chat_id":"general","text":"hi","parse_mode":"HTML"}`,
		`{"chat_id":-100,"text":"hi","parse_mode":"HTML","link_preview_options":true}`,
		`{"chat_id":-100,"text":"hi","parse_mode":"HTML","disable_notification":"yes"}`,
	} {
		if status, _ := post(t, send, "application/json", body); status != 400 {
			t.Errorf("%s: status %d", body, status)
		}
	}
	if status, _ := post(t, send, "text/plain", "hi"); status != 400 {
		t.Errorf("text/plain: status %d", status)
	}
	if n := len(s.Violations()); n != 5 {
		t.Errorf("%d violations recorded, want 5: %q", n, s.Violations())
	}
	// Scripted failures come first, in order.
	s.Fail(FloodWait(3), Accept, Unauthorized)
	if status, a := post(t, send, "application/json", msg("x")); status != 429 || a.Parameters == nil || a.Parameters.RetryAfter != 3 {
		t.Errorf("flood: %d %+v", status, a)
	}
	if status, _ := post(t, send, "application/json", msg("x")); status != 200 {
		t.Errorf("accept: %d", status)
	}
	if status, _ := post(t, send, "application/json", msg("x")); status != 401 {
		t.Errorf("unauthorized: %d", status)
	}
	if status, _ := post(t, send, "application/json", msg("x")); status != 200 {
		t.Errorf("after the script: %d", status)
	}
}

func jsonMarshal(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}
