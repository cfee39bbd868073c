package channels_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/internal/fakebot"
	"github.com/f2b-notify/f2b-notify/internal/geoip"
	"github.com/f2b-notify/f2b-notify/internal/hostile"
	"github.com/f2b-notify/f2b-notify/internal/sample"
	"github.com/f2b-notify/f2b-notify/report"
)

const (
	// tgToken is the bot token of the tests; tgSecret its secret half,
	// which must appear in no error.
	tgToken  = "123456789:AAH-fakeSecret_0123456789abcdefXYZ"
	tgSecret = "AAH-fakeSecret_0123456789abcdefXYZ"
	tgChat   = "-1001234567890"
)

// tgEnd is the time the test digests end at.
var tgEnd = time.Date(2024, 5, 3, 6, 0, 0, 0, time.UTC)

// tgSettings returns the settings of a telegram channel that posts to bot,
// plus extra (a nil value deletes a key).
func tgSettings(bot *fakebot.Server, extra map[string]any) map[string]any {
	s := map[string]any{"token": tgToken, "chat_id": -1001234567890, "api_url": bot.URL()}
	for k, v := range extra {
		if v == nil {
			delete(s, k)
			continue
		}
		s[k] = v
	}
	return s
}

func tgChannel(t *testing.T, bot *fakebot.Server, extra map[string]any) *channels.Telegram {
	t.Helper()
	return newChannel(t, "tg", "telegram", tgSettings(bot, extra)).(*channels.Telegram)
}

// tgNoSecret fails the test if err shows the token in any form.
func tgNoSecret(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if msg := err.Error(); strings.Contains(msg, tgSecret) || strings.Contains(msg, "/bot") {
		t.Errorf("error shows the token: %s", msg)
	}
}

// tgSampleDigest is the digest of the demo's sample.
func tgSampleDigest() *report.Digest {
	b := report.NewBuilder(report.Options{Host: "web1.example.org", Generated: tgEnd, Geo: geoip.Demo(), History: sample.History(tgEnd)})
	for _, r := range sample.Records(tgEnd) {
		b.Add(r)
	}
	return b.Digest()
}

// tgCheckAccepted fails unless bot accepted exactly the pages, each one
// within the limit and measured by the channel as the fake counts it.
func tgCheckAccepted(t *testing.T, bot *fakebot.Server, ch *channels.Telegram, pages []string) []fakebot.Message {
	t.Helper()
	if v := bot.Violations(); len(v) > 0 {
		t.Fatalf("requests broke the Bot API's rules: %q", v)
	}
	got := bot.Messages()
	if len(got) != len(pages) {
		t.Fatalf("bot accepted %d messages, want %d", len(got), len(pages))
	}
	for i, m := range got {
		if m.HTML != pages[i] {
			t.Errorf("message %d is not page %d", i+1, i+1)
		}
		n := fakebot.Length(m.Text)
		if n > 4096 {
			t.Errorf("message %d is %d long after parsing", i+1, n)
		}
		if ms := ch.Measure(m.HTML); ms != n {
			t.Errorf("message %d: Measure = %d, the fake counts %d", i+1, ms, n)
		}
	}
	return got
}

// tgNoActive fails if a message has a link, mention, hashtag, command...
func tgNoActive(t *testing.T, msgs []fakebot.Message) {
	t.Helper()
	for i, m := range msgs {
		for _, e := range m.Entities {
			if e.Active() {
				t.Errorf("message %d: %s entity over %q", i+1, e.Type, e.Text)
			}
		}
	}
}

// tgBoldRE is what the default template makes bold: its title, headings
// and numbers.
var tgBoldRE = regexp.MustCompile(`^(\d+ bans? from \d+ address(?:es)?(?:, [-+±0-9]+% on the previous report \(\d+ bans?\)|, as many as the previous report|; the previous report had none)?|Fail2Ban report|Jails|Offenders|Unbans|Notes|[0-9]+)$`)

// tgOnlyTemplateFormatting fails if a formatting entity covers anything
// but what the default template formats itself.
func tgOnlyTemplateFormatting(t *testing.T, msgs []fakebot.Message) {
	t.Helper()
	for i, m := range msgs {
		for _, e := range m.Entities {
			switch {
			case e.Type == "bold" && tgBoldRE.MatchString(e.Text):
			case e.Type == "italic" && regexp.MustCompile(`^f2b-notify: [0-9]+ records? from [0-9]+ batch(es)?$`).MatchString(e.Text):
			case e.Type == "code" || e.Type == "pre":
			default:
				t.Errorf("message %d: %s entity over %q, which the template does not format", i+1, e.Type, e.Text)
			}
		}
	}
}

// tgTruncate is the template function truncate.
func tgTruncate(n int, s string) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

