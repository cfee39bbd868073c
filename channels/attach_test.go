package channels_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/channels"
)

// postChannel posts the report, then each attachment as a message of its
// own, failing as its script says: the errors, in order, of the
// attachment calls (nil for a success).
type postChannel struct {
	mu      sync.Mutex
	reports int
	posted  []string // names of the attachments delivered
	calls   int
	script  []error
}

func (c *postChannel) Name() string                          { return "post" }
func (c *postChannel) Formats() []channels.Format            { return []channels.Format{channels.Text} }
func (c *postChannel) Limit() int                            { return 0 }
func (c *postChannel) Attaches(channels.AttachmentKind) bool { return true }
func (c *postChannel) Send(context.Context, string, string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reports++
	return nil
}

func (c *postChannel) SendAttachment(_ context.Context, a channels.Attachment) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var err error
	if c.calls < len(c.script) {
		err = c.script[c.calls]
	}
	c.calls++
	if err == nil {
		c.posted = append(c.posted, a.Name)
	}
	return err
}

// TestDeliverSendsAttachmentsAfterTheReport: the attachments follow the
// report, a retryable failure is retried, and an attachment that cannot be
// sent is a redacted warning, not a failed report (the report, delivered,
// is not posted again).
func TestDeliverSendsAttachmentsAfterTheReport(t *testing.T) {
	const secret = "TOKEN-abcdef-123456"
	msg := channels.Message{Bodies: map[channels.Format]string{channels.Text: "report"}, Attachments: []channels.Attachment{
		{Kind: channels.Chart, Name: "bans.png", Type: "image/png", Data: []byte("png")},
		{Kind: channels.FullList, Name: "offenders.csv", Type: "text/csv", Data: []byte("ip\n")},
	}}
	retry := &channels.RetryAfterError{Err: errors.New("HTTP 429"), After: time.Millisecond}
	for _, tt := range []struct {
		name     string
		script   []error
		posted   string
		calls    int
		warnings int
	}{
		{"all delivered", nil, "bans.png offenders.csv", 2, 0},
		{"a 429, then delivered", []error{retry}, "bans.png offenders.csv", 3, 0},
		{"a final error for the chart", []error{channels.Permanent(fmt.Errorf("HTTP 400 for /bot%s/sendPhoto", secret))}, "offenders.csv", 2, 1},
		{"the list fails every attempt", []error{nil, errors.New("HTTP 502"), errors.New("HTTP 502"), errors.New("HTTP 502")}, "bans.png", 4, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ch := &postChannel{script: tt.script}
			delivered := []int{} // the attachment calls made when the report was said delivered
			v := channels.Deliver(t.Context(), channels.Job{Channel: ch, Message: msg, Attempts: 3, Timeout: 5 * time.Second,
				Backoff: func(int) time.Duration { return time.Millisecond }, Redactor: channels.NewRedactor([]string{secret}),
				Delivered: func() { delivered = append(delivered, ch.calls) }})
			if v.Err != nil {
				t.Fatalf("verdict %v, want the report delivered", v.Err)
			}
			if len(delivered) != 1 || delivered[0] != 0 {
				t.Errorf("Delivered told after attachment calls %v; want once, before the first", delivered)
			}
			if ch.reports != 1 || strings.Join(ch.posted, " ") != tt.posted || ch.calls != tt.calls {
				t.Errorf("reports %d, attachments %q in %d calls; want 1, %q in %d", ch.reports, ch.posted, ch.calls, tt.posted, tt.calls)
			}
			if len(v.Warnings) != tt.warnings {
				t.Fatalf("warnings %q, want %d", v.Warnings, tt.warnings)
			}
			for _, w := range v.Warnings {
				if strings.Contains(w, secret) || !strings.Contains(w, "the report was delivered, but not the attached") {
					t.Errorf("warning %q: want it redacted and saying the report was delivered", w)
				}
			}
		})
	}
}

// TestDeliverSendsNoAttachmentAfterAFailedReport: attachments go with a
// delivered report only.
func TestDeliverSendsNoAttachmentAfterAFailedReport(t *testing.T) {
	ch := &failingReport{}
	v := channels.Deliver(t.Context(), channels.Job{Channel: ch, Attempts: 2, Timeout: time.Second,
		Backoff:   func(int) time.Duration { return time.Millisecond },
		Delivered: func() { t.Error("a failed report was said delivered") },
		Message: channels.Message{Bodies: map[channels.Format]string{channels.Text: "report"},
			Attachments: []channels.Attachment{{Kind: channels.Chart, Name: "bans.png"}}}})
	if v.Err == nil || ch.calls != 0 {
		t.Errorf("verdict %v, %d attachment calls; want a failure and none", v.Err, ch.calls)
	}
}

type failingReport struct{ postChannel }

func (c *failingReport) Send(context.Context, string, string) error { return errors.New("HTTP 503") }
