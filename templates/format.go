package templates

// Format is the markup a report is rendered in.
type Format string

// The formats a template can be rendered in (see the dialects in
// dialect.go).
const (
	Text     Format = "text"
	HTML     Format = "html"
	Markdown Format = "markdown"
	// Discord is Discord's markdown.
	Discord Format = "discord"
	// JSON is a JSON document; values are escaped for inside its strings.
	JSON Format = "json"
	// Matrix is the HTML of a Matrix event's formatted_body.
	Matrix Format = "matrix"
	// Slack is Slack's mrkdwn.
	Slack Format = "slack"
	// SMS is plain text to fit one SMS: a summary, not the report.
	SMS Format = "sms"
	// Teams is the text of a Microsoft Teams Adaptive Card's text runs.
	Teams Format = "teams"
	// Telegram is Telegram's subset of HTML.
	Telegram Format = "telegram"
)
