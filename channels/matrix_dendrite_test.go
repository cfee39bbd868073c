//go:build integration

package channels_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/flush"
	"github.com/f2b-notify/f2b-notify/internal/dendritetest"
	"github.com/f2b-notify/f2b-notify/render"
)

// mxRoomMessages returns the contents of the m.room.message events of a room
// on the real server, oldest first, once the server shows all that were sent
// before: Dendrite answers a send before its timeline has the event, so
// this posts a marker message with the client API and waits until the
// marker is read back; the timeline is in order, so whatever was sent before
// it is there too. The markers are left out.
func mxRoomMessages(t *testing.T, hs *dendritetest.Server, token, room string) []mxContent {
	t.Helper()
	mxMarkers++
	marker := fmt.Sprintf("marker %d", mxMarkers)
	hs.Send(t, token, room, marker)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var out []mxContent
		found := false
		for _, ev := range hs.Messages(t, token, room) {
			if ev.Type != "m.room.message" {
				continue
			}
			var c mxContent
			if err := json.Unmarshal(ev.Content, &c); err != nil {
				t.Fatalf("event %s: %v", ev.EventID, err)
			}
			if strings.HasPrefix(c.Body, "marker ") {
				found = found || c.Body == marker
				continue
			}
			out = append(out, c)
		}
		if found {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("the homeserver did not show the message %q within 20s", marker)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mxMarkers counts the marker messages of mxRoomMessages.
var mxMarkers int

// TestMatrixDendrite sends reports to a room of a real homeserver (Dendrite
// on 127.0.0.1, built by internal/dendritetest) and reads them back.
func TestMatrixDendrite(t *testing.T) {
	hs := dendritetest.Start(t)
	token := hs.Register(t, "f2b-bot")
	room := hs.CreateRoom(t, token)
	tokenFile := filepath.Join(t.TempDir(), "matrix-token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	newChannel := func(t *testing.T, room string) *channels.Matrix {
		t.Helper()
		ch, err := channels.New("ops-room", "matrix", map[string]any{
			"homeserver": hs.URL(), "access_token_file": tokenFile, "room": room,
		})
		if err != nil {
			t.Fatal(err)
		}
		return ch.(*channels.Matrix)
	}
	ch := newChannel(t, room)
	seen := 0 // messages in the room so far

	t.Run("hostile report, sent twice, posted once", func(t *testing.T) {
		d, corpus := mxHostileDigest()
		m := renderReport(t, ch, config.Channel{}, d)
		for try := range 2 { // a retry of the same report
			if err := ch.SendMessage(timeoutCtx(t, 30*time.Second), m); err != nil {
				t.Fatalf("send %d: %v", try+1, err)
			}
		}
		msgs := mxRoomMessages(t, hs, token, room)
		if len(msgs) != seen+1 {
			t.Fatalf("%d messages in the room, want %d: the retry was posted again", len(msgs), seen+1)
		}
		seen = len(msgs)
		ev := msgs[len(msgs)-1]
		if ev.MsgType != "m.notice" || ev.Format != "org.matrix.custom.html" {
			t.Errorf("msgtype %q, format %q", ev.MsgType, ev.Format)
		}
		if want := "<h4>" + html.EscapeString(m.Subject) + "</h4>\n" + m.Bodies[channels.MatrixFormat]; ev.FormattedBody != want {
			t.Errorf("formatted_body read back differs from the one sent")
		}
		if want := m.Subject + "\n\n" + strings.TrimRight(m.Bodies[channels.Text], "\n"); ev.Body != want {
			t.Errorf("body read back differs from the one sent")
		}
		if !strings.HasPrefix(ev.Body, "[Fail2Ban] ") || !strings.HasPrefix(ev.FormattedBody, "<h4>[Fail2Ban] ") {
			t.Errorf("the subject does not head both bodies")
		}
		mxCheckHostile(t, ev, corpus)
	})

	t.Run("5000 offenders fit in one event", func(t *testing.T) {
		m := renderReport(t, ch, config.Channel{}, mxBigDigest(5000))
		if err := ch.SendMessage(timeoutCtx(t, 30*time.Second), m); err != nil {
			t.Fatal(err)
		}
		msgs := mxRoomMessages(t, hs, token, room)
		if len(msgs) != seen+1 {
			t.Fatalf("%d messages in the room, want %d", len(msgs), seen+1)
		}
		seen = len(msgs)
		ev := msgs[len(msgs)-1]
		mxCheckLarge(t, ev, m)
		content, _ := channels.JSON(ev)
		t.Logf("content read back: %d bytes of JSON (formatted_body %d, body %d)", len(content), len(ev.FormattedBody), len(ev.Body))
	})

	t.Run("the homeserver refuses an event over its size limit", func(t *testing.T) {
		// Not vacuous: the limit the channel keeps under is real. A raw
		// request of 70,000 bytes is refused; the channel refuses to send
		// such a body at all.
		body, _ := json.Marshal(map[string]any{"msgtype": "m.notice", "body": strings.Repeat("x", 70000)})
		req, _ := http.NewRequestWithContext(timeoutCtx(t, 30*time.Second), http.MethodPut,
			hs.URL()+"/_matrix/client/v3/rooms/"+dendritetest.PathEscape(room)+"/send/m.room.message/too-big", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("HTTP %d for a 70,000-byte event, want 413", resp.StatusCode)
		}
		err = ch.Send(timeoutCtx(t, 30*time.Second), "big", "<p>"+strings.Repeat("x", 70000)+"</p>")
		if !channels.IsPermanent(err) {
			t.Errorf("channel: %v, want a final error", err)
		}
	})

	t.Run("alias", func(t *testing.T) {
		hs.AddAlias(t, token, "#fail2ban:"+dendritetest.ServerName, room)
		ach := newChannel(t, "#fail2ban:"+dendritetest.ServerName)
		if err := ach.Send(timeoutCtx(t, 30*time.Second), "Alias test", "<p>sent through the alias</p>"); err != nil {
			t.Fatal(err)
		}
		msgs := mxRoomMessages(t, hs, token, room)
		if len(msgs) != seen+1 || msgs[len(msgs)-1].Body != "Alias test\n\nsent through the alias" {
			t.Fatalf("the message sent through the alias is not in the room (%d messages)", len(msgs))
		}
		seen = len(msgs)
		bad := newChannel(t, "#nowhere:"+dendritetest.ServerName)
		err := bad.Send(timeoutCtx(t, 30*time.Second), "x", "<p>x</p>")
		if !channels.IsPermanent(err) || !strings.Contains(err.Error(), "#nowhere:localhost") {
			t.Errorf("unknown alias: %v, want a final error naming it", err)
		}
		mxNoSecret(t, token, err)
	})

	t.Run("wrong token", func(t *testing.T) {
		wrong := "syt_" + strings.Repeat("Wr0ng", 8)
		ch, err := channels.New("ops-room", "matrix", map[string]any{"homeserver": hs.URL(), "access_token": wrong, "room": room})
		if err != nil {
			t.Fatal(err)
		}
		v := channels.Deliver(timeoutCtx(t, 30*time.Second), channels.Job{Channel: ch, Message: renderReport(t, ch, config.Channel{}, mxSampleDigest()), Attempts: 3})
		t.Logf("error: %v", v.Err)
		if v.Err == nil || v.Attempts != 1 || !strings.Contains(v.Err.Error(), "M_UNKNOWN_TOKEN") {
			t.Errorf("verdict %+v, want one final attempt with M_UNKNOWN_TOKEN", v)
		}
		mxNoSecret(t, wrong, v.Err)
		if n := len(mxRoomMessages(t, hs, token, room)); n != seen {
			t.Errorf("%d messages in the room, want %d", n, seen)
		}
	})

	t.Run("flush", func(t *testing.T) {
		// The whole way: bans in the buffer, a flush with the channel from
		// the configuration, the report in the room, the spool emptied.
		cfg, targets := mxFlushConfig(t, hs, tokenFile, room)
		buf := buffer.New(cfg.Buffer.Dir, true)
		for _, r := range []*buffer.Record{
			{V: 1, Action: "ban", Jail: "sshd", IP: "203.0.113.9", Time: 1795628212, Failures: 5, User: "<b>@room</b>", Matches: []string{"sshd[1]: Invalid user <b>@room</b> https://evil.example/"}},
			{V: 1, Action: "ban", Jail: "postfix-sasl", IP: "2001:db8::42", Time: 1795628300, Failures: 3, User: "info"},
		} {
			if err := buf.Append(r); err != nil {
				t.Fatal(err)
			}
		}
		res, err := flush.Run(timeoutCtx(t, 60*time.Second), cfg, targets, flush.Options{})
		if err != nil || len(res.Failed()) != 0 {
			t.Fatalf("flush: %v %+v", err, res)
		}
		msgs := mxRoomMessages(t, hs, token, room)
		if len(msgs) != seen+2 {
			t.Fatalf("%d messages in the room, want %d: the report and its chart", len(msgs), seen+2)
		}
		ev, chart := msgs[seen], msgs[seen+1]
		seen = len(msgs)
		if chart.MsgType != "m.image" || chart.FileName != "bans.png" || !strings.HasPrefix(chart.Body, "Bans per minute and jail, ") {
			t.Errorf("after the report: msgtype %q, filename %q, body %q; want the chart", chart.MsgType, chart.FileName, chart.Body)
		}
		for _, want := range []string{"vm.example.org", "203.0.113.9", "2001:db8::42", "<b>@room</b>"} {
			if !strings.Contains(ev.Body, want) {
				t.Errorf("body lacks %q", want)
			}
		}
		if !strings.Contains(ev.FormattedBody, "<code>&lt;b&gt;@room&lt;/b&gt;</code>") {
			t.Errorf("formatted_body does not show the hostile user name escaped in code")
		}
		mxCheckMarkup(t, ev.FormattedBody)
		if b, _ := buf.Batches(); len(b) != 0 {
			t.Errorf("spool not empty after delivery: %v", b)
		}
	})

	t.Run("flush with the chart and the full list", func(t *testing.T) {
		// 2,000 bans over two hours: the report is cut to fit, so the
		// chart and the list of every offender follow it, each uploaded to
		// the homeserver and posted as an event that points at it.
		cfg, targets := mxFlushConfig(t, hs, tokenFile, room)
		buf := buffer.New(cfg.Buffer.Dir, false)
		const n = 2000
		for i := range n {
			r := &buffer.Record{V: 1, Action: "ban", Jail: []string{"sshd", "postfix-sasl"}[i%2], IP: fmt.Sprintf("198.18.%d.%d", i/256, i%256),
				Time: float64(1795628212 - 7200 + i*3), Failures: 5, User: "root", Matches: []string{"sshd[1]: Failed password for root"}}
			if err := buf.Append(r); err != nil {
				t.Fatal(err)
			}
		}
		// What the flush will send, rendered as preview renders it.
		pending, err := buf.PendingPaths()
		if err != nil {
			t.Fatal(err)
		}
		d, err := flush.DigestFor(cfg, pending, nil)
		if err != nil {
			t.Fatal(err)
		}
		ledger, err := buf.LoadLedger()
		if err != nil {
			t.Fatal(err)
		}
		want, err := targets[0].Render(flush.ForChannel(d, targets[0], ledger.Channel("ops-room")))
		if err != nil {
			t.Fatal(err)
		}
		if len(want.Attachments) != 2 {
			t.Fatalf("the report has %d attachments, want the chart and the full list", len(want.Attachments))
		}

		res, err := flush.Run(timeoutCtx(t, 60*time.Second), cfg, targets, flush.Options{})
		if err != nil || len(res.Failed()) != 0 || len(res.Channels[0].Warnings) != 0 {
			t.Fatalf("flush: %v %+v", err, res)
		}
		msgs := mxRoomMessages(t, hs, token, room)
		if len(msgs) != seen+3 {
			t.Fatalf("%d messages in the room, want %d: the report and its two files", len(msgs), seen+3)
		}
		report, files := msgs[seen], msgs[seen+1:]
		seen = len(msgs)
		// 2,000 offenders, report.max_offenders 1,000: the list holds the
		// busiest 1,000, and the cut text says so.
		if !strings.Contains(report.FormattedBody, "more offenders (the busiest of them listed in the attached offenders.csv; see notes)") {
			t.Errorf("the report does not say the busiest of the offenders cut are in the attached list")
		}
		for i, tc := range []struct {
			msgtype string
			a       channels.Attachment
		}{{"m.image", want.Attachments[0]}, {"m.file", want.Attachments[1]}} {
			ev := files[i]
			if ev.MsgType != tc.msgtype || ev.FileName != tc.a.Name || ev.Body != tc.a.Caption {
				t.Errorf("file %d: msgtype %q, filename %q, body %q; want %s, %s, %q", i+1, ev.MsgType, ev.FileName, ev.Body, tc.msgtype, tc.a.Name, tc.a.Caption)
			}
			if !strings.HasPrefix(ev.URL, "mxc://"+dendritetest.ServerName+"/") {
				t.Fatalf("%s: url %q, want a content URI of the homeserver", tc.a.Name, ev.URL)
			}
			data, ctype := hs.Download(t, token, ev.URL)
			if !bytes.Equal(data, tc.a.Data) {
				t.Errorf("%s downloaded from the homeserver: %d bytes, not the %d sent", tc.a.Name, len(data), len(tc.a.Data))
			}
			if ev.Info.Size != len(data) || ev.Info.MimeType != tc.a.Type || ctype != tc.a.Type {
				t.Errorf("%s: info %+v, served as %q; want %d bytes of %s", tc.a.Name, ev.Info, ctype, len(data), tc.a.Type)
			}
			t.Logf("%s: %s of %d bytes, %dx%d, %s", tc.a.Name, ev.MsgType, ev.Info.Size, ev.Info.W, ev.Info.H, ev.URL)
		}
		if size, err := pngSize(want.Attachments[0].Data); err != nil || files[0].Info.W != size.X || files[0].Info.H != size.Y {
			t.Errorf("m.image info %dx%d, the PNG %v (%v)", files[0].Info.W, files[0].Info.H, size, err)
		}
		// Every offender row of the report: report.max_offenders (1,000)
		// of the 2,000.
		if rows := strings.Count(string(want.Attachments[1].Data), "\n"); rows != len(d.Offenders)+1 || len(d.Offenders) != cfg.Report.MaxOffenders {
			t.Errorf("the full list has %d lines, want a header and %d offenders", rows, len(d.Offenders))
		}
		if b, _ := buf.Batches(); len(b) != 0 {
			t.Errorf("spool not empty after delivery: %v", b)
		}
	})

	t.Run("a file over the upload limit", func(t *testing.T) {
		// A homeserver that takes files up to 4 KiB refuses the chart and
		// the list (413); the report is delivered and the flush warns.
		small := dendritetest.StartWith(t, dendritetest.Options{MaxUploadBytes: 4096})
		token := small.Register(t, "f2b-bot")
		room := small.CreateRoom(t, token)
		ch, err := channels.New("ops-room", "matrix", map[string]any{"homeserver": small.URL(), "access_token": token, "room": room})
		if err != nil {
			t.Fatal(err)
		}
		m := renderReport(t, ch, config.Channel{}, mxBuiltDigest(1000))
		v := channels.Deliver(timeoutCtx(t, 60*time.Second), channels.Job{Channel: ch, Message: m, Attempts: 3, Timeout: 20 * time.Second})
		t.Logf("verdict %+v", v)
		if v.Err != nil || len(v.Warnings) != 2 {
			t.Fatalf("verdict %+v, want the report delivered and a warning for each file", v)
		}
		for i, a := range m.Attachments {
			for _, want := range []string{"not the attached " + a.Name, "over the homeserver's upload size limit: HTTP 413", "(4096)"} {
				if !strings.Contains(v.Warnings[i], want) {
					t.Errorf("warning %q does not say %q", v.Warnings[i], want)
				}
			}
			mxNoSecret(t, token, errors.New(v.Warnings[i]))
		}
		msgs := mxRoomMessages(t, small, token, room)
		if len(msgs) != 1 || msgs[0].MsgType != "m.notice" {
			t.Errorf("%d messages in the room, want the report alone", len(msgs))
		}
	})

	t.Run("encrypted room: sent in the clear", func(t *testing.T) {
		// The channel does not encrypt. The homeserver takes its events in a
		// room with encryption on, and they stay readable: m.room.message,
		// not m.room.encrypted.
		enc := hs.CreateEncryptedRoom(t, token)
		ch := newChannel(t, enc)
		m := renderReport(t, ch, config.Channel{}, mxBuiltDigest(10))
		if v := channels.Deliver(timeoutCtx(t, 30*time.Second), channels.Job{Channel: ch, Message: m, Timeout: 20 * time.Second}); v.Err != nil || len(v.Warnings) != 0 {
			t.Fatalf("verdict %+v", v)
		}
		msgs := mxRoomMessages(t, hs, token, enc)
		var types []string
		for _, ev := range hs.Messages(t, token, enc) {
			if ev.Type == "m.room.encryption" || ev.Type == "m.room.message" || ev.Type == "m.room.encrypted" {
				types = append(types, ev.Type)
			}
		}
		if len(msgs) != 2 || msgs[0].MsgType != "m.notice" || msgs[1].MsgType != "m.image" || !slices.Contains(types, "m.room.encryption") || slices.Contains(types, "m.room.encrypted") {
			t.Errorf("events %q, %d messages: want encryption on and the report and its chart in the clear", types, len(msgs))
		}
	})

	t.Run("not in the room", func(t *testing.T) {
		other := hs.Register(t, "stranger")
		ch, err := channels.New("ops-room", "matrix", map[string]any{"homeserver": hs.URL(), "access_token": other, "room": room})
		if err != nil {
			t.Fatal(err)
		}
		err = ch.Send(timeoutCtx(t, 30*time.Second), "x", "<p>x</p>")
		t.Logf("error: %v", err)
		if !channels.IsPermanent(err) || !strings.Contains(err.Error(), "M_FORBIDDEN") {
			t.Errorf("error %v, want a final M_FORBIDDEN", err)
		}
		mxNoSecret(t, other, err)
	})
}

// mxFlushConfig is a configuration whose one channel, ops-room, posts to the
// room of hs with the token in tokenFile, its buffer in a temporary
// folder, and the targets the flush sends to.
func mxFlushConfig(t *testing.T, hs *dendritetest.Server, tokenFile, room string) (*config.Config, []*render.Target) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Buffer = config.Buffer{Dir: filepath.Join(dir, "buf"), Fsync: true, MaxAge: time.Hour, MaxSizeMB: 16}
	cfg.Flag = filepath.Join(dir, "mail.flag")
	cfg.Host = "vm.example.org"
	cfg.Report.Timezone = "UTC"
	retries := 0
	cfg.Channels = map[string]config.Channel{"ops-room": {Type: "matrix", Retries: &retries, Timeout: 20 * time.Second, Settings: map[string]any{
		"homeserver": hs.URL(), "access_token_file": tokenFile, "room": room,
	}}}
	targets, err := render.Prepare(cfg)
	if err != nil || targets[0].Err != nil {
		t.Fatalf("prepare: %v %v", err, targets[0].Err)
	}
	return cfg, targets
}
