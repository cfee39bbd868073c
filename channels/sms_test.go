package channels_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/report"
)

func newSMSChannel(t *testing.T) channels.Channel {
	t.Helper()
	return newTestChannel(t, "textmagic", map[string]any{"username": "u", "api_key": "k", "phones": []any{"+447700900123"}})
}

// TestSMSMeasure: a channel of an SMS kind counts what one SMS holds: 160
// GSM 03.38 characters (the extension table's count 2), or 70 UTF-16 units
// once another character is in it.
func TestSMSMeasure(t *testing.T) {
	ch := newSMSChannel(t)
	for _, c := range []struct {
		body string
		want int
	}{
		{"f2b host: 3 bans", 16},
		{"a\nb", 3},
		{"€ [x] ^~|\\{}", 21}, // extension characters count 2
		{"ÄÖÑÜäöñüàèéùìòÇØøÅåÆæßÉ£¥§¿¡", 28}, // GSM letters, though not ASCII
		{"ï", 3},                       // not one: 1 unit of 70
		{strings.Repeat("й", 70), 160}, // 70 units fill it
		{strings.Repeat("й", 71), 163}, // one unit over
		{"f2b host…", 21},              // 9 units: "…" is not GSM
		{"😀", 5},                       // 2 units
	} {
		if got := measureBody(ch, c.body); got != c.want {
			t.Errorf("Measure(%q) = %d, want %d", c.body, got, c.want)
		}
	}
	if ch.Limit() != 160 {
		t.Errorf("limit %d, want 160", ch.Limit())
	}
}

// smsDigest is a digest of n offenders on host, the first with the most bans.
func smsDigest(host string, n int) *report.Digest {
	b := report.NewBuilder(report.Options{Host: host, Generated: digestEnd})
	for i := range n {
		ip := fmt.Sprintf("203.0.113.%d", i+1)
		if i%3 == 1 {
			ip = fmt.Sprintf("2001:db8:4::%x", i+1)
		}
		for k := range max(1, 6-i) {
			b.Add(&buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionBan, Jail: "sshd", IP: ip,
				Time: float64(digestEnd.Add(-time.Duration(i*10+k) * time.Minute).Unix()), At: digestEnd.Unix(), Failures: 5})
		}
	}
	return b.Digest()
}

// TestSMSSummaryIsOneMessage: what an SMS channel sends is the summary of
// the sms template, host, totals and the busiest offenders, as many as fit
// in one SMS, the rest counted; in 70 units once the host has a character
// outside the GSM alphabet.
func TestSMSSummaryIsOneMessage(t *testing.T) {
	ch := newSMSChannel(t)
	small := renderReport(t, ch, config.Channel{}, smsDigest("web1.example.org", 2)).Bodies[channels.SMSFormat]
	if want := "f2b web1.example.org: 11 bans/2 IPs; top 203.0.113.1 (6), 2001:db8:4::2 (5)"; small != want {
		t.Errorf("summary %q, want %q", small, want)
	}
	body := renderReport(t, ch, config.Channel{}, smsDigest("web1.example.org", 40)).Bodies[channels.SMSFormat]
	m := regexp.MustCompile(`^f2b web1\.example\.org: 55 bans/40 IPs; top 203\.0\.113\.1 \(6\), 2001:db8:4::2 \(5\), .* \+(\d+) more$`).FindStringSubmatch(body)
	if m == nil || measureBody(ch, body) > 160 || measureBody(ch, body) < 140 {
		t.Errorf("summary of 40 offenders %q (%d of 160), want the busiest that fit and the rest counted", body, measureBody(ch, body))
	} else if shown := strings.Count(body, "("); fmt.Sprint(40-shown) != m[1] {
		t.Errorf("summary shows %d offenders and says %s more, want %d", shown, m[1], 40-shown)
	}
	wide := renderReport(t, ch, config.Channel{}, smsDigest("сервер.example.org", 40)).Bodies[channels.SMSFormat]
	if units := len(utf16.Encode([]rune(wide))); units > 70 || !strings.HasPrefix(wide, "f2b сервер.example.org: 55 bans/40 IPs; top 203.0.113.1 (6)") {
		t.Errorf("summary with a Cyrillic host %q: %d UTF-16 units, want at most 70", wide, units)
	}
	empty := renderReport(t, ch, config.Channel{}, smsDigest("web1.example.org", 0)).Bodies[channels.SMSFormat]
	if empty != "f2b web1.example.org: no bans" {
		t.Errorf("summary of no bans %q", empty)
	}
}
