//go:build integration

package reliability

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/internal/fakebot"
)

const attachToken = "123456:ATTACHTOKENATTACHTOKENATTACH"

// TestTelegramAttachmentFaults: a report to Telegram (fake Bot API, cut to
// one message, so that the chart and offenders.csv follow it) whose
// attachments fail after the report went out: a 400 for the chart and flood
// control for the list; then a chart that hangs past the timeout on every
// attempt. Each flush exits 0 and confirms its bans (the report was
// delivered, and is not posted again); each lost attachment is one warning
// on stderr, without the token; the list waits retry_after and arrives with
// every offender.
func TestTelegramAttachmentFaults(t *testing.T) {
	bot := fakebot.Start(t, attachToken)
	s := newSite(t, siteOptions{channels: fmt.Sprintf(`  chat:
    type: telegram
    token: %q
    chat_id: "-1001234567890"
    api_url: %s
    oversize: cut
    retries: 1
    timeout: 2s
`, attachToken, bot.URL())})
	tried, lost, leaked := 0, 0, 0
	// banSome stores n bans, one a minute back from now, so that the
	// report's period holds a chart.
	banSome := func(n int) {
		now := time.Now()
		for i := range n {
			at := now.Add(-time.Duration(i) * time.Minute)
			r := &buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionBan, Jail: "sshd", IP: ipN(0x20000 + tried), Failures: 3,
				Time: float64(at.Unix()), At: now.Unix()}
			if err := buffer.New(s.buf, false).Append(r); err != nil {
				t.Fatal(err)
			}
			tried++
		}
	}
	// flush runs one flush and checks what every one of them must do.
	flush := func(when string, warnings ...string) result {
		t.Helper()
		before := len(bot.Messages())
		r := s.cmd("flush")
		if r.Code != 0 {
			t.Fatalf("%s: flush: %v", when, r)
		}
		t.Logf("%s: flush exit 0 after %s; stderr: %s", when, r.Elapsed.Round(10*time.Millisecond), strings.TrimSpace(r.Err))
		if strings.Contains(r.Out+r.Err, attachToken[strings.IndexByte(attachToken, ':')+1:]) {
			leaked++
			t.Errorf("%s: the output shows the token: %v", when, r)
		}
		if n := len(bot.Messages()) - before; n != 1 {
			t.Errorf("%s: the report was posted %d times", when, n)
		}
		var got []string
		for _, line := range strings.Split(r.Err, "\n") {
			if strings.HasPrefix(line, "f2b-notify: warning: ") {
				got = append(got, line)
			}
		}
		if len(got) != len(warnings) {
			t.Errorf("%s: warnings %q, want %d", when, got, len(warnings))
		}
		for i := range min(len(got), len(warnings)) {
			if !strings.HasPrefix(got[i], warnings[i]) {
				t.Errorf("%s: warning %q, want it to start %q", when, got[i], warnings[i])
			}
		}
		if recs, _ := s.records(); len(recs) != 0 {
			lost += len(recs)
			t.Errorf("%s: %d records are still pending or spooled: the bans were not confirmed", when, len(recs))
		}
		if v := bot.Violations(); len(v) > 0 {
			t.Fatalf("%s: requests that break the Bot API's rules: %q", when, v)
		}
		return r
	}

	// 1. A 400 for the chart, flood control for the list.
	banSome(300)
	bot.Fail(fakebot.Accept, fakebot.Reply{Status: 400, Description: "Bad Request: IMAGE_PROCESS_FAILED"}, fakebot.FloodWait(1))
	start := time.Now()
	flush("a 400 for the chart",
		`f2b-notify: warning: channel "chat": the report was delivered, but not the attached bans.png: telegram sendPhoto: HTTP 400 Bad Request: IMAGE_PROCESS_FAILED`)
	took := time.Since(start)
	ups := bot.Uploads()
	if len(ups) != 1 || ups[0].Method != "sendDocument" || ups[0].Filename != "offenders.csv" {
		t.Fatalf("uploads %d, want offenders.csv alone", len(ups))
	}
	if rows := strings.Count(string(ups[0].Data), "\n") - 1; rows != 300 {
		lost += 300 - rows
		t.Errorf("offenders.csv lists %d offenders, want 300", rows)
	}
	if took < time.Second {
		t.Errorf("the flush took %s: the list was not retried after retry_after (1 s)", took)
	}
	if m := bot.Messages()[0]; !strings.Contains(m.Text, "(all listed in the attached offenders.csv)") {
		t.Errorf("the cut report does not name the attached list")
	}

	// 2. The chart hangs past the 2 s timeout on both attempts.
	banSome(5)
	requests := bot.Requests()
	bot.Fail(fakebot.Accept, fakebot.Hang, fakebot.Hang)
	start = time.Now()
	flush("a chart that hangs",
		`f2b-notify: warning: channel "chat": the report was delivered, but not the attached bans.png: telegram sendPhoto: POST http://127.0.0.1:`)
	hung := time.Since(start)
	if n := bot.Requests() - requests; n != 3 {
		t.Errorf("%d requests, want the report and two attempts at the chart", n)
	}
	if len(bot.Uploads()) != 1 {
		t.Errorf("a chart that hung was recorded")
	}

	// 3. Nothing new: the next flush sends nothing.
	before := bot.Requests()
	if r := s.cmd("flush"); r.Code != 0 || bot.Requests() != before {
		t.Errorf("a flush with nothing new: %v, %d requests", r, bot.Requests()-before)
	}
	figures(t, "telegram-attachment-faults", tried, lost, 0, leaked,
		fmt.Sprintf("flush_with_retry_after=%s", took.Round(10*time.Millisecond)), fmt.Sprintf("flush_with_hangs=%s", hung.Round(10*time.Millisecond)))
}

