//go:build integration

package reliability

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// remoteEscapes is what a hostile or broken server or program answers: a
// terminal title change and a screen clear (OSC and CSI), colour, a C1
// CSI, a bidi override, a NUL and a line break.
const remoteEscapes = "\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x1b[0m \u009b31m \u202eevil\u202c \x00nul\nsecond line"

// TestRemoteErrorTextIsNeutralised makes every channel fail with an answer
// full of terminal escapes: a webhook answering 400 with them raw, every
// chat kind answering 400 with them in the JSON reason it reads (Telegram's
// description, Matrix's error, Discord's message, ...), and a sendmail that
// writes them to its standard error and exits 1. The output of flush, test
// and status, the ledger (as bytes and as the JSON strings it decodes to)
// and the detached flush's log must hold no ESC, C0, C1 or bidi character,
// and still show the escapes in their visible form.
func TestRemoteErrorTextIsNeutralised(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/raw") {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, remoteEscapes)
			return
		}
		// Every field a platform's error may be read from.
		body, _ := json.Marshal(map[string]any{
			"ok": false, "error_code": 400, "description": remoteEscapes, // Telegram
			"errcode": "M_FORBIDDEN", "error": remoteEscapes, // Matrix, Slack, ntfy
			"message": remoteEscapes, "code": 50027, // Discord
		})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")

	dir := t.TempDir()
	sendmail := filepath.Join(dir, "sendmail")
	script := "#!/bin/sh\nprintf '" + strings.NewReplacer("\x1b", `\033`, "\x07", `\007`, "\x00", `\000`, "\n", `\n`, "%", "%%").Replace(remoteEscapes) + "' >&2\nexit 1\n"
	if err := os.WriteFile(sendmail, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	chats := chatChannels(addr, false)
	s := newSite(t, siteOptions{channels: fmt.Sprintf(`  hook:
    type: webhook
    url: http://%s/raw/hook
    retries: 0
  mail:
    type: sendmail
    sendmail: %s
    from: f2b@localhost
    to: [root@localhost]
    retries: 0
%s`, addr, sendmail, chats)})
	names := []string{"hook", "mail"}
	for _, line := range strings.Split(chats, "\n") {
		if n, ok := strings.CutSuffix(strings.TrimSpace(line), ":"); ok && strings.HasPrefix(n, "chat-") {
			names = append(names, n)
		}
	}
	s.appendBan("sshd", ipN(1), 3)

	tried, leaked := 0, 0
	check := func(what, text string) {
		t.Helper()
		tried++
		if bad := badRunes(text); len(bad) > 0 {
			leaked++
			t.Errorf("%s holds %v:\n%q", what, bad, text)
		}
	}
	for _, args := range [][]string{{"flush"}, {"test"}, {"status"}} {
		r := s.cmd(args...)
		check(fmt.Sprint(args, " stdout"), r.Out)
		check(fmt.Sprint(args, " stderr"), r.Err)
		if args[0] == "status" {
			continue
		}
		if r.Code != 1 {
			t.Errorf("%v: want exit 1 with every channel failing: %v", args, r)
		}
		said := r.Out // test says each channel's fate on stdout, flush its failures on stderr
		if args[0] == "flush" {
			said = r.Err
		}
		for _, n := range names {
			if !strings.Contains(said, n+" ") && !strings.Contains(said, n+":") {
				t.Errorf("%v does not report channel %s:\n%s", args, n, said)
			}
		}
	}
	// A detached flush, as the ban path starts it when the flag is set.
	check("last-flush.log", s.failedDetachedFlush(ipN(2)))

	raw := readFile(t, filepath.Join(s.buf, "ledger.json"))
	check("ledger.json", raw)
	for _, n := range names {
		st := s.ledger().Channels[n]
		if st == nil || st.LastError == "" {
			t.Errorf("ledger: no last_error for %s", n)
			continue
		}
		check("ledger last_error of "+n, st.LastError) // as decoded: JSON escapes undone
	}
	// What came back raw is kept, made visible: a reader still sees it.
	for _, n := range []string{"hook", "mail"} {
		if e := s.ledger().Channels[n].LastError; !strings.Contains(e, `\x1b]0;pwned\x07\x1b[2J`) || !strings.Contains(e, "<U+202E>evil") {
			t.Errorf("last_error of %s does not show the escapes in visible form: %q", n, e)
		}
	}
	// Errors made: each channel fails in flush, test and the detached flush.
	figures(t, "remote-error-text", tried, 0, 0, leaked, fmt.Sprintf("channels=%d", len(names)), fmt.Sprintf("errors=%d", 3*len(names)))
}
