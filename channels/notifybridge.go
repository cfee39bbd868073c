package channels

// The bridge to github.com/nikoksr/notify: one wrapper that gives each of
// its services what the native channels have.
//
//   - A deadline that holds even where the service ignores its context (the
//     Pushover client, for one, has no context and no timeout): the service's
//     Send runs in a goroutine, and Send returns when the attempt's context
//     ends, whether the service answered or not. The abandoned call runs on in
//     the background until it ends by itself (its own timeout, or the server
//     finally answering or closing); its result is dropped. At most
//     maxNotifyCalls service calls run at once in the whole process, abandoned
//     ones included, so a platform that hangs every request cannot pile up
//     goroutines and connections: once they are all taken, a send fails
//     (retryably) with an error that says so, until one of them ends.
//   - A fresh service instance for every attempt, built inside that attempt
//     and dropped after it: nothing is shared between channels, nor between an
//     abandoned call and the retry that follows it (notify's service/http, used
//     by its Mattermost service, writes to its webhook's header map on every
//     request; one instance per call cannot race). What building a service
//     does on the network (Mattermost's login, syslog's dial of its socket)
//     runs in the goroutine too, under the deadline.
//   - A verdict: the kind's judge reads the library's typed errors where it
//     has them (Pushover's error list, PagerDuty's APIError and its status
//     code), else the HTTP status code in the error's text (or, for
//     Rocket.Chat, whose SDK drops it, the platform's own words); 4xx other
//     than 408 and 429 is final, 429 is retried after the usual backoff,
//     anything else (5xx, a transport failure, a timeout, an error the bridge
//     cannot read) is retried, the conservative side.
//   - Every error redacted: each secret of the channel (and the parts of its
//     URLs) is removed from the text, which is then cut to a bounded length;
//     Deliver neutralises it and removes every other channel's secrets too.
//   - The plain-text report (the text format; the sms summary for a kind
//     whose limit it alone fits, Pushover) fitted to the platform's
//     documented size limit.

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"unicode/utf8"
)

// maxNotifyCalls bounds the notify service calls running at once in this
// process, abandoned ones included.
const maxNotifyCalls = 16

// notifyCalls holds one token per running service call.
var notifyCalls = make(chan struct{}, maxNotifyCalls)

// maxNotifyError bounds the text (in characters) of an error from a notify
// service, which may quote a whole server answer.
const maxNotifyError = 600

// notifySender is a notify service: notify.Notifier's method set.
type notifySender interface {
	Send(ctx context.Context, subject, message string) error
}

// notifyKind describes one notify-backed channel kind.
type notifyKind struct {
	kind  string
	limit int  // characters (or bytes, see bytes) of the body; 0 for none
	bytes bool // limit counts bytes
	// format is the one format the kind is sent in: Text unless set.
	// Pushover's 1,024 characters hold the SMS summary, not the report.
	format Format
}

// notifyChannel is a channel on a notify service.
type notifyChannel struct {
	notifyKind
	name string
	// service builds a new service instance for one call. It runs in the
	// call's goroutine, under the attempt's deadline. close, if not nil, is
	// called when the call ends.
	service func(ctx context.Context) (svc notifySender, close func(), err error)
	// judge classifies an error of the service (see notifyJudge); nil uses
	// notifyJudge alone.
	judge    func(error) error
	secrets  []string
	credURLs []string
}

// Name implements Channel.
func (c *notifyChannel) Name() string { return c.name }

// Formats implements Channel: the kind's one format, the plain-text report
// unless notifyKind.format says otherwise.
func (c *notifyChannel) Formats() []Format {
	if c.format != "" {
		return []Format{c.format}
	}
	return []Format{Text}
}

// Limit implements Channel.
func (c *notifyChannel) Limit() int { return c.limit }

// Measure implements Measurer: characters, or bytes for kinds that count them.
func (c *notifyChannel) Measure(body string) int {
	if c.bytes {
		return len(body)
	}
	return utf8.RuneCountInString(body)
}

// CredentialURLs implements CredentialSender.
func (c *notifyChannel) CredentialURLs() []string { return c.credURLs }

// Send implements Channel: one call of a fresh service instance, bounded by
// ctx even if the service ignores it.
func (c *notifyChannel) Send(ctx context.Context, subject, body string) error {
	select {
	case notifyCalls <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("%s: %d earlier calls to notification services are still running, none ended in time (%w)",
			c.kind, maxNotifyCalls, context.Cause(ctx))
	}
	done := make(chan error, 1) // buffered: an abandoned call never blocks
	go func() {
		defer func() { <-notifyCalls }()
		svc, closeSvc, err := c.service(ctx)
		if err == nil {
			err = svc.Send(ctx, subject, body)
			if closeSvc != nil {
				closeSvc()
			}
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w (%v)", c.kind, c.clean(err), context.Cause(ctx))
		}
		judge := notifyJudge
		if c.judge != nil {
			judge = c.judge
		}
		return fmt.Errorf("%s: %w", c.kind, judge(c.clean(err)))
	case <-ctx.Done():
		return fmt.Errorf("%s: no answer: %w", c.kind, context.Cause(ctx))
	}
}

// clean returns err with the channel's secrets removed and its text cut to
// maxNotifyError characters; errors.As still finds the library's typed
// errors in it, but its text is never shown.
func (c *notifyChannel) clean(err error) error {
	return &emailRedactedError{msg: cutRunes(RedactString(err.Error(), c.secrets...), maxNotifyError), err: err}
}

// notifyStatusText finds an HTTP status code in the text of an error of a
// library that gives no typed error: "status code: 403", "status: 403
// Forbidden", "status code 503", "HTTP 429", "Request error: 502 Bad Gateway".
var notifyStatusText = lazyRegexp(`(?i)\b(?:status(?:[ _]?code)?|http|request error)\s*[:=]?\s*([1-5][0-9]{2})\b`)

// notifyJudge classifies err by the HTTP status code in its text (see
// notifyStatus). Without one it is retried.
func notifyJudge(err error) error {
	m := notifyStatusText().FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	code, _ := strconv.Atoi(m[1])
	return notifyStatus(code, err)
}

// notifyStatus classifies err, which came with HTTP status code: other 4xx
// than 408 and 429 is final; 429 waits for the backoff; the rest is retried.
func notifyStatus(code int, err error) error {
	switch {
	case code == http.StatusTooManyRequests:
		return &RetryAfterError{Err: err}
	case code == http.StatusRequestTimeout:
		return err
	case code >= 400 && code < 500:
		return Permanent(err)
	}
	return err
}