// formFields reads a multipart/form-data body, such as a chat platform's
// upload of an attachment, and returns its fields as JSON: the JSON of a
// payload_json field as it is, else an object of the fields. File parts
// are left out. ok is false when body is not such a form.
func formFields(t testing.TB, body []byte) (_ []byte, ok bool) {
	t.Helper()
	first, _, _ := bytes.Cut(body, []byte("\r\n"))
	boundary, ok := bytes.CutPrefix(first, []byte("--"))
	if !ok || len(boundary) == 0 {
		return nil, false
	}
	mr := multipart.NewReader(bytes.NewReader(body), string(boundary))
	fields := map[string]string{}
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Errorf("a multipart/form-data body that does not parse: %v", err)
			return nil, false
		}
		data, err := io.ReadAll(p)
		if err != nil {
			t.Errorf("a multipart/form-data body that does not parse: %v", err)
			return nil, false
		}
		switch {
		case p.FileName() != "":
		case p.FormName() == "payload_json":
			return data, true
		default:
			fields[p.FormName()] = string(data)
		}
	}
	b, err := json.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	return b, true
}

// TestKilledWhileTheChartGoes: a flush posts its report to Telegram (fake
// Bot API), then hangs on the chart and is killed (SIGKILL, as a reboot or
// a systemd timeout would). The report was delivered: the ledger says so
// before the chart goes, so the next flush does not post it again and
// sends nothing, the bans confirmed.
func TestKilledWhileTheChartGoes(t *testing.T) {
	bot := fakebot.Start(t, attachToken)
	s := newSite(t, siteOptions{channels: fmt.Sprintf(`  chat:
    type: telegram
    token: %q
    chat_id: "-1001234567890"
    api_url: %s
    oversize: cut
    retries: 0
    timeout: 1m
`, attachToken, bot.URL())})
	const rounds = 5
	tried, duplicated, lost := 0, 0, 0
	for round := range rounds {
		now := time.Now()
		for i := range 20 {
			r := &buffer.Record{V: buffer.SchemaVersion, Action: buffer.ActionBan, Jail: "sshd", IP: ipN(0x30000 + tried), Failures: 3,
				Time: float64(now.Add(-time.Duration(i) * time.Minute).Unix()), At: now.Unix()}
			if err := buffer.New(s.buf, false).Append(r); err != nil {
				t.Fatal(err)
			}
			tried++
		}
		before, requests := len(bot.Messages()), bot.Requests()
		bot.Fail(fakebot.Accept, fakebot.Hang) // the report, then the chart hangs
		f := background(t, proc{argv: []string{binary, "--config", s.cfg, "flush"}})
		deadline := time.Now().Add(30 * time.Second)
		for bot.Requests() < requests+2 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if bot.Requests() < requests+2 {
			t.Fatalf("round %d: the flush did not reach the chart: %d requests", round, bot.Requests()-requests)
		}
		// The chart's request has reached the server, which holds it: the
		// flush waits for its answer when it is killed.
		_ = syscall.Kill(-f.cmd.Process.Pid, syscall.SIGKILL)
		f.wait(t, 10*time.Second)

		r := s.cmd("flush")
		if r.Code != 0 {
			t.Fatalf("round %d: the flush after the kill: %v", round, r)
		}
		if n := len(bot.Messages()) - before; n != 1 {
			duplicated += n - 1
			t.Errorf("round %d: the report was posted %d times", round, n)
		}
		if recs, _ := s.records(); len(recs) != 0 {
			lost += len(recs)
			t.Errorf("round %d: %d records still pending or spooled after the flush that followed the kill", round, len(recs))
		}
	}
	figures(t, "killed-while-the-chart-goes", tried, lost, duplicated, 0, fmt.Sprintf("kills=%d", rounds))
}
