// Package flush is the flush procedure, in stages that read top to bottom
// (see flusher.run): claim the pending bans, apply retention, plan per
// channel what it is owed (the rest of a split report cut off, then a digest
// of the batches it has not confirmed, rendered by package render), send to
// every channel in parallel, settle the ledger with each verdict, sweep the
// batches that every channel has, and remove the flag file.
//
// Delivery is at least once: a crash between a send and its ledger record
// makes that channel receive those bans again, never lose them.
package flush

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/render"
	"github.com/f2b-notify/f2b-notify/report"
)

// Options tune one flush.
type Options struct {
	IfFlag bool // do nothing unless the flag file exists
	// NoEmpty sends no report without bans, whatever report.send_empty
	// says: for the flush that a stopping jail starts to send what is
	// pending, which is no scheduled report.
	NoEmpty bool
	Now     time.Time // zero: time.Now()
	// Backoff is the wait before a channel's retry number n; nil is
	// channels.DefaultBackoff.
	Backoff func(n int) time.Duration
}

// Result is what a flush did.
type Result struct {
	Busy     bool // another flush was running; this one did nothing
	NoFlag   bool // IfFlag was set and there was no flag file
	Claimed  bool // pending bans were moved into a new batch
	Batches  int  // batches in the spool at send time
	Dropped  int  // records deleted by retention in this flush
	Deleted  int  // batches deleted because every channel had them
	Channels []ChannelResult
	// Metrics is why the metrics file (metrics.textfile) could not be
	// written: a warning, the flush itself went on.
	Metrics error
	// HistoryErr is why the reports delivered could not be recorded in
	// the history; the next report says so too. It fails nothing.
	HistoryErr error
}

// ChannelResult is one channel's part of a flush.
type ChannelResult struct {
	Name     string
	Batches  int // batches in its report; 0 when it had nothing new
	Bans     int
	Attempts int
	Skipped  bool // its batches held no new ban, only unbans or restored bans: nothing sent, and they wait, unconfirmed, for its next report
	Resumed  int  // messages sent to finish a split report an earlier flush left half sent
	Held     bool // fewer bans than its min_bans: nothing sent, nothing confirmed
	Empty    bool // a report without bans, as report.send_empty asks
	Err      error
	// Warnings are the attachments of its delivered report that could not
	// be sent (the report and its bans count as delivered).
	Warnings []string
}

// Failed lists the channels whose delivery failed.
func (r *Result) Failed() []ChannelResult {
	var out []ChannelResult
	for _, c := range r.Channels {
		if c.Err != nil {
			out = append(out, c)
		}
	}
	return out
}

