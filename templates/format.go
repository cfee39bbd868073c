package templates

// Format is the markup a report is rendered in.
type Format string

// The formats a template can be rendered in.
const (
	Text     Format = "text"
	HTML     Format = "html"
	Markdown Format = "markdown"
)
