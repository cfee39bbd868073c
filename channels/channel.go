// Package channels defines what a notification channel is, the list of
// channel kinds (Kinds, in kinds.go), and Deliver, which sends one report to one channel with its
// retries and returns a verdict (the flush runs one Deliver per channel, in
// parallel).
package channels

import (
	"context"
	"fmt"

	"github.com/f2b-notify/f2b-notify/templates"
)

// Format is the markup a channel's body is written in.
type Format = templates.Format

// Channel is one configured destination. Its Send has the method set of
// github.com/nikoksr/notify's Notifier, so any notify service can be wrapped.
type Channel interface {
	// Send delivers one message. body is in the channel's first format.
	Send(ctx context.Context, subject, body string) error
	// Name is the channel's key in the configuration.
	Name() string
	// Formats lists the formats the channel wants rendered, primary first.
	Formats() []Format
	// Limit is the largest body the channel accepts, in characters; 0 for none.
	Limit() int
}

// Message is a report rendered in every format a channel asked for.
type Message struct {
	Subject string
	Bodies  map[Format]string
	// Pages, when the report was split to fit a Splitter's limit, holds the
	// messages to send in order, in the first format; Bodies then holds the
	// first page. Deliver posts them one by one with the channel's Send.
	Pages []string
	// Attachments go with the report when the channel takes them (see
	// Attacher): the chart of its bans, the full list of its offenders.
	Attachments []Attachment
}

// Messages is what a splitting channel posts, in order: the pages of a
// split report, or the one body of format f.
func (m Message) Messages(f Format) []string {
	if len(m.Pages) > 0 {
		return m.Pages
	}
	return []string{m.Bodies[f]}
}

// pagePayloads is the Payload of a splitting channel: the request body of
// each message it posts, one per line, in order.
func pagePayloads(pages []string, request func(page string) ([]byte, error)) ([]byte, error) {
	var out []byte
	for i, p := range pages {
		b, err := request(p)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			out = append(out, '\n')
		}
		out = append(out, b...)
	}
	return out, nil
}

// Measurer is implemented by channels whose limit is not counted in
// characters (Unicode code points) of the body: Telegram counts after
// entity parsing, Matrix counts the bytes of the event.
type Measurer interface {
	Measure(body string) int
}

// Splitter is implemented by channels that can send an oversized report as
// several messages rather than cut it. Split reports whether this channel's
// configuration asks for it; MaxMessages caps how many messages one report
// takes (0: no cap): the last one then cuts the remaining offenders with
// "and N more", so that a huge report neither floods the chat nor runs into
// the platform's rate limits.
type Splitter interface {
	Split() bool
	MaxMessages() int
}

// DefaultMaxMessages is the default cap of the messages of a split report.
const DefaultMaxMessages = 10

// maxMessages reads the max_messages setting of a splitting channel: unset
// gives DefaultMaxMessages; 1 to 100 are accepted.
func maxMessages(name string, v *int) (int, error) {
	if v == nil {
		return DefaultMaxMessages, nil
	}
	if *v < 1 || *v > 100 {
		return 0, fmt.Errorf("channel %q: key max_messages: want 1 to 100 messages per report, got %d", name, *v)
	}
	return *v, nil
}

// MessageSender is implemented by channels that send more than one rendering
// at once, such as e-mail with its text and HTML parts.
type MessageSender interface {
	SendMessage(ctx context.Context, m Message) error
}

// Runner is implemented by channels that run a local program (sendmail):
// Program is its path as configured, and Key the setting that names it. A
// flush refuses to run, as root, a program that other users could change.
type Runner interface {
	Program() (path, key string)
}

// Checker is implemented by channels that can tell, without sending, what
// on this machine would make a send fail: a program that is not there, a
// folder that does not exist or cannot be written. check calls it.
type Checker interface {
	Check() error
}

// The formats, re-exported for channel kinds.
const (
	Text     = templates.Text
	HTML     = templates.HTML
	Markdown = templates.Markdown
)

// Payloader is implemented by channels that can show the exact request body
// they would send for a message, for `f2b-notify preview --payload`.
type Payloader interface {
	Payload(m Message) ([]byte, error)
}