// Run flushes the buffer of cfg to the given targets (see render.Prepare).
// It returns an error only when the flush itself could not proceed;
// per-channel failures are in the result.
func Run(ctx context.Context, cfg *config.Config, targets []*render.Target, opt Options) (*Result, error) {
	if len(targets) == 0 {
		return nil, fmt.Errorf("no enabled channel in %s: nothing would receive the report, so nothing is flushed", cfg.File)
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	f := &flusher{
		cfg: cfg, buf: buffer.New(cfg.Buffer.Dir, cfg.Buffer.Fsync), targets: targets, now: opt.Now, backoff: opt.Backoff,
		sendEmpty: cfg.Report.SendEmpty && !opt.NoEmpty, res: &Result{},
		fail2ban: sync.OnceValue(func() *report.Fail2ban { return Fail2ban(cfg) }),
	}

	// Single flight: a second flush leaves at once.
	unlock, ok, err := f.buf.TryLockFlush()
	if err != nil {
		return nil, err
	}
	if !ok {
		f.res.Busy = true
		return f.res, nil
	}
	defer unlock()

	// The flag: a regular file asks for this report. A flag that an
	// earlier flush could not remove, or a folder or a link at its path,
	// does not: --if-flag then fails loudly instead of sending a report
	// each time it runs.
	flag := f.buf.Flag(cfg.Flag)
	if opt.IfFlag {
		switch flag.State {
		case buffer.FlagAbsent:
			f.res.NoFlag = true
			return f.res, nil
		case buffer.FlagStuck, buffer.FlagNotFile:
			return nil, fmt.Errorf("flag %s: %s; nothing sent", cfg.Flag, flag.Describe())
		}
	}
	start := time.Now()
	res, err := f.run(ctx, flag)
	f.res.Metrics = f.writeMetrics(time.Since(start))
	return res, err
}

// flusher is one flush, under the flush lock.
type flusher struct {
	cfg     *config.Config
	buf     *buffer.Buffer
	targets []*render.Target
	now     time.Time
	backoff func(n int) time.Duration // nil: channels.DefaultBackoff
	// sendEmpty: a channel with no ban to be sent gets a report saying so.
	sendEmpty bool
	// fail2ban is what the report without bans says of fail2ban, looked
	// at once per flush (see Fail2ban).
	fail2ban func() *report.Fail2ban
	ledger   *book // set by claim
	extras   *Extras
	res      *Result
}

// run is the flush, stage by stage.
func (f *flusher) run(ctx context.Context, flag buffer.Flag) (*Result, error) {
	// 1. Claim what is pending; new bans go to a fresh file meanwhile.
	batches, err := f.claim()
	if err != nil {
		return nil, err
	}
	// 2. Retention: drop what is too old or too much, counting it per channel.
	if batches, err = f.retain(batches); err != nil {
		return nil, err
	}
	f.res.Batches = len(batches)
	// 3. Per channel: what it is owed, rendered, with what the GeoIP
	// databases and the history tell (opened for the first digest).
	defer func() { f.extras.Close() }()
	plans := f.plan(batches)
	// 4. Send in parallel; 5. settle the ledger with each verdict as it
	// comes, then record the reports delivered in the history.
	if err := f.send(ctx, plans); err != nil {
		return f.res, err
	}
	f.res.HistoryErr = f.remember()
	// 6. Delete the batches every enabled channel has confirmed.
	if err := f.sweep(batches); err != nil {
		return f.res, err
	}
	// 7. The report is done: the flag goes. Channels that failed keep their
	// bans and get them at the next flush.
	return f.res, f.removeFlag(flag)
}

// claim moves the pending bans (and the files of their own written while
// the lock was busy) into the spool, opens the ledger, and returns the
// batches of the spool, oldest first.
func (f *flusher) claim() ([]buffer.Batch, error) {
	claimed, err := f.buf.Claim(f.now)
	if err != nil {
		return nil, err
	}
	f.res.Claimed = len(claimed) > 0
	names := make([]string, len(f.targets))
	for i, t := range f.targets {
		names[i] = t.Name
	}
	if f.ledger, err = openBook(f.buf, names, f.now); err != nil {
		return nil, err
	}
	return f.buf.Batches()
}

// retain deletes the oldest batches while they are older than max_age or
// the spool is larger than max_size_mb. Each channel that had not received
// a deleted batch has its records added to its Dropped count, which its
// next report shows. It returns the batches kept.
func (f *flusher) retain(batches []buffer.Batch) ([]buffer.Batch, error) {
	bc := f.cfg.Buffer
	var total int64
	for _, b := range batches {
		total += b.Size
	}
	var gone []dropped
	for len(batches) > 0 {
		b := batches[0]
		old := bc.MaxAge > 0 && f.now.Sub(b.Claimed) > bc.MaxAge
		big := bc.MaxSizeMB > 0 && total > bc.MaxSizeMB<<20
		if !old && !big {
			break
		}
		st, err := buffer.ScanFile(b.Path, func(*buffer.Record) error { return nil })
		if err != nil {
			return nil, err
		}
		if err := f.buf.RemoveBatch(b.ID); err != nil {
			return nil, err
		}
		gone = append(gone, dropped{id: b.ID, records: st.Records})
		f.res.Dropped += st.Records
		total -= b.Size
		batches = batches[1:]
	}
	return batches, f.ledger.drop(gone)
}

// sweep deletes the batches that every enabled channel has confirmed.
func (f *flusher) sweep(batches []buffer.Batch) error {
	var gone []string
	for _, id := range f.ledger.done(batches) {
		if err := f.buf.RemoveBatch(id); err != nil {
			return err
		}
		gone = append(gone, id)
	}
	f.res.Deleted = len(gone)
	return f.ledger.forget(gone)
}

// removeFlag removes the flag file once its report is done, and says so in
// the buffer; a flag that cannot be removed is recorded as such, so that
// bans start no flush for it.
func (f *flusher) removeFlag(flag buffer.Flag) error {
	if flag.State == buffer.FlagSet || flag.State == buffer.FlagStuck {
		if err := os.Remove(f.cfg.Flag); err != nil && !errors.Is(err, fs.ErrNotExist) {
			// Left there, it would make every ban start a flush and send
			// a report: the ban path starts none for this same file.
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the path is named once
			}
			err = fmt.Errorf("remove flag %s: %w", f.cfg.Flag, err)
			if rerr := f.buf.FlagNotRemoved(flag, err); rerr != nil {
				return fmt.Errorf("%w; and %w", err, rerr)
			}
			return fmt.Errorf("%w; bans start no flush for this flag until it is created anew: remove it by hand", err)
		}
	}
	if err := f.buf.FlagRemoved(); err != nil {
		return err
	}
	if flag.State == buffer.FlagNotFile {
		return fmt.Errorf("flag %s: %s", f.cfg.Flag, flag.Describe())
	}
	return nil
}
