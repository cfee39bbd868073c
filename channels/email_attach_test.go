package channels_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image/png"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/internal/smtpsink"
	"github.com/f2b-notify/f2b-notify/templates"
)

// mimePart is a part of a MIME message as a mail reader sees it: its
// media type, headers and decoded body, or its own parts.
type mimePart struct {
	typ    string
	params map[string]string
	header textproto.MIMEHeader
	body   []byte // decoded from its Content-Transfer-Encoding
	parts  []*mimePart
}

// parseMIME parses a whole message into its tree of parts.
func parseMIME(t *testing.T, raw []byte) *mimePart {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("parse message: %v\n%s", err, raw)
	}
	return readPart(t, textproto.MIMEHeader(m.Header), m.Body)
}

func readPart(t *testing.T, h textproto.MIMEHeader, body io.Reader) *mimePart {
	t.Helper()
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain"
	}
	typ, params, err := mime.ParseMediaType(ct)
	if err != nil {
		t.Fatalf("parse Content-Type %q: %v", ct, err)
	}
	p := &mimePart{typ: typ, params: params, header: h}
	if strings.HasPrefix(typ, "multipart/") {
		if cte := strings.ToLower(h.Get("Content-Transfer-Encoding")); cte != "" && cte != "7bit" && cte != "8bit" && cte != "binary" {
			t.Errorf("%s part with Content-Transfer-Encoding %s (RFC 2045 allows 7bit, 8bit, binary)", typ, cte)
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			sub, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("read a part of %s: %v", typ, err)
			}
			p.parts = append(p.parts, readPart(t, sub.Header, sub))
		}
		return p
	}
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	if p.body, err = io.ReadAll(body); err != nil {
		t.Fatalf("decode the %s part: %v", typ, err)
	}
	return p
}

// shape is the tree's media types, such as
// "multipart/alternative[text/plain multipart/related[text/html image/png]]".
func (p *mimePart) shape() string {
	if len(p.parts) == 0 {
		return p.typ
	}
	var s []string
	for _, c := range p.parts {
		s = append(s, c.shape())
	}
	return p.typ + "[" + strings.Join(s, " ") + "]"
}

// find returns the parts of media type typ, depth first.
func (p *mimePart) find(typ string) []*mimePart {
	var out []*mimePart
	if p.typ == typ {
		out = append(out, p)
	}
	for _, c := range p.parts {
		out = append(out, c.find(typ)...)
	}
	return out
}

// one returns the one part of media type typ.
func (p *mimePart) one(t *testing.T, typ string) *mimePart {
	t.Helper()
	found := p.find(typ)
	if len(found) != 1 {
		t.Fatalf("%d %s parts, want 1, in %s", len(found), typ, p.shape())
	}
	return found[0]
}

// imgTag finds the <img> of the HTML part.
var imgTag = regexp.MustCompile(`<img src="cid:([^"]+)" alt="([^"]*)"[^>]*>`)

// sendReport renders d's report for an smtp channel with attachments
// (nil: what e-mail takes), sends it to a sink and returns what arrived.
func sendReport(t *testing.T, attachments *[]string) (channels.Message, *mimePart) {
	t.Helper()
	sink := smtpsink.Start(t)
	ch := newChannel(t, "admin-mail", "smtp", smtpSettings(sink, nil))
	m := renderReport(t, ch, config.Channel{Type: "smtp", Attachments: attachments}, sampleDigest())
	if err := sendOnce(testCtx(t), ch, m); err != nil {
		t.Fatalf("send: %v", err)
	}
	return m, parseMIME(t, sink.WaitFor(t, 1, 5*time.Second)[0].Data)
}