func TestTelegramSettings(t *testing.T) {
	bot := fakebot.Start(t, tgToken)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(tgToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := []map[string]any{
		{},
		{"chat_id": "-1001234567890"},
		{"chat_id": "@f2b_reports"},
		{"chat_id": 42.0},
		{"token": nil, "token_file": tokenFile},
		{"message_thread_id": 7, "disable_notification": true, "oversize": "cut"},
		{"oversize": "Split", "api_url": bot.URL() + "/"},
		{"api_url": nil},
	}
	for _, change := range good {
		if _, err := channels.New("tg", "telegram", tgSettings(bot, change)); err != nil {
			t.Errorf("settings %v: %v", change, err)
		}
	}
	bad := []settingsCase{ // changes to good settings
		{map[string]any{"token": nil}, "key token: required"},
		{map[string]any{"token": "AAH-" + tgSecret}, "key token: not a bot token"},
		{map[string]any{"token": "123:" + tgSecret + "/x"}, "key token: not a bot token"},
		{map[string]any{"token": nil, "token_file": filepath.Join(dir, "missing")}, "key token_file"},
		{map[string]any{"chat_id": nil}, "key chat_id: required"},
		{map[string]any{"chat_id": "general"}, `key chat_id: want an integer id`},
		{map[string]any{"chat_id": 0}, "key chat_id: 0 is not a chat id"},
		{map[string]any{"message_thread_id": -1}, "key message_thread_id"},
		{map[string]any{"message_thread_id": "topic"}, "message_thread_id"},
		{map[string]any{"disable_notification": "maybe"}, "disable_notification"},
		{map[string]any{"oversize": "truncate"}, "key oversize: want split or cut"},
		{map[string]any{"max_messages": 0}, "key max_messages: want 1 to 100"},
		{map[string]any{"max_messages": 500}, "key max_messages: want 1 to 100"},
		{map[string]any{"max_messages": "many"}, "max_messages"},
		{map[string]any{"api_url": "ftp://example.org"}, "key api_url: not an http:// or https:// URL"},
		{map[string]any{"api_url": "https://api.telegram.org/?token=" + tgSecret}, "key api_url: want the base URL"},
		{map[string]any{"parse_mode": "MarkdownV2"}, "parse_mode"},
	}
	for i, c := range bad {
		bad[i].settings = tgSettings(bot, c.settings)
	}
	refuseSettings(t, "tg", "telegram", bad, tgSecret, "/bot")
	if bot.Requests() != 0 {
		t.Errorf("building channels made %d requests", bot.Requests())
	}
}

func TestTelegramRequestShape(t *testing.T) {
	bot := fakebot.Start(t, tgToken, tgChat, "@f2b_reports")
	ch := tgChannel(t, bot, map[string]any{"message_thread_id": 42, "disable_notification": true})
	if got := ch.Formats(); !slices.Equal(got, []channels.Format{channels.TelegramHTML}) || ch.Limit() != 4096 || !ch.Split() {
		t.Errorf("Formats %v, Limit %d, Split %v; want [telegram], 4096, true", got, ch.Limit(), ch.Split())
	}
	m := renderReport(t, ch, config.Channel{}, tgSampleDigest())
	if len(m.Pages) != 0 {
		t.Fatalf("the sample was split into %d pages", len(m.Pages))
	}
	if err := sendOnce(timeoutCtx(t, 10*time.Second), ch, m); err != nil {
		t.Fatal(err)
	}
	got := tgCheckAccepted(t, bot, ch, m.Messages(channels.TelegramHTML))[0]
	if ct := got.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var keys []string
	for k := range got.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"chat_id", "disable_notification", "disable_web_page_preview", "link_preview_options", "message_thread_id", "parse_mode", "text"}
	if !slices.Equal(keys, want) {
		t.Errorf("parameters %v, want %v", keys, want)
	}
	if id, ok := got.Fields["chat_id"].(json.Number); !ok || id.String() != tgChat {
		t.Errorf("chat_id %#v, want the number %s", got.Fields["chat_id"], tgChat)
	}
	if id, ok := got.Fields["message_thread_id"].(json.Number); !ok || id.String() != "42" {
		t.Errorf("message_thread_id %#v, want the number 42", got.Fields["message_thread_id"])
	}
	if got.ParseMode != "HTML" || !got.LinkPreviewDisabled || !got.DisableNotification {
		t.Errorf("parse_mode %q, link preview disabled %v, silent %v", got.ParseMode, got.LinkPreviewDisabled, got.DisableNotification)
	}
	if lp, _ := json.Marshal(got.Fields["link_preview_options"]); string(lp) != `{"is_disabled":true}` {
		t.Errorf("link_preview_options %s", lp)
	}

	// The defaults send no thread and no disable_notification; a channel
	// name goes as a string.
	ch = tgChannel(t, bot, map[string]any{"chat_id": "@f2b_reports"})
	if err := ch.Send(timeoutCtx(t, 10*time.Second), "subject", "<b>hello</b>"); err != nil {
		t.Fatal(err)
	}
	msgs := bot.Messages()
	got = msgs[len(msgs)-1]
	if got.Fields["chat_id"] != "@f2b_reports" {
		t.Errorf("chat_id %#v, want the string @f2b_reports", got.Fields["chat_id"])
	}
	for _, k := range []string{"message_thread_id", "disable_notification"} {
		if _, ok := got.Fields[k]; ok {
			t.Errorf("%s sent by default", k)
		}
	}
	if got.Text != "hello" || len(got.Entities) != 1 || got.Entities[0].Type != "bold" {
		t.Errorf("text %q, entities %v", got.Text, got.Entities)
	}
	// An empty body sends the subject, escaped.
	if err := ch.Send(timeoutCtx(t, 10*time.Second), "<i>subject</i> & co", ""); err != nil {
		t.Fatal(err)
	}
	msgs = bot.Messages()
	if got := msgs[len(msgs)-1].Text; got != "<i>subject</i> & co" {
		t.Errorf("text %q, want the subject shown literally", got)
	}
}

