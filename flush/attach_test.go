package flush_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/flush"
)

// attaching is a channel that posts the chart as a message of its own after
// its report, running during while it does.
type attaching struct {
	memChannel
	during func() error
	charts int
}

func (a *attaching) Attaches(k channels.AttachmentKind) bool { return k == channels.Chart }

func (a *attaching) SendAttachment(ctx context.Context, att channels.Attachment) error {
	a.charts++
	return a.during()
}

// TestDeliveredBeforeItsAttachments: the ledger says that a channel has its
// report as soon as the report is out, before its chart is sent (which may
// take the channel's timeout times its attempts): a flush killed while it
// sends the chart would otherwise leave the bans unconfirmed, and the next
// flush would post the same report again. A chart that fails is a warning
// and the bans are confirmed.
func TestDeliveredBeforeItsAttachments(t *testing.T) {
	e := newEnv(t)
	var confirmedDuring []string
	ch := &attaching{memChannel: memChannel{name: "chat"}}
	ch.during = func() error {
		confirmedDuring = e.ledger(t).Channel("chat").Confirmed
		return channels.Permanent(errors.New("HTTP 400 Bad Request"))
	}
	tg := targets(t, ch)
	now := time.Now()
	e.ban(t, "192.0.2.1", float64(now.Add(-time.Hour).Unix()))
	e.ban(t, "192.0.2.2", float64(now.Unix()))

	res := e.run(t, tg, flush.Options{Now: now})
	if ch.charts != 1 || len(ch.received()) != 1 {
		t.Fatalf("the channel got %d reports and %d charts, want one of each", len(ch.received()), ch.charts)
	}
	if len(confirmedDuring) != 1 {
		t.Errorf("while the chart was sent, the ledger confirmed %q for the channel: a flush killed then would send the report again", confirmedDuring)
	}
	c := res.Channels[0]
	if c.Err != nil || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "the report was delivered, but not the attached bans.png: HTTP 400") {
		t.Errorf("channel result %+v, want delivered with one warning", c)
	}
	if res.Deleted != 1 {
		t.Errorf("%d batches deleted, want the one the report confirmed", res.Deleted)
	}
}