// TestEmailChartInline: the chart goes inside the HTML alternative, as a
// picture whose Content-ID the HTML's cid: names, with the caption as its
// alt text; the text part keeps its sparkline and gets no picture.
func TestEmailChartInline(t *testing.T) {
	m, root := sendReport(t, nil)
	if len(m.Attachments) != 1 || m.Attachments[0].Kind != channels.Chart {
		t.Fatalf("rendered attachments %v, want the chart alone (e-mail has no size limit, so no full list)", m.Attachments)
	}
	want := "multipart/alternative[text/plain multipart/related[text/html image/png]]"
	if got := root.shape(); got != want {
		t.Fatalf("MIME structure %s, want %s", got, want)
	}
	related := root.one(t, "multipart/related")
	if related.params["type"] != "text/html" {
		t.Errorf("multipart/related type=%q, want text/html", related.params["type"])
	}
	html := string(root.one(t, "text/html").body)
	img := root.one(t, "image/png")
	cid := strings.Trim(img.header.Get("Content-Id"), "<>")
	if !regexp.MustCompile(`^bans\.[0-9a-f]{16}@f2b-notify$`).MatchString(cid) {
		t.Errorf("Content-ID %q, want <bans.HASH@f2b-notify>", img.header.Get("Content-Id"))
	}
	match := imgTag.FindStringSubmatch(html)
	if match == nil {
		t.Fatalf("no <img src=\"cid:...\"> in the HTML part:\n%s", html)
	}
	if match[1] != cid {
		t.Errorf("the HTML shows cid:%s, the picture is <%s>", match[1], cid)
	}
	caption := m.Attachments[0].Caption
	if alt := strings.ReplaceAll(match[2], "&ndash;", "–"); alt != caption || !strings.HasPrefix(alt, "Bans per ") {
		t.Errorf("alt text %q, want the caption %q", match[2], caption)
	}
	if !strings.Contains(match[0], "width:100%") || !strings.Contains(match[0], "max-width:800px") || !strings.Contains(match[0], "height:auto") {
		t.Errorf("the picture is not scaled to the screen: %s", match[0])
	}
	glance := strings.Index(html, "</p>")
	if i := strings.Index(html, "<img"); i < glance || i > strings.Index(html, "<h1") {
		t.Errorf("the picture is not between the at-a-glance lines and the title:\n%s", html)
	}
	disp, dparams, err := mime.ParseMediaType(img.header.Get("Content-Disposition"))
	if err != nil || disp != "inline" || dparams["filename"] != "bans.png" {
		t.Errorf("Content-Disposition %q, want inline; filename=bans.png", img.header.Get("Content-Disposition"))
	}
	if desc, _ := new(mime.WordDecoder).DecodeHeader(img.header.Get("Content-Description")); desc != caption {
		t.Errorf("Content-Description %q, want the caption %q", desc, caption)
	}
	pic, err := png.Decode(bytes.NewReader(img.body))
	if err != nil {
		t.Fatalf("the picture does not decode as PNG: %v", err)
	}
	if b := pic.Bounds(); b.Dx() != 800 || b.Dy() != 360 {
		t.Errorf("picture %v, want 800×360", b)
	}
	if !bytes.Equal(img.body, m.Attachments[0].Data) {
		t.Error("the picture that arrived is not the chart rendered")
	}
	text := string(root.one(t, "text/plain").body)
	if !strings.Contains(text, "Bans over the period: ") {
		t.Errorf("the text part lost its sparkline:\n%s", text)
	}
	if strings.Contains(text, "cid:") || strings.Contains(text, "bans.png") {
		t.Errorf("the text part mentions the picture:\n%s", text)
	}
}

// TestEmailNoChart: with attachments: [] the e-mail is text and HTML
// alone, and the HTML shows no picture.
func TestEmailNoChart(t *testing.T) {
	m, root := sendReport(t, &[]string{})
	if len(m.Attachments) != 0 {
		t.Fatalf("attachments %v with attachments: []", m.Attachments)
	}
	if got, want := root.shape(), "multipart/alternative[text/plain text/html]"; got != want {
		t.Fatalf("MIME structure %s, want %s", got, want)
	}
	if html := string(root.one(t, "text/html").body); strings.Contains(html, "<img") || strings.Contains(html, "cid:") {
		t.Errorf("the HTML shows a picture that is not there:\n%s", html)
	}
}