func TestTelegramDefaultTemplate(t *testing.T) {
	bot := fakebot.Start(t, tgToken)
	ch := tgChannel(t, bot, nil)
	m := renderReport(t, ch, config.Channel{}, tgSampleDigest())
	body := m.Bodies[channels.TelegramHTML]
	checkGolden(t, "telegram", "sample", []byte(body))
	if bad := regexp.MustCompile(`<(br|p|html|div|table|span)\b|style=|&nbsp;`).FindString(body); bad != "" {
		t.Errorf("body holds %q, which Telegram does not accept", bad)
	}
	if err := sendOnce(timeoutCtx(t, 10*time.Second), ch, m); err != nil {
		t.Fatal(err)
	}
	msgs := tgCheckAccepted(t, bot, ch, m.Messages(channels.TelegramHTML))
	tgNoActive(t, msgs)
	tgOnlyTemplateFormatting(t, msgs)
	got := msgs[0]
	if !strings.HasPrefix(got.Text, "15 bans from 7 addresses, +88% on the previous report (8 bans)\n") || !strings.Contains(got.Text, "\n\nFail2Ban report · web1.example.org\n") {
		t.Errorf("text starts %q", got.Text[:min(60, len(got.Text))])
	}
	for _, want := range []string{"15 bans · 7 addresses (2 IPv6) · 56 failures · 5 jails · 2 unbans", "users: <script>alert(1)</script>"} {
		if !strings.Contains(got.Text, want) {
			t.Errorf("text lacks %q", want)
		}
	}
	code := got.Covered("code")
	for _, ip := range []string{"203.0.113.45", "2001:db8:4::17", "192.0.2.9", "198.51.100.77"} {
		if !slices.Contains(code, ip) {
			t.Errorf("IP %s is not in a code entity (code: %q)", ip, code)
		}
	}
	if pre := got.Covered("pre"); len(pre) != 7 {
		t.Errorf("%d pre blocks, want one per offender with log lines (7)", len(pre))
	}

	// An empty digest still says something.
	empty := &report.Digest{Host: "web1.example.org", Generated: tgEnd}
	m = renderReport(t, ch, config.Channel{}, empty)
	if err := sendOnce(timeoutCtx(t, 10*time.Second), ch, m); err != nil {
		t.Fatal(err)
	}
	msgs = bot.Messages()
	if got := msgs[len(msgs)-1].Text; got != "Fail2Ban report · web1.example.org\n\nNo bans in this period." {
		t.Errorf("empty report: %q", got)
	}
}

// tgHostileDigest is a digest built the way a flush builds it from records
// whose user names and log lines are the hostile corpus, with hostile jail
// and host names too.
func tgHostileDigest() (*report.Digest, []string) {
	corpus := hostile.Corpus()
	b := report.NewBuilder(report.Options{Host: "evil<b>host</b>@everyone https://evil.example/", Generated: tgEnd})
	for i, s := range corpus {
		jail := "sshd"
		if i%7 == 0 {
			jail = s
		}
		b.Add(&buffer.Record{
			V: buffer.SchemaVersion, Action: buffer.ActionBan, Jail: jail,
			IP:   fmt.Sprintf("198.51.100.%d", i+1),
			Time: float64(tgEnd.Add(-time.Duration(i) * time.Minute).Unix()), At: tgEnd.Unix(),
			Failures: 3, Bantime: 600, User: s, Matches: []string{hostile.Match(i)},
		})
	}
	return b.Digest(), corpus
}

func TestTelegramHostileCorpus(t *testing.T) {
	bot := fakebot.Start(t, tgToken)
	ch := tgChannel(t, bot, nil)
	d, corpus := tgHostileDigest()
	m := renderReport(t, ch, config.Channel{}, d)
	if err := sendOnce(timeoutCtx(t, 20*time.Second), ch, m); err != nil {
		t.Fatal(err)
	}
	msgs := tgCheckAccepted(t, bot, ch, m.Messages(channels.TelegramHTML))
	tgNoActive(t, msgs)
	tgOnlyTemplateFormatting(t, msgs)
	// The test is not vacuous: the corpus as plain text holds links and
	// mentions that Telegram would find.
	_, plain, err := fakebot.ParseHTML(html.EscapeString(strings.ToValidUTF8(strings.Join(corpus, "\n"), "?")))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, e := range plain {
		kinds[e.Type] = true
	}
	for _, k := range []string{"url", "mention", "email", "hashtag", "bot_command"} {
		if !kinds[k] {
			t.Errorf("the fake finds no %s in the corpus", k)
		}
	}
	var code, pre []string
	for _, msg := range msgs {
		code = append(code, msg.Covered("code")...)
		pre = append(pre, msg.Covered("pre")...)
	}
	allPre := strings.Join(pre, "\n")
	for i, s := range corpus {
		user := tgTruncate(64, report.Neutralise(s))
		if !slices.Contains(code, user) {
			t.Errorf("corpus entry %d %q: user name not shown literally in a code entity as %q", i, s, user)
		}
		match := tgTruncate(200, report.Neutralise(hostile.Match(i)))
		if !strings.Contains(allPre, match) {
			t.Errorf("corpus entry %d %q: log line not shown literally in a pre entity as %q", i, s, match)
		}
	}
	if len(msgs) > 0 && !slices.Contains(code, "evil<b>host</b>@everyone https://evil.example/") {
		t.Errorf("the host name is not shown literally in code")
	}
}

// tgBigDigest has n offenders, one ban each.
func tgBigDigest(n int) *report.Digest {
	d := &report.Digest{Host: "web1.example.org", Generated: tgEnd, From: tgEnd.Add(-time.Hour), To: tgEnd,
		Totals: report.Totals{Bans: n, IPs: n, Failures: 5 * n, Jails: 1},
		Jails:  []report.JailStat{{Name: "sshd", Bans: n, IPs: n, Failures: 5 * n}},
	}
	for i := range n {
		d.Offenders = append(d.Offenders, report.Offender{
			IP: fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256), Jails: []string{"sshd"}, Bans: 1, Failures: 5,
			FirstSeen: tgEnd.Add(-time.Hour), LastSeen: tgEnd, Bantime: 600,
		})
	}
	return d
}

