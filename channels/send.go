package channels

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Job is one channel's part of a fan-out.
type Job struct {
	Channel  Channel
	Message  Message
	Timeout  time.Duration // one attempt; 0 means 30s
	Attempts int           // tries in all; 0 means 1
	// For a split report (Message.Pages): From is how many of its pages were
	// delivered before, so sending resumes after them; Sent, if set, is told
	// after each page is delivered how many are delivered so far.
	From int
	Sent func(n int)
	// Delivered, if set, is told once the report is delivered, before its
	// attachments are sent (which may take the timeout times the attempts
	// again): whoever must record the delivery does it there, so that a
	// process that dies while the attachments go does not send the report
	// again.
	Delivered func()
	// Redactor cleans the verdict's error (see Redactor); nil still
	// neutralises it.
	Redactor *Redactor
	// Backoff is the wait before retry number n (1 for the first retry);
	// nil is DefaultBackoff.
	Backoff func(n int) time.Duration
}

// Verdict is how a job ended.
type Verdict struct {
	Channel  string
	Err      error // nil when delivered
	Attempts int
	Elapsed  time.Duration
	Sent     int // pages of a split report delivered, From included
	// Warnings are the attachments that could not be sent after the report
	// was delivered, one line each, redacted like Err.
	Warnings []string
}

// permanent marks an error that retrying cannot fix (such as a 4xx answer).
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps err so that Deliver does not retry it.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err was marked with Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// RetryAfterError is an error that says when to try again, such as an HTTP
// 429 answer with Retry-After.
type RetryAfterError struct {
	Err   error
	After time.Duration
}

func (e *RetryAfterError) Error() string { return e.Err.Error() }
func (e *RetryAfterError) Unwrap() error { return e.Err }

// DefaultBackoff is the wait before retry number n (1 for the first retry):
// exponential from 1s, capped at 30s, with up to 25% jitter.
func DefaultBackoff(n int) time.Duration {
	d := time.Second << min(n-1, 5)
	d = min(d, 30*time.Second)
	return d - time.Duration(rand.Int64N(int64(d/4)+1))
}

// Deliver sends one job, retrying with backoff until it succeeds, its attempts
// are spent, the error is permanent, or ctx ends. Each attempt has its own
// timeout. The error names the channel, and its text has been through
// j.Redactor: whatever the server or program answered, it is safe to print
// and to store.
//
// A split report is posted page by page, in order, with Send. A failed page
// is retried from that page on: the pages already delivered are not posted
// again, and each failure spends one attempt.
func Deliver(ctx context.Context, j Job) Verdict {
	start := time.Now()
	timeout := j.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	attempts := max(j.Attempts, 1)
	backoff := j.Backoff
	if backoff == nil {
		backoff = DefaultBackoff
	}
	name := j.Channel.Name()
	v := Verdict{Channel: name}
	pages := j.Message.Pages
	v.Sent = min(max(j.From, 0), len(pages))
	var err error
	for v.Attempts < attempts {
		v.Attempts++
		if len(pages) == 0 {
			err = attempt(ctx, timeout, func(actx context.Context) error { return sendWhole(actx, j) })
		} else {
			for err = nil; err == nil && v.Sent < len(pages); {
				if err = attempt(ctx, timeout, func(actx context.Context) error {
					return j.Channel.Send(actx, j.Message.Subject, pages[v.Sent])
				}); err != nil {
					err = fmt.Errorf("message %d of %d: %w", v.Sent+1, len(pages), err)
					break
				}
				v.Sent++
				if j.Sent != nil {
					j.Sent(v.Sent)
				}
			}
		}
		if err == nil || IsPermanent(err) || v.Attempts == attempts {
			break
		}
		if err = pause(ctx, err, backoff(v.Attempts)); err != nil {
			v.Attempts = attempts
		}
	}
	if err == nil {
		if j.Delivered != nil {
			j.Delivered()
		}
		v.Warnings = sendAttachments(ctx, j, timeout, attempts, backoff)
	}
	v.Elapsed = time.Since(start)
	if err != nil {
		if prefix := fmt.Sprintf("channel %q: ", name); !strings.HasPrefix(err.Error(), prefix) {
			err = fmt.Errorf("%s%w", prefix, err) // else the channel named itself already
		}
		v.Err = j.Redactor.Error(err)
	}
	return v
}

// pause waits before the retry that follows err: wait, or longer if err
// says when to try again (capped at MaxRetryAfter). It returns nil when the
// retry may go, or err with why not when ctx ended first.
func pause(ctx context.Context, err error, wait time.Duration) error {
	var ra *RetryAfterError
	if errors.As(err, &ra) && ra.After > wait {
		wait = min(ra.After, MaxRetryAfter)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("%w (gave up: %w)", err, context.Cause(ctx))
	case <-t.C:
		return nil
	}
}

// sendAttachments posts the message's attachments, in order, through a
// channel that sends them as messages of their own, each with up to
// attempts tries. The report is out already, so a failure costs nothing
// but that attachment: it is returned as a warning, redacted, and the
// next attachment is tried.
func sendAttachments(ctx context.Context, j Job, timeout time.Duration, attempts int, backoff func(int) time.Duration) []string {
	as, ok := j.Channel.(AttachmentSender)
	if !ok {
		return nil
	}
	var warnings []string
	for _, a := range j.Message.Attachments {
		var err error
		for n := 1; ; n++ {
			err = attempt(ctx, timeout, func(actx context.Context) error { return as.SendAttachment(actx, a) })
			if err == nil || IsPermanent(err) || n == attempts {
				break
			}
			if err = pause(ctx, err, backoff(n)); err != nil {
				break
			}
		}
		if err != nil {
			err = fmt.Errorf("channel %q: the report was delivered, but not the attached %s: %w", j.Channel.Name(), a.Name, err)
			warnings = append(warnings, j.Redactor.Error(err).Error())
		}
	}
	return warnings
}

// attempt runs send with a context that ends after timeout.
func attempt(ctx context.Context, timeout time.Duration, send func(context.Context) error) error {
	actx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("timed out after %s", timeout))
	defer cancel()
	return send(actx)
}

// sendWhole delivers a message that is not split: every rendering at once to
// a MessageSender, else the body in the channel's first format.
func sendWhole(ctx context.Context, j Job) error {
	if ms, ok := j.Channel.(MessageSender); ok {
		return ms.SendMessage(ctx, j.Message)
	}
	formats := j.Channel.Formats()
	if len(formats) == 0 {
		return Permanent(errors.New("channel declares no format"))
	}
	return j.Channel.Send(ctx, j.Message.Subject, j.Message.Bodies[formats[0]])
}