// TestEmailFullListAttached: a list of offenders goes as a file attached
// to the message (multipart/mixed), beside the chart inline in the HTML;
// sendmail and smtp build the same structure.
func TestEmailFullListAttached(t *testing.T) {
	csv := []byte("ip,bans\r\n203.0.113.7,3\r\n'=HYPERLINK(\"x\"),1\r\n")
	chart := renderReport(t, newChannel(t, "m", "smtp", map[string]any{"host": "127.0.0.1", "from": testFrom, "to": testTo}),
		config.Channel{Type: "smtp"}, sampleDigest()).Attachments[0]
	html := `<p>report</p><img src="cid:` + channels.ContentID(chart) + `" alt="">`
	m := channels.Message{
		Subject: "Report",
		Bodies:  map[channels.Format]string{templates.Text: "report\n", templates.HTML: html},
		Attachments: []channels.Attachment{chart,
			{Kind: channels.FullList, Name: "offenders.csv", Type: "text/csv; charset=utf-8", Data: csv, Caption: "All 2 offender rows of the report"}},
	}
	dir := t.TempDir()
	sm := newChannel(t, "admin-mail", "sendmail", fakeSendmail(t, dir, "exit 0"))
	if err := sendOnce(testCtx(t), sm, m); err != nil {
		t.Fatalf("send: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "stdin"))
	if err != nil {
		t.Fatal(err)
	}
	viaSendmail := parseMIME(t, raw)
	sink := smtpsink.Start(t)
	sc := newChannel(t, "admin-mail", "smtp", smtpSettings(sink, nil))
	if err := sendOnce(testCtx(t), sc, m); err != nil {
		t.Fatalf("send via smtp: %v", err)
	}
	viaSMTP := parseMIME(t, sink.WaitFor(t, 1, 5*time.Second)[0].Data)
	want := "multipart/mixed[multipart/alternative[text/plain multipart/related[text/html image/png]] text/csv]"
	for kind, root := range map[string]*mimePart{"sendmail": viaSendmail, "smtp": viaSMTP} {
		if got := root.shape(); got != want {
			t.Fatalf("%s: MIME structure %s, want %s", kind, got, want)
		}
		list := root.one(t, "text/csv")
		disp, params, err := mime.ParseMediaType(list.header.Get("Content-Disposition"))
		if err != nil || disp != "attachment" || params["filename"] != "offenders.csv" {
			t.Errorf("%s: Content-Disposition %q, want attachment; filename=offenders.csv", kind, list.header.Get("Content-Disposition"))
		}
		if list.params["charset"] != "utf-8" {
			t.Errorf("%s: Content-Type %q, want charset=utf-8", kind, list.header.Get("Content-Type"))
		}
		if !bytes.Equal(list.body, csv) {
			t.Errorf("%s: the list arrived as %q, want %q", kind, list.body, csv)
		}
		if got := string(root.one(t, "text/html").body); got != html {
			t.Errorf("%s: html %q, want %q", kind, got, html)
		}
	}
}

// TestEmailChartWithoutHTML: a message with no HTML part to show the chart
// in carries it as an attached file.
func TestEmailChartWithoutHTML(t *testing.T) {
	chart := channels.Attachment{Kind: channels.Chart, Name: "bans.png", Type: "image/png", Data: []byte("\x89PNG\r\n\x1a\n"), Caption: "Bans"}
	ch := newChannel(t, "m", "smtp", map[string]any{"host": "127.0.0.1", "from": testFrom, "to": testTo})
	raw, err := ch.(channels.Payloader).Payload(channels.Message{Subject: "s", Bodies: map[channels.Format]string{templates.Text: "report\n"},
		Attachments: []channels.Attachment{chart}})
	if err != nil {
		t.Fatal(err)
	}
	root := parseMIME(t, raw)
	if got, want := root.shape(), "multipart/mixed[text/plain image/png]"; got != want {
		t.Fatalf("MIME structure %s, want %s", got, want)
	}
	if d := root.one(t, "image/png").header.Get("Content-Disposition"); !strings.HasPrefix(d, "attachment;") {
		t.Errorf("Content-Disposition %q, want attachment", d)
	}
}

// TestEmailHTMLOnlyWithChart: an HTML body alone (a user's configuration
// can leave out the text) is a multipart/related message with its chart.
func TestEmailHTMLOnlyWithChart(t *testing.T) {
	chart := channels.Attachment{Kind: channels.Chart, Name: "bans.png", Type: "image/png", Data: []byte("\x89PNG\r\n\x1a\n"), Caption: "Bans"}
	ch := newChannel(t, "m", "smtp", map[string]any{"host": "127.0.0.1", "from": testFrom, "to": testTo})
	html := `<p>report</p><img src="cid:` + channels.ContentID(chart) + `" alt="Bans">`
	raw, err := ch.(channels.Payloader).Payload(channels.Message{Subject: "s", Bodies: map[channels.Format]string{templates.HTML: html},
		Attachments: []channels.Attachment{chart}})
	if err != nil {
		t.Fatal(err)
	}
	root := parseMIME(t, raw)
	if got, want := root.shape(), "multipart/related[text/html image/png]"; got != want {
		t.Fatalf("MIME structure %s, want %s", got, want)
	}
	if got := string(root.one(t, "text/html").body); got != html {
		t.Errorf("html %q, want %q", got, html)
	}
	if id := root.one(t, "image/png").header.Get("Content-Id"); id != "<"+channels.ContentID(chart)+">" {
		t.Errorf("Content-ID %q, want <%s>", id, channels.ContentID(chart))
	}
}