// A report over 4096 characters is split at offender rows; by default into
// at most 10 messages, the last one cut with "and N more offenders"
// (max_messages). Every offender shown is shown once, every message has the
// totals and says which part it is.
func TestTelegramSplitsLargeReport(t *testing.T) {
	for _, tc := range []struct {
		n, maxMessages int // 0: the default
		wantMsgs       int // 0: whatever it takes
	}{
		{n: 5000, wantMsgs: channels.DefaultMaxMessages},
		{n: 2000, maxMessages: 100},
	} {
		bot := fakebot.Start(t, tgToken)
		var change map[string]any
		if tc.maxMessages > 0 {
			change = map[string]any{"max_messages": tc.maxMessages}
		}
		ch := tgChannel(t, bot, change)
		d := tgBigDigest(tc.n)
		m := renderReport(t, ch, config.Channel{}, d)
		if len(m.Pages) < 2 {
			t.Fatalf("%d pages, want the report split", len(m.Pages))
		}
		if err := sendOnce(timeoutCtx(t, 60*time.Second), ch, m); err != nil {
			t.Fatal(err)
		}
		msgs := tgCheckAccepted(t, bot, ch, m.Pages)
		tgNoActive(t, msgs)
		if tc.wantMsgs > 0 && len(msgs) != tc.wantMsgs {
			t.Errorf("%d offenders: %d messages, want %d", tc.n, len(msgs), tc.wantMsgs)
		}
		seen := map[string]int{}
		ipRE := regexp.MustCompile(`^10\.[0-9]+\.[0-9]+\.[0-9]+$`)
		totals := fmt.Sprintf("%d bans · %d addresses · %d failures · 1 jail", tc.n, tc.n, 5*tc.n)
		for i, msg := range msgs {
			for _, c := range msg.Covered("code") {
				if ipRE.MatchString(c) {
					seen[c]++
				}
			}
			head := fmt.Sprintf("\n\nFail2Ban report · web1.example.org · part %d of %d\n", i+1, len(msgs))
			if !strings.HasPrefix(msg.Text, fmt.Sprintf("%d bans from %d addresses\n", tc.n, tc.n)) || !strings.Contains(msg.Text, head) {
				t.Errorf("message %d starts %q, want %q", i+1, msg.Text[:min(len(msg.Text), 80)], head)
			}
			if !strings.Contains(msg.Text, totals) {
				t.Errorf("message %d lacks the totals %q", i+1, totals)
			}
			if i < len(msgs)-1 && strings.Contains(msg.Text, "more offender") {
				t.Errorf("message %d of %d leaves offenders out", i+1, len(msgs))
			}
		}
		for ip, k := range seen {
			if k != 1 {
				t.Errorf("offender %s appears %d times", ip, k)
			}
		}
		last := msgs[len(msgs)-1].Text
		if len(seen) < tc.n {
			if want := fmt.Sprintf("and %d more offenders", tc.n-len(seen)); !strings.Contains(last, want) {
				t.Errorf("%d of %d offenders shown; the last message lacks %q", len(seen), tc.n, want)
			}
		} else if strings.Contains(last, "more offender") {
			t.Errorf("every offender shown, yet the last message says some are left out")
		}
		if tc.wantMsgs == 0 && len(seen) != tc.n {
			t.Errorf("max_messages %d: %d offenders sent, want all %d", tc.maxMessages, len(seen), tc.n)
		}
		// The list of every offender goes after the last message, and only
		// when offenders were left out.
		ups := bot.Uploads()
		if cut := len(seen) < tc.n; cut != (len(ups) == 1) || len(ups) > 1 {
			t.Errorf("%d of %d offenders shown; uploads %v", len(seen), tc.n, tgUploadNames(ups))
		} else if cut && (ups[0].Filename != "offenders.csv" || ups[0].ID < msgs[len(msgs)-1].ID) {
			t.Errorf("upload %s (id %d), want offenders.csv after the last message (id %d)", ups[0].Filename, ups[0].ID, msgs[len(msgs)-1].ID)
		}
		if cut := len(seen) < tc.n; cut && !strings.Contains(last, "(all listed in the attached offenders.csv)") {
			t.Errorf("the last message does not name the attached list")
		}
		t.Logf("%d offenders: %d shown in %d messages", tc.n, len(seen), len(msgs))
	}
}

func TestTelegramCutsLargeReport(t *testing.T) {
	bot := fakebot.Start(t, tgToken)
	ch := tgChannel(t, bot, map[string]any{"oversize": "cut"})
	if ch.Split() {
		t.Fatal("oversize cut splits")
	}
	m := renderReport(t, ch, config.Channel{}, tgBigDigest(5000))
	if len(m.Pages) != 0 {
		t.Fatalf("%d pages in cut mode", len(m.Pages))
	}
	if err := sendOnce(timeoutCtx(t, 10*time.Second), ch, m); err != nil {
		t.Fatal(err)
	}
	msgs := tgCheckAccepted(t, bot, ch, m.Messages(channels.TelegramHTML))
	text := msgs[0].Text
	more := regexp.MustCompile(`… and ([0-9]+) more offenders \(all listed in the attached offenders\.csv\)`).FindStringSubmatch(text)
	if more == nil {
		t.Fatalf("no \"and N more\" line in:\n%s", text)
	}
	shown := strings.Count(text, "\n• 10.")
	if shown == 0 || fmt.Sprint(5000-shown) != more[1] {
		t.Errorf("%d offenders shown and %s more, want 5000 in all", shown, more[1])
	}
	if !strings.Contains(text, "offenders were left out") || !strings.Contains(text, "5000 bans") {
		t.Errorf("the note or the totals are missing")
	}
	if n := fakebot.Length(text); n < 3500 {
		t.Errorf("the cut message is %d long: the limit is badly used", n)
	}
	// The list of every offender follows, as a document.
	ups := bot.Uploads()
	if len(ups) != 1 || ups[0].Method != "sendDocument" || ups[0].Filename != "offenders.csv" || ups[0].ID < msgs[0].ID {
		t.Fatalf("uploads %v, want offenders.csv after the report", tgUploadNames(ups))
	}
	if rows := strings.Count(string(ups[0].Data), "\n"); rows != 5001 {
		t.Errorf("offenders.csv has %d lines, want a header and 5000 rows", rows)
	}
}

