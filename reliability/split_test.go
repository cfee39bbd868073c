//go:build integration

package reliability

import (
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/internal/fakebot"
)

const splitToken = "123456:SPLITTOKENSPLITTOKENSPLITTOKEN"

// tgOffender matches an offender line of the default Telegram report, as
// the Bot API shows it once the HTML entities are parsed.
var tgOffender = regexp.MustCompile(`(?m)^• (\S+) \d+ bans?, `)

// splitSite is a site whose only channel is a Telegram chat that splits
// large reports, against a fake Bot API, with no retries: a failed message
// ends the flush.
func splitSite(t *testing.T) (*site, *fakebot.Server) {
	bot := fakebot.Start(t, splitToken)
	s := newSite(t, siteOptions{channels: fmt.Sprintf(`  chat:
    type: telegram
    token: %q
    chat_id: "-1001234567890"
    api_url: %s
    oversize: split
    max_messages: 100
    retries: 0
`, splitToken, bot.URL())})
	return s, bot
}

// delivered counts, per address, the offender lines of every message the
// chat received.
func delivered(bot *fakebot.Server) map[string]int {
	seen := map[string]int{}
	for _, m := range bot.Messages() {
		for _, row := range tgOffender.FindAllStringSubmatch(m.Text, -1) {
			seen[row[1]]++
		}
	}
	return seen
}

// TestSplitReportCutOff: a report split over many Telegram messages whose
// sending stops part way, by an error or by kill -9 while a message is on
// the wire. The next flush sends only the rest. No ban is lost; a ban is
// sent twice only when the kill fell between the post of its message and
// its record, and then only that message's bans.
func TestSplitReportCutOff(t *testing.T) {
	s, bot := splitSite(t)
	next, tried, lost, dup := 0, 0, 0, 0
	var banned []string
	banSome := func(n int) {
		for range n {
			ip := ipN(0x10000 + next)
			next++
			s.appendBan("sshd", ip, 2)
			banned = append(banned, ip)
		}
		tried += n
	}
	// Addresses whose message was posted when a kill came, before its record.
	allowed := map[string]bool{}
	// check: every ban delivered, and only the addresses in allowed twice.
	check := func(when string) {
		t.Helper()
		seen := delivered(bot)
		for _, ip := range banned {
			switch n := seen[ip]; {
			case n == 0:
				lost++
				t.Errorf("%s: %s never reached the chat", when, ip)
			case n > 2 || n == 2 && !allowed[ip]:
				t.Errorf("%s: %s reached the chat %d times", when, ip, n)
			}
		}
		if v := bot.Violations(); len(v) > 0 {
			t.Fatalf("%s: requests that break the Bot API's rules: %q", when, v)
		}
	}

	// 1. Message 3 fails: two are out, the flush fails, and says so.
	banSome(300)
	bot.Fail(fakebot.Accept, fakebot.Accept, fakebot.InternalError)
	r := s.cmd("flush")
	if r.Code != 1 || !regexpMatch(`(?m)^chat: FAILED: channel "chat": message 3 of (\d+): `, r.Err) {
		t.Fatalf("flush with message 3 failing: %v", r)
	}
	total := len(s.ledger().Channel("chat").Partial.Pages)
	if total < 5 {
		t.Fatalf("the report of 300 offenders took %d messages; the scenario needs more", total)
	}
	if r := s.cmd("status"); !strings.Contains(r.Out, fmt.Sprintf("a split report cut off after message 2 of %d", total)) {
		t.Errorf("status does not show the cut report: %v", r)
	}
	if r := s.cmd("preview"); !strings.Contains(r.Out, fmt.Sprintf("rest of an earlier report, message 3 of %d", total)) ||
		strings.Contains(r.Out, "message 2 of") {
		t.Errorf("preview does not show the rest first: %.2000s", r.Out)
	}
	// The next flush sends messages 3 to the end, and nothing else.
	r = s.cmd("flush", "-v")
	if r.Code != 0 || !strings.Contains(r.Out, fmt.Sprintf("chat: sent the last %d messages of a report an earlier flush left half sent", total-2)) {
		t.Fatalf("flush after the failure: %v", r)
	}
	if n := len(bot.Messages()); n != total {
		t.Errorf("%d messages for a report of %d", n, total)
	}
	check("after an error at message 3")

	// 2. kill -9 while message k is on the wire: posted or not, the ledger
	// says k-1 were delivered.
	kills := 0
	for _, k := range []int{1, 2, 4} {
		for _, posted := range []bool{false, true} {
			banSome(300)
			before := len(bot.Messages())
			script := make([]fakebot.Reply, k)
			for i := range k - 1 {
				script[i] = fakebot.Accept
			}
			script[k-1] = fakebot.Hang
			if posted {
				script[k-1] = fakebot.Reply{LoseAnswer: true}
			}
			bot.Fail(script...)
			reqs := bot.Requests()
			f := background(t, proc{argv: []string{binary, "--config", s.cfg, "flush"}})
			waitFor(t, 20*time.Second, fmt.Sprintf("message %d to reach the fake API", k), func() bool {
				return bot.Requests() >= reqs+k
			})
			time.Sleep(50 * time.Millisecond) // the message is on the wire; its record is not written
			_ = syscall.Kill(-f.cmd.Process.Pid, syscall.SIGKILL)
			f.wait(t, 10*time.Second)
			kills++
			when := fmt.Sprintf("kill at message %d (posted: %v)", k, posted)
			if msgs := bot.Messages(); posted {
				if len(msgs) != before+k {
					t.Fatalf("%s: %d messages, want %d", when, len(msgs)-before, k)
				}
				for _, row := range tgOffender.FindAllStringSubmatch(msgs[len(msgs)-1].Text, -1) {
					allowed[row[1]] = true
				}
			}
			if p := s.ledger().Channel("chat").Partial; k > 1 && (p == nil || p.Sent != k-1) {
				t.Fatalf("%s: ledger %+v, want %d messages delivered", when, p, k-1)
			}
			r := s.cmd("flush")
			if r.Code != 0 {
				t.Fatalf("%s: next flush: %v", when, r)
			}
			check(when)
		}
	}
	for ip, n := range delivered(bot) {
		if n > 1 {
			dup++
			if !allowed[ip] {
				t.Errorf("%s was sent twice though no kill came between its post and its record", ip)
			}
		}
	}
	figures(t, "split-report-cut-off", tried, lost, dup, 0, fmt.Sprintf("errors=1 kills=%d", kills),
		fmt.Sprintf("messages_per_report=%d", total))
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }
