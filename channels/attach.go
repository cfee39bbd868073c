package channels

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// AttachmentKind says what an attachment holds. Its values are those of a
// channel's attachments key.
type AttachmentKind string

// The attachments a report can carry.
const (
	// Chart is a PNG of the report's bans over its period, stacked per jail.
	Chart AttachmentKind = "chart"
	// FullList is a CSV of every offender of the report, sent when the
	// channel's size limit cut offender rows from the message ("and N
	// more"), so that nothing cut is lost.
	FullList AttachmentKind = "full_list"
)

// Attachment is a file that goes with a report.
type Attachment struct {
	Kind AttachmentKind
	Name string // file name, such as "bans.png"; plain ASCII
	Type string // MIME type, such as "image/png"
	Data []byte
	// Caption says in one line of plain text what the file shows, such as
	// "Bans per hour, 2026-12-01 00:00 – 23:59 UTC". It is built from the
	// report's data, neutralised, but not escaped for any markup.
	Caption string
}

// Attacher is implemented by channels that can carry attachments. Attaches
// reports whether the channel, as configured, takes attachments of kind k;
// the report is rendered with them only then.
//
// A channel that sends its attachments inside its one message (e-mail, as
// parts of the MIME message) finds them in Message.Attachments in
// SendMessage. A channel that posts them as messages of their own after the
// report (Matrix, Telegram, Discord, ntfy, Slack) implements
// AttachmentSender too.
type Attacher interface {
	Attaches(k AttachmentKind) bool
}

// AttachmentSender is implemented by channels that post each attachment
// as a message of its own, after the report. Deliver calls it once the
// report is delivered (and Job.Delivered told so), with the job's timeout
// and retries; an attachment that cannot be sent does not fail the report,
// which was delivered: it is a warning of the verdict.
type AttachmentSender interface {
	SendAttachment(ctx context.Context, a Attachment) error
}

// ContentID is the Content-ID by which the HTML part of an e-mail shows a
// as an inline picture (<img src="cid:...">), without the angle brackets:
// its name and a hash of its data, the same for the renderer that writes
// the HTML and the channel that builds the MIME message.
func ContentID(a Attachment) string {
	sum := sha256.Sum256(a.Data)
	base, _, _ := strings.Cut(a.Name, ".")
	base = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return -1
	}, base)
	if base == "" {
		base = "part"
	}
	return base + "." + hex.EncodeToString(sum[:8]) + "@f2b-notify"
}