// tgUploadNames lists the uploads as "method file" for an error.
func tgUploadNames(ups []fakebot.Upload) []string {
	var out []string
	for _, u := range ups {
		out = append(out, u.Method+" "+u.Filename)
	}
	return out
}

// verdict says how Deliver treats err: "ok", "permanent", "retry after D"
// or "retry".
func verdict(err error) string {
	var ra *channels.RetryAfterError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &ra):
		return fmt.Sprintf("retry after %s", ra.After)
	case channels.IsPermanent(err):
		return "permanent"
	}
	return "retry"
}

func TestTelegramErrors(t *testing.T) {
	cases := []struct {
		name  string
		reply fakebot.Reply
		want  string // tgClassify
		text  string // in the error
	}{
		{"flood", fakebot.FloodWait(7), "retry after 7s", "retry after 7"},
		{"unauthorized", fakebot.Unauthorized, "permanent", "HTTP 401 Unauthorized: Unauthorized (check the token)"},
		{"blocked", fakebot.Blocked, "permanent", "HTTP 403 Forbidden: bot was blocked by the user"},
		{"not member", fakebot.NotMember, "permanent", "bot is not a member of the channel chat (add the bot"},
		{"chat not found", fakebot.ChatNotFound, "permanent", "HTTP 400 Bad Request: chat not found (check chat_id"},
		{"thread not found", fakebot.ThreadNotFound, "permanent", "message thread not found"},
		{"migrated", fakebot.Migrated(-1009876543210), "permanent", "set chat_id to -1009876543210"},
		{"internal", fakebot.InternalError, "retry", "HTTP 500 Internal Server Error: restart"},
		{"proxy", fakebot.BadGateway, "retry", "HTTP 502 Bad Gateway: answer is not the Bot API's JSON: <html>"},
		{"not json", fakebot.Reply{Status: 200, Body: "ok", ContentType: "text/plain"}, "permanent", "not the Bot API's (is api_url right?)"},
		{"reset", fakebot.Reset, "retry", "POST http://127.0.0.1:"},
		{"hang", fakebot.Hang, "retry", "timed out"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bot := fakebot.Start(t, tgToken)
			ch := tgChannel(t, bot, nil)
			bot.Fail(c.reply)
			j := channels.Job{Channel: ch, Message: channels.Message{Bodies: map[channels.Format]string{channels.TelegramHTML: "<b>report</b>"}},
				Timeout: 500 * time.Millisecond, Attempts: 1}
			v := channels.Deliver(timeoutCtx(t, 10*time.Second), j)
			if got := verdict(v.Err); got != c.want {
				t.Errorf("error %v: %s, want %s", v.Err, got, c.want)
			}
			if v.Err == nil || !strings.HasPrefix(v.Err.Error(), `channel "tg": telegram sendMessage: `) || !strings.Contains(v.Err.Error(), c.text) {
				t.Errorf("error %q, want it to start with the channel and say %q", v.Err, c.text)
			}
			tgNoSecret(t, v.Err)
			if len(bot.Messages()) != 0 {
				t.Errorf("the bot recorded a message")
			}
		})
	}
}

func TestTelegramErrorsOfItsOwn(t *testing.T) {
	bot := fakebot.Start(t, tgToken)
	ctx := timeoutCtx(t, 10*time.Second)

	// Telegram refuses HTML outside its subset: final, with a hint.
	ch := tgChannel(t, bot, nil)
	err := ch.Send(ctx, "", "<p>paragraph</p>")
	if verdict(err) != "permanent" || !strings.Contains(err.Error(), `can't parse entities: Unsupported start tag "p" at byte offset 0 (the template made HTML`) {
		t.Errorf("invalid HTML: %v (%s)", err, verdict(err))
	}
	tgNoSecret(t, err)

	// A wrong token.
	other := tgChannel(t, bot, map[string]any{"token": "123456789:AAH-otherSecret_0123456789"})
	err = other.Send(ctx, "", "hello")
	if verdict(err) != "permanent" || !strings.Contains(err.Error(), "401") || strings.Contains(err.Error(), "otherSecret") {
		t.Errorf("wrong token: %v", err)
	}

	// A body over the limit is never sent.
	before := bot.Requests()
	err = ch.Send(ctx, "", strings.Repeat("😀", 2049))
	if verdict(err) != "permanent" || !strings.Contains(err.Error(), "4098 characters after entity parsing, over Telegram's limit of 4096") {
		t.Errorf("oversized body: %v", err)
	}
	if bot.Requests() != before {
		t.Errorf("an oversized body was sent")
	}

	// Nothing listens: retry, and the URL with its token is not shown.
	bot.Close()
	err = tgChannel(t, bot, nil).Send(ctx, "", "hello")
	if verdict(err) != "retry" || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("refused: %v (%s)", err, verdict(err))
	}
	tgNoSecret(t, err)
}

