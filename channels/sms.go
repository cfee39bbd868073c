package channels

// What the SMS kinds share: the sms format (a summary of one message, from
// the template default/report.sms.tmpl), its measure in the units of one
// SMS, and the hand-over of that summary to a notify service, which sends
// subject + "\n" + message.

import (
	"context"
	"strings"
	"unicode/utf16"

	"github.com/f2b-notify/f2b-notify/templates"
)

// SMSFormat is the one-message summary the SMS kinds send.
const SMSFormat = templates.SMS

// smsLimit is what one SMS holds: 160 characters of the GSM 03.38 alphabet
// (those of its extension table count 2), or 70 UTF-16 code units once any
// other character is in it. smsUnits scales the second to the first, so
// that one number is the limit of both.
const smsLimit = 160

// gsm7 is the GSM 03.38 basic alphabet (one septet each); gsm7Ext its
// extension table (an escape and a septet each).
const (
	gsm7 = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Ext = "\f^{}\\[~]|€"
)

// smsUnits measures text as sent in one SMS, against smsLimit: its septets
// when all of it is in the GSM 03.38 alphabet, else its UTF-16 code units
// times 160/70, rounded up (70 of them fill a message).
func smsUnits(text string) int {
	septets := 0
	for _, r := range text {
		switch {
		case strings.ContainsRune(gsm7, r):
			septets++
		case strings.ContainsRune(gsm7Ext, r):
			septets += 2
		default:
			units := len(utf16.Encode([]rune(text)))
			return (units*smsLimit + 69) / 70
		}
	}
	return septets
}

// smsSent is the text a notify SMS service sends for body (see smsSender):
// body itself when it has a line break, else body and the line break the
// service appends.
func smsSent(body string) string {
	if strings.Contains(body, "\n") {
		return body
	}
	return body + "\n"
}

// smsSender hands the summary alone to a notify SMS service, which sends
// subject + "\n" + message: its first line as the subject, the rest as the
// message, so that what is sent is the summary (smsSent). The report's
// subject is not sent: an SMS has none, and the summary names the host.
type smsSender struct{ notifySender }

func (s smsSender) Send(ctx context.Context, _, body string) error {
	head, tail, _ := strings.Cut(body, "\n")
	return s.notifySender.Send(ctx, head, tail)
}
