package fakebot

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"mime/multipart"
	"net/textproto"
	"strings"
	"testing"
)

// pngOf is a PNG of w by h pixels.
func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// part is one part of a test form; a file part when filename is set.
type part struct{ name, filename, value string }

// form encodes parts as multipart/form-data and returns the body and its
// Content-Type.
func form(t *testing.T, parts ...part) (string, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.filename != "" {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.name, p.filename))
			h.Set("Content-Type", "application/octet-stream")
		} else {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.name))
		}
		pw, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		pw.Write([]byte(p.value))
	}
	w.Close()
	return b.String(), w.FormDataContentType()
}

func TestServerUploads(t *testing.T) {
	const token = "1:secret"
	s := Start(t, token, "-100", "@chan")
	photoURL := s.URL() + "/bot" + token + "/sendPhoto"
	docURL := s.URL() + "/bot" + token + "/sendDocument"
	chart := string(pngOf(t, 800, 360))
	chat := part{"chat_id", "", "-100"}
	photo := part{"photo", "bans.png", chart}
	cases := []struct {
		name, url string
		parts     []part
		status    int
		desc      string
	}{
		{"photo", photoURL, []part{chat, {"message_thread_id", "", "7"}, {"caption", "", "Bans per hour"}, {"disable_notification", "", "true"}, photo}, 200, ""},
		{"document", docURL, []part{{"chat_id", "", "@chan"}, {"document", "offenders.csv", "ip\n192.0.2.1\n"}}, 200, ""},
		{"no photo", photoURL, []part{chat}, 400, "Bad Request: there is no photo in the request"},
		{"unknown chat", photoURL, []part{{"chat_id", "", "-200"}, photo}, 400, "Bad Request: chat not found"},
		{"not an image", photoURL, []part{chat, {"photo", "bans.png", "PNG? no"}}, 400, "Bad Request: IMAGE_PROCESS_FAILED"},
		{"ratio over 20", photoURL, []part{chat, {"photo", "bans.png", string(pngOf(t, 2100, 100))}}, 400, "Bad Request: PHOTO_INVALID_DIMENSIONS"},
		{"sides over 10000", photoURL, []part{chat, {"photo", "bans.png", string(pngOf(t, 6000, 4001))}}, 400, "Bad Request: PHOTO_INVALID_DIMENSIONS"},
		{"caption too long", photoURL, []part{chat, {"caption", "", strings.Repeat("é", 1025)}, photo}, 400, "Bad Request: message caption is too long"},
		{"caption too long in UTF-16", photoURL, []part{chat, {"caption", "", strings.Repeat("😀", 513)}, photo}, 400, "Bad Request: message caption is too long"},
		{"empty document", docURL, []part{chat, {"document", "offenders.csv", ""}}, 400, "Bad Request: file must be non-empty"},
	}
	for _, c := range cases {
		body, ct := form(t, c.parts...)
		status, a := post(t, c.url, ct, body)
		if status != c.status || a.Description != c.desc || a.OK != (c.status == 200) {
			t.Errorf("%s: %d %+v, want %d %q", c.name, status, a, c.status, c.desc)
		}
	}
	if v := s.Violations(); len(v) != 0 {
		t.Errorf("violations %q", v)
	}
	ups := s.Uploads()
	if len(ups) != 2 {
		t.Fatalf("%d uploads recorded, want 2", len(ups))
	}
	p, d := ups[0], ups[1]
	if p.Method != "sendPhoto" || p.ChatID != "-100" || p.ThreadID != 7 || p.Caption != "Bans per hour" || !p.DisableNotification ||
		p.Filename != "bans.png" || string(p.Data) != chart || p.Width != 800 || p.Height != 360 {
		t.Errorf("photo recorded as %s chat %s thread %d caption %q silent %v file %s, %d bytes, %dx%d",
			p.Method, p.ChatID, p.ThreadID, p.Caption, p.DisableNotification, p.Filename, len(p.Data), p.Width, p.Height)
	}
	if d.Method != "sendDocument" || d.ChatID != "@chan" || d.Filename != "offenders.csv" || string(d.Data) != "ip\n192.0.2.1\n" || d.ID <= p.ID {
		t.Errorf("document recorded as %+v", d)
	}

	// What breaks the rules of sending files: answered 400 and recorded.
	for _, c := range []struct {
		url, ct, body string
	}{
		{photoURL, "application/json", `{"chat_id":-100,"photo":"bans.png"}`},
		{photoURL, "multipart/form-data", "--x\r\n\r\n--x--\r\n"},
		{photoURL, "", ""},
	} {
		if status, _ := post(t, c.url, c.ct, c.body); status != 400 {
			t.Errorf("%s %q: status %d", c.ct, c.body, status)
		}
	}
	for _, parts := range [][]part{
		{chat, {"photo", "", chart}},                           // a photo in a plain field
		{chat, chat, photo},                                    // chat_id twice
		{chat, photo, {"thumbnail", "thumb.jpg", "x"}},         // a file that is not the photo
		{{"chat_id", "", "general"}, photo},                    // not a chat id
		{chat, {"disable_notification", "", "quietly"}, photo}, // not a Boolean
		{chat, {"parse_mode", "", "MarkdownV2"}, photo},        // not read by the fake
	} {
		body, ct := form(t, parts...)
		if status, _ := post(t, photoURL, ct, body); status != 400 {
			t.Errorf("%v: status %d", parts[1:], status)
		}
	}
	if n := len(s.Violations()); n != 9 {
		t.Errorf("%d violations recorded, want 9: %q", n, s.Violations())
	}

	// Scripted failures apply to uploads too.
	s.Fail(FloodWait(2))
	body, ct := form(t, chat, photo)
	if status, a := post(t, photoURL, ct, body); status != 429 || a.Parameters == nil || a.Parameters.RetryAfter != 2 {
		t.Errorf("flood: %d %+v", status, a)
	}
	if len(s.Uploads()) != 2 {
		t.Errorf("a refused upload was recorded")
	}
}