// TestTelegramResumesSplitReport: a split report is posted page by page. A
// page that fails is retried from that page on, within one Deliver; a
// Deliver that gives up says how many pages went out, and a later one given
// that count (as the next flush does, from its ledger) posts only the rest.
func TestTelegramResumesSplitReport(t *testing.T) {
	bot := fakebot.Start(t, tgToken)
	ch := tgChannel(t, bot, nil)
	m := channels.Message{Pages: []string{"<b>page</b> 1", "<b>page</b> 2", "<b>page</b> 3"}}
	m.Bodies = map[channels.Format]string{channels.TelegramHTML: m.Pages[0]}
	ctx := timeoutCtx(t, 20*time.Second)
	texts := func() []string {
		var out []string
		for _, msg := range bot.Messages() {
			out = append(out, msg.Text)
		}
		return out
	}

	// Flood control at page 2, one attempt: the error names the page and
	// when to retry; one page is out, and Sent was told so.
	bot.Fail(fakebot.Accept, fakebot.FloodWait(1))
	var told []int
	v := channels.Deliver(ctx, channels.Job{Channel: ch, Message: m, Sent: func(n int) { told = append(told, n) }})
	if verdict(v.Err) != "retry after 1s" || !strings.Contains(v.Err.Error(), "message 2 of 3: ") {
		t.Fatalf("error %v (%s)", v.Err, verdict(v.Err))
	}
	if v.Sent != 1 || !slices.Equal(told, []int{1}) {
		t.Fatalf("Sent %d, told %v; want 1 and [1]", v.Sent, told)
	}
	// A later Deliver from there posts pages 2 and 3 only.
	told = nil
	v = channels.Deliver(ctx, channels.Job{Channel: ch, Message: m, From: v.Sent, Sent: func(n int) { told = append(told, n) }})
	if v.Err != nil || v.Sent != 3 || !slices.Equal(told, []int{2, 3}) {
		t.Fatalf("resumed: err %v, Sent %d, told %v", v.Err, v.Sent, told)
	}
	if want := []string{"page 1", "page 2", "page 3"}; !slices.Equal(texts(), want) {
		t.Errorf("sent %q, want %q", texts(), want)
	}

	// Within one Deliver, a retry goes on at the failed page.
	bot.Fail(fakebot.Accept, fakebot.InternalError)
	v = channels.Deliver(ctx, channels.Job{Channel: ch, Message: m, Attempts: 2})
	if v.Err != nil || v.Attempts != 2 || v.Sent != 3 {
		t.Fatalf("retried: err %v, attempts %d, Sent %d", v.Err, v.Attempts, v.Sent)
	}
	if got := texts()[3:]; !slices.Equal(got, []string{"page 1", "page 2", "page 3"}) {
		t.Errorf("the retried report posted %q", got)
	}
	// A final error ends it at once: the pages after it are not posted.
	bot.Fail(fakebot.Accept, fakebot.ChatNotFound)
	v = channels.Deliver(ctx, channels.Job{Channel: ch, Message: m, Attempts: 3})
	if verdict(v.Err) != "permanent" || v.Attempts != 1 || v.Sent != 1 {
		t.Fatalf("final error: %v (%s), attempts %d, Sent %d", v.Err, verdict(v.Err), v.Attempts, v.Sent)
	}
	if n := len(bot.Messages()); n != 7 {
		t.Errorf("%d messages in all, want 7", n)
	}
}

func TestTelegramMeasure(t *testing.T) {
	bot := fakebot.Start(t, tgToken)
	ch := tgChannel(t, bot, nil)
	cases := []struct {
		body string
		want int
	}{
		{"", 0},
		{"plain", 5},
		{"<b>bold</b> <code>x</code>", 6},
		{"&lt;&gt;&amp;&quot;&#39;&#x27;&#43;", 7},
		{"😀", 2},          // outside the BMP: two UTF-16 code units
		{"&#128512;", 2},  // the same as an entity
		{"é€", 2},         // in the BMP: one each
		{"\U0001d41b", 2}, // mathematical bold b
		{"<pre><code class=\"language-go\">x</code></pre>", 1},
		{"<a href=\"https://example.org/\">x</a>", 1},
		{"line\nline", 9},
	}
	for _, c := range cases {
		if got := ch.Measure(c.body); got != c.want {
			t.Errorf("Measure(%q) = %d, want %d", c.body, got, c.want)
		}
		text, _, err := fakebot.ParseHTML(c.body)
		if err != nil {
			t.Errorf("fakebot refuses %q: %v", c.body, err)
		} else if n := fakebot.Length(text); n != c.want {
			t.Errorf("fakebot counts %q as %d, want %d", c.body, n, c.want)
		}
	}
	// Text Telegram would refuse is still measured: never less than what
	// it would show.
	for _, c := range []struct {
		body string
		want int
	}{{"a < b", 5}, {"a & b", 5}, {"<b>unclosed", 8}, {"&bogus;", 7}, {"bad\xffbyte", 8}} {
		if got := ch.Measure(c.body); got != c.want {
			t.Errorf("Measure(%q) = %d, want %d", c.body, got, c.want)
		}
	}
}

