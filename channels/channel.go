// Package channels defines what a notification channel is, the registry of
// channel kinds, and the fan-out that sends one report to many channels and
// returns a verdict for each.
package channels

import (
	"context"

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
	// first page.
	Pages []string
}

// Measurer is implemented by channels whose limit is not counted in
// characters (Unicode code points) of the body: Telegram counts after
// entity parsing, Matrix counts the bytes of the event.
type Measurer interface {
	Measure(body string) int
}

// Splitter is implemented by channels that can send an oversized report as
// several messages rather than cut it. Split reports whether this channel's
// configuration asks for it.
type Splitter interface {
	Split() bool
}

// MessageSender is implemented by channels that send more than one rendering
// at once, such as e-mail with its text and HTML parts.
type MessageSender interface {
	SendMessage(ctx context.Context, m Message) error
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
