package channels

import (
	"cmp"
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/f2b-notify/f2b-notify/internal/textutil"
	"github.com/f2b-notify/f2b-notify/report"
)

// Redactor makes the text of a channel's error safe to print and to store.
// Every secret it knows is replaced by "[redacted]", whichever setting or
// message it turns up in; and the text is neutralised like attacker text
// (see report.Neutralise), because part of it comes from remote servers and
// child programs (an HTTP answer, what sendmail wrote): no terminal escape,
// control or bidi character reaches a terminal, a log or the ledger. Runs of
// white space, line breaks included, become one space: the text is one line.
// A nil *Redactor neutralises and redacts nothing.
type Redactor struct{ secrets []string }

// NewRedactor returns a Redactor for the given secrets (typically every
// secret of every configured channel).
func NewRedactor(secrets []string) *Redactor {
	s := slices.Clone(secrets)
	// Longest first, so that a URL goes as a whole before a token in it.
	slices.SortFunc(s, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	return &Redactor{secrets: slices.Compact(s)}
}

// String returns s redacted, neutralised and on one line.
func (r *Redactor) String(s string) string {
	if r != nil {
		s = RedactString(s, r.secrets...)
	}
	return report.Neutralise(textutil.OneLine(s))
}

// Error returns err with its text made safe by String; it keeps err's
// classification (Permanent, errors.Is).
func (r *Redactor) Error(err error) error {
	if err == nil {
		return nil
	}
	return withText(err, r.String(err.Error()))
}

// Redact returns err with every non-empty secret replaced by "[redacted]",
// also in its URL-escaped forms. The result's text is safe to log.
func Redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	return withText(err, RedactString(err.Error(), secrets...))
}

// RedactString replaces every non-empty secret in s by "[redacted]".
func RedactString(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) < 4 {
			continue // too short to redact without mangling the message
		}
		for _, form := range []string{sec, url.PathEscape(sec), url.QueryEscape(sec)} {
			s = strings.ReplaceAll(s, form, "[redacted]")
		}
	}
	return s
}

// withText returns an error that reads msg and is classified as err is:
// Permanent, or a RetryAfterError with the same wait.
func withText(err error, msg string) error {
	r := &redacted{msg: msg, cause: err}
	var ra *RetryAfterError
	switch {
	case IsPermanent(err):
		return Permanent(r)
	case errors.As(err, &ra):
		return &RetryAfterError{Err: r, After: ra.After}
	}
	return r
}

// redacted is an error whose text has had secrets removed. It keeps what
// errors.Is finds in what it wraps, but not its text.
type redacted struct {
	msg   string
	cause error
}

func (r *redacted) Error() string { return r.msg }

// Is lets errors.Is see through to sentinel causes such as
// context.DeadlineExceeded without exposing their text.
func (r *redacted) Is(target error) bool { return errors.Is(r.cause, target) }
