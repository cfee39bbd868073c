package flush

import (
	"context"
	"sync"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/channels"
)

// send carries out every channel's plan, the channels in parallel within
// flush.timeout, each verdict settled in the ledger as it comes. It returns
// the first ledger save that failed.
func (f *flusher) send(ctx context.Context, plans []plan) error {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Flush.Timeout)
	defer cancel()
	var wg sync.WaitGroup
	for i := range plans {
		if plans[i].resume != nil || plans[i].send != nil {
			wg.Go(func() { f.sendChannel(ctx, i, &plans[i]) })
		} else {
			f.settle(ctx, i, &plans[i]) // nothing to send: the ledger only
		}
	}
	wg.Wait()
	return f.ledger.saveErr()
}

// sendChannel carries out the plan of channel i: the new report waits until
// the rest of an interrupted one is out.
func (f *flusher) sendChannel(ctx context.Context, i int, pl *plan) {
	cr := &f.res.Channels[i]
	if pl.resume != nil {
		v := f.deliver(ctx, i, pl.resume)
		cr.Resumed = v.Sent - pl.resume.job.From
		if v.Err != nil {
			cr.Err = v.Err
			return
		}
	}
	f.settle(ctx, i, pl)
}

// settle does what is left of the plan of channel i once any interrupted
// report is out: send the new report, or record the channel's failure to
// render one (a missed report), or confirm the batches with nothing for it.
func (f *flusher) settle(ctx context.Context, i int, pl *plan) {
	cr := &f.res.Channels[i]
	switch {
	case pl.send != nil:
		cr.Err = f.deliver(ctx, i, pl.send).Err
	case cr.Batches > 0 && cr.Err != nil:
		f.ledger.fail(cr.Name, cr.Err) // a broken configuration or template
	case pl.confirm != nil:
		f.ledger.confirm(cr.Name, pl.confirm)
	}
}

// deliver sends one report to channel i and records the verdict: the
// delivery as soon as the report is out, before its attachments. Each
// message of a split report is written to the ledger as it is delivered,
// with the report: if the flush fails or dies part way, the next one sends
// only the rest.
func (f *flusher) deliver(ctx context.Context, i int, s *step) channels.Verdict {
	t, cr := f.targets[i], &f.res.Channels[i]
	s.job.Sent = func(n int) {
		if n < len(s.job.Message.Pages) { // the whole report: delivered confirms it
			f.ledger.partial(t.Name, &buffer.Partial{
				Batches: s.batches, Format: string(t.Channel.Formats()[0]),
				Subject: s.job.Message.Subject, Pages: s.job.Message.Pages, Sent: n,
			})
		}
	}
	// Recorded before the attachments go, which may take the channel's
	// timeout times its attempts: a flush that dies then does not send the
	// report again.
	s.job.Delivered = func() {
		f.ledger.delivered(t.Name, s.batches, s.jails)
		f.extras.deliveredDigest(t.Name, s.digest)
	}
	s.job.Backoff = f.backoff
	v := channels.Deliver(ctx, s.job)
	cr.Attempts += v.Attempts
	cr.Warnings = append(cr.Warnings, v.Warnings...)
	if v.Err != nil {
		f.ledger.fail(t.Name, v.Err)
	}
	return v
}