// TestTelegramSendsTheChart: the chart follows the report as a photo in the
// same chat and topic, silent if the report is, its bytes those of the PNG,
// its caption plain text with nothing active in it.
func TestTelegramSendsTheChart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change map[string]any
		fields []string
	}{
		{"topic, silent", map[string]any{"message_thread_id": 42, "disable_notification": true}, []string{"caption", "chat_id", "disable_notification", "message_thread_id"}},
		{"defaults", nil, []string{"caption", "chat_id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bot := fakebot.Start(t, tgToken, tgChat)
			ch := tgChannel(t, bot, tc.change)
			m := renderReport(t, ch, config.Channel{}, tgSampleDigest())
			if len(m.Attachments) != 1 || m.Attachments[0].Kind != channels.Chart {
				t.Fatalf("attachments %v, want the chart", m.Attachments)
			}
			chart := m.Attachments[0]
			v := channels.Deliver(timeoutCtx(t, 10*time.Second), channels.Job{Channel: ch, Message: m})
			if v.Err != nil || len(v.Warnings) != 0 {
				t.Fatalf("verdict %v, warnings %q", v.Err, v.Warnings)
			}
			msgs := tgCheckAccepted(t, bot, ch, m.Messages(channels.TelegramHTML))
			ups := bot.Uploads()
			if len(ups) != 1 {
				t.Fatalf("uploads %v, want the chart", tgUploadNames(ups))
			}
			u := ups[0]
			if u.Method != "sendPhoto" || u.Filename != "bans.png" || u.ContentType != "image/png" || !slices.Equal(u.Data, chart.Data) {
				t.Errorf("%s of %s (%s, %d bytes), want sendPhoto of the chart's %d bytes", u.Method, u.Filename, u.ContentType, len(u.Data), len(chart.Data))
			}
			if u.ID < msgs[0].ID {
				t.Errorf("the photo (id %d) came before the report (id %d)", u.ID, msgs[0].ID)
			}
			if u.ChatID != tgChat || u.ThreadID != msgs[0].ThreadID || u.DisableNotification != msgs[0].DisableNotification {
				t.Errorf("photo to chat %s thread %d silent %v; the report went to %s thread %d silent %v",
					u.ChatID, u.ThreadID, u.DisableNotification, msgs[0].ChatID, msgs[0].ThreadID, msgs[0].DisableNotification)
			}
			if u.Caption != chart.Caption || u.ParseMode != "" || !strings.HasPrefix(u.Caption, "Bans per ") {
				t.Errorf("caption %q with parse_mode %q, want %q as plain text", u.Caption, u.ParseMode, chart.Caption)
			}
			for _, e := range u.CaptionEntities {
				t.Errorf("the caption has a %s entity over %q", e.Type, e.Text)
			}
			var keys []string
			for k := range u.Fields {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if !slices.Equal(keys, tc.fields) {
				t.Errorf("parameters %v besides the photo, want %v", keys, tc.fields)
			}
		})
	}
}

// tgPNG is a PNG of w by h pixels.
func tgPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestTelegramAttachmentLimits: a chart the Bot API would not take as a
// photo goes as a document; a caption over 1024 characters is cut; a file
// over 50 MB is refused before any request, for good.
func TestTelegramAttachmentLimits(t *testing.T) {
	bot := fakebot.Start(t, tgToken)
	ch := tgChannel(t, bot, nil)
	ctx := timeoutCtx(t, 20*time.Second)
	long := strings.Repeat("é", 1000) + strings.Repeat("😀", 100)
	for _, tc := range []struct {
		name   string
		a      channels.Attachment
		method string
	}{
		{"photo", channels.Attachment{Kind: channels.Chart, Name: "bans.png", Type: "image/png", Data: tgPNG(t, 800, 360), Caption: long}, "sendPhoto"},
		{"sides 21 to 1", channels.Attachment{Kind: channels.Chart, Name: "bans.png", Type: "image/png", Data: tgPNG(t, 2100, 100)}, "sendDocument"},
		{"over 10000 pixels", channels.Attachment{Kind: channels.Chart, Name: "bans.png", Type: "image/png", Data: tgPNG(t, 6000, 4001)}, "sendDocument"},
		{"not a PNG", channels.Attachment{Kind: channels.Chart, Name: "bans.png", Type: "image/png", Data: []byte("GIF89a")}, "sendDocument"},
		{"list", channels.Attachment{Kind: channels.FullList, Name: "offenders.csv", Type: "text/csv; charset=utf-8", Data: []byte("ip\n")}, "sendDocument"},
	} {
		before := len(bot.Uploads())
		if err := ch.SendAttachment(ctx, tc.a); err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		ups := bot.Uploads()
		if len(ups) != before+1 {
			t.Errorf("%s: nothing uploaded", tc.name)
			continue
		}
		u := ups[len(ups)-1]
		if u.Method != tc.method || !slices.Equal(u.Data, tc.a.Data) || u.Filename != tc.a.Name || u.ContentType != tc.a.Type {
			t.Errorf("%s: %s of %s (%s), want %s of the attachment", tc.name, u.Method, u.Filename, u.ContentType, tc.method)
		}
		// 1000 é and 100 emoji, two UTF-16 code units each: 1023 with the
		// "…", as the next emoji would not fit.
		if tc.a.Caption != "" && (fakebot.Length(u.Caption) != 1023 || !strings.HasSuffix(u.Caption, "…") || !strings.HasPrefix(tc.a.Caption, strings.TrimSuffix(u.Caption, "…"))) {
			t.Errorf("%s: caption of %d, want the caption cut to 1023 with …", tc.name, fakebot.Length(u.Caption))
		}
	}
	if v := bot.Violations(); len(v) > 0 {
		t.Errorf("requests broke the Bot API's rules: %q", v)
	}
	requests := bot.Requests()
	for _, a := range []channels.Attachment{
		{Kind: channels.FullList, Name: "offenders.csv", Data: make([]byte, 50_000_001)},
		{Kind: channels.FullList, Name: "offenders.csv"},
	} {
		err := ch.SendAttachment(ctx, a)
		if verdict(err) != "permanent" || !strings.Contains(err.Error(), "telegram sendDocument: offenders.csv is ") {
			t.Errorf("a file of %d bytes: %v (%s), want a final error", len(a.Data), err, verdict(err))
		}
	}
	if bot.Requests() != requests {
		t.Errorf("a file the Bot API refuses was sent")
	}
}

