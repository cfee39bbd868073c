package channels

// What the SMS kinds share: the sms format (a summary of one message, from
// the template default/report.sms.tmpl), its measure in the units of one
// SMS, and the check of the numbers to send to.

import (
	"fmt"
	"strings"

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
			units := utf16Len(text)
			return (units*smsLimit + 69) / 70
		}
	}
	return septets
}

// smsPhone is the shape of a phone number in international format (E.164,
// with or without its +).
var smsPhone = lazyRegexp(`^\+?[1-9][0-9]{6,14}$`)

// smsPhones checks the phones setting of an SMS kind.
func smsPhones(name string, phones []string) error {
	if len(phones) == 0 {
		return fmt.Errorf("channel %q: key phones: missing (the numbers to send to, such as [\"+447700900123\"])", name)
	}
	for _, p := range phones {
		if !smsPhone().MatchString(p) {
			return fmt.Errorf("channel %q: key phones: %q is not a number in international format, such as +447700900123", name, p)
		}
	}
	return nil
}