// TestTelegramAttachmentFailures: the Bot API's answers to an upload get
// the verdicts of the report's: flood control waits retry_after and
// retries, a hang is retried after the timeout, a 400 is final; a chart
// that cannot be sent is a warning without the token, and the report stays
// delivered, posted once.
func TestTelegramAttachmentFailures(t *testing.T) {
	for _, tc := range []struct {
		name     string
		script   []fakebot.Reply // after the report's message
		photos   int
		requests int
		warning  string
		wait     time.Duration // at least
	}{
		{"flood control", []fakebot.Reply{fakebot.FloodWait(1)}, 1, 3, "", time.Second},
		{"hang, then accepted", []fakebot.Reply{fakebot.Hang}, 1, 3, "", 0},
		{"5xx, then accepted", []fakebot.Reply{fakebot.InternalError}, 1, 3, "", 0},
		{"400", []fakebot.Reply{{Status: 400, Description: "Bad Request: IMAGE_PROCESS_FAILED"}}, 0, 2,
			`channel "tg": the report was delivered, but not the attached bans.png: telegram sendPhoto: HTTP 400 Bad Request: IMAGE_PROCESS_FAILED`, 0},
		{"hangs every time", []fakebot.Reply{fakebot.Hang, fakebot.Hang, fakebot.Hang}, 0, 4,
			`channel "tg": the report was delivered, but not the attached bans.png: telegram sendPhoto: POST http://127.0.0.1:`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bot := fakebot.Start(t, tgToken)
			ch := tgChannel(t, bot, nil)
			bot.Fail(append([]fakebot.Reply{fakebot.Accept}, tc.script...)...)
			m := channels.Message{Bodies: map[channels.Format]string{channels.TelegramHTML: "<b>report</b>"},
				Attachments: []channels.Attachment{{Kind: channels.Chart, Name: "bans.png", Type: "image/png", Data: tgPNG(t, 800, 360), Caption: "Bans per hour"}}}
			start := time.Now()
			v := channels.Deliver(timeoutCtx(t, 20*time.Second), channels.Job{Channel: ch, Message: m, Attempts: 3, Timeout: 500 * time.Millisecond,
				Backoff: func(int) time.Duration { return 10 * time.Millisecond }, Redactor: channels.NewRedactor([]string{tgToken})})
			if v.Err != nil {
				t.Fatalf("verdict %v, want the report delivered", v.Err)
			}
			if n := len(bot.Messages()); n != 1 {
				t.Errorf("the report was posted %d times", n)
			}
			if n := len(bot.Uploads()); n != tc.photos || bot.Requests() != tc.requests {
				t.Errorf("%d photos in %d requests, want %d in %d", n, bot.Requests(), tc.photos, tc.requests)
			}
			if elapsed := time.Since(start); elapsed < tc.wait {
				t.Errorf("retried after %s, want retry_after's %s", elapsed, tc.wait)
			}
			switch {
			case tc.warning == "" && len(v.Warnings) != 0:
				t.Errorf("warnings %q, want none", v.Warnings)
			case tc.warning != "" && (len(v.Warnings) != 1 || !strings.HasPrefix(v.Warnings[0], tc.warning)):
				t.Errorf("warnings %q, want one starting %q", v.Warnings, tc.warning)
			}
			for _, w := range v.Warnings {
				tgNoSecret(t, errors.New(w))
			}
			if tc.name == "hangs every time" && !strings.Contains(strings.Join(v.Warnings, ""), "timed out after 500ms") {
				t.Errorf("the warning does not say the upload timed out: %q", v.Warnings)
			}
		})
	}
}

// TestTelegramSendsTheChartAfterEveryPage: the chart of a split report
// follows its last message, once.
func TestTelegramSendsTheChartAfterEveryPage(t *testing.T) {
	bot := fakebot.Start(t, tgToken)
	ch := tgChannel(t, bot, map[string]any{"max_messages": 100})
	b := report.NewBuilder(report.Options{Host: "web1.example.org", Generated: tgEnd})
	for i := range 400 {
		b.Add(&buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionBan, Jail: []string{"sshd", "postfix"}[i%2],
			IP: fmt.Sprintf("203.0.113.%d", i%250), Time: float64(tgEnd.Add(-time.Duration(i) * 9 * time.Minute).Unix()), At: tgEnd.Unix(),
			Failures: 5, Bantime: 600})
	}
	m := renderReport(t, ch, config.Channel{}, b.Digest())
	if len(m.Pages) < 2 || len(m.Attachments) != 1 || m.Attachments[0].Kind != channels.Chart {
		t.Fatalf("%d pages, attachments %v; want several pages and the chart", len(m.Pages), m.Attachments)
	}
	v := channels.Deliver(timeoutCtx(t, 30*time.Second), channels.Job{Channel: ch, Message: m})
	if v.Err != nil || len(v.Warnings) != 0 {
		t.Fatalf("verdict %v, warnings %q", v.Err, v.Warnings)
	}
	msgs := tgCheckAccepted(t, bot, ch, m.Pages)
	ups := bot.Uploads()
	if len(ups) != 1 || ups[0].Method != "sendPhoto" || !slices.Equal(ups[0].Data, m.Attachments[0].Data) {
		t.Fatalf("uploads %v, want the chart once", tgUploadNames(ups))
	}
	if last := msgs[len(msgs)-1].ID; ups[0].ID < last {
		t.Errorf("the chart (id %d) came before the last of %d messages (id %d)", ups[0].ID, len(msgs), last)
	}
}
