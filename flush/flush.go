// Package flush is the flush procedure, readable top to bottom: claim the
// pending bans, build a digest of what each channel has not yet received,
// render and send it to every channel in parallel, record in the ledger what
// each channel confirmed, delete the batches that every channel has, and
// remove the flag file.
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
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/report"
)

// Options tune one flush.
type Options struct {
	IfFlag bool      // do nothing unless the flag file exists
	Now    time.Time // zero: time.Now()
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
}

// ChannelResult is one channel's part of a flush.
type ChannelResult struct {
	Name     string
	Batches  int // batches in its report; 0 when it had nothing new
	Bans     int
	Attempts int
	Skipped  bool // its batches held no new ban: confirmed without a message
	Held     bool // fewer bans than its min_bans: nothing sent, nothing confirmed
	Err      error
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

// Run flushes the buffer of cfg to the given targets (see Prepare). It returns
// an error only when the flush itself could not proceed; per-channel failures
// are in the result.
func Run(ctx context.Context, cfg *config.Config, targets []*Target, opt Options) (*Result, error) {
	if len(targets) == 0 {
		return nil, fmt.Errorf("no enabled channel in %s: nothing would receive the report, so nothing is flushed", cfg.File)
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	buf := buffer.New(cfg.Buffer.Dir, cfg.Buffer.Fsync)
	res := &Result{}

	// Single flight: a second flush leaves at once.
	unlock, ok, err := buf.TryLockFlush()
	if err != nil {
		return nil, err
	}
	if !ok {
		res.Busy = true
		return res, nil
	}
	defer unlock()

	flagged := flagExists(cfg.Flag)
	if opt.IfFlag && !flagged {
		res.NoFlag = true
		return res, nil
	}

	// 1. Claim what is pending; new bans go to a fresh file meanwhile.
	batch, err := buf.Claim(opt.Now)
	if err != nil {
		return nil, err
	}
	res.Claimed = batch != nil

	ledger, err := buf.LoadLedger()
	if err != nil {
		return nil, err
	}
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Name
	}

	// 2. Retention: drop what is too old or too much, counting it per channel.
	batches, err := buf.Batches()
	if err != nil {
		return nil, err
	}
	batches, res.Dropped, err = applyRetention(buf, ledger, names, batches, cfg.Buffer, opt.Now)
	if err != nil {
		return nil, err
	}
	res.Batches = len(batches)

	// 3. Per channel, the batches it has not confirmed; one digest per distinct set.
	digests := map[string]*report.Digest{}
	res.Channels = make([]ChannelResult, len(targets))
	todo := make([][]buffer.Batch, len(targets))
	jobs := make([]*channels.Job, len(targets))
	for i, t := range targets {
		cr := &res.Channels[i]
		cr.Name = t.Name
		state := ledger.Channel(t.Name)
		todo[i] = unconfirmed(batches, state)
		cr.Batches = len(todo[i])
		if len(todo[i]) == 0 {
			// Nothing to send; a broken configuration is still reported, so
			// that cron sees it before bans arrive.
			cr.Err = t.Err
			continue
		}
		key := batchKey(todo[i]) + "|" + strings.Join(t.Config.Jails, ",")
		d, ok := digests[key]
		if !ok {
			if d, err = DigestFor(cfg, batchPaths(todo[i]), t.Config.Jails); err != nil {
				return nil, err
			}
			digests[key] = d
		}
		cr.Bans = d.Totals.Bans
		if cr.Err = t.Err; cr.Err != nil {
			continue
		}
		d = ForChannel(d, state)
		if !worthSending(d) {
			cr.Skipped = true // nothing new to say: only unbans or restored bans
			continue
		}
		if d.Totals.Bans < t.Config.MinBans && d.Notes.TornLines == 0 && d.Notes.Dropped == 0 {
			cr.Held = true // fewer bans than min_bans: kept for a later report
			continue
		}
		msg, err := t.Render(d)
		if cr.Err = err; err != nil {
			continue
		}
		jobs[i] = &channels.Job{Channel: t.Channel, Message: msg, Timeout: t.Config.Timeout, Attempts: t.Config.Attempts()}
	}

	// 4. Send in parallel; 5. record each verdict in the ledger as it comes.
	var mu sync.Mutex
	var ledgerErr error
	record := func(i int) {
		mu.Lock()
		defer mu.Unlock()
		cr := &res.Channels[i]
		st := ledger.Channel(cr.Name)
		st.LastAttempt = opt.Now
		if cr.Err != nil {
			st.Missed++
			st.LastError = cr.Err.Error()
		} else {
			for _, b := range todo[i] {
				if !st.Has(b.ID) {
					st.Confirmed = append(st.Confirmed, b.ID)
				}
			}
			st.Missed, st.Dropped, st.LastError = 0, 0, ""
			if !cr.Skipped {
				st.LastSuccess = opt.Now
			}
		}
		if err := buf.SaveLedger(ledger); err != nil && ledgerErr == nil {
			ledgerErr = err
		}
	}
	sendCtx, cancel := context.WithTimeout(ctx, cfg.Flush.Timeout)
	defer cancel()
	var wg sync.WaitGroup
	for i := range targets {
		cr := &res.Channels[i]
		switch {
		case cr.Batches == 0, cr.Held:
			// nothing new for this channel, or not enough yet
		case jobs[i] == nil:
			record(i) // broken configuration or template, or nothing worth sending
		default:
			wg.Go(func() {
				v := channels.Deliver(sendCtx, *jobs[i])
				cr.Attempts, cr.Err = v.Attempts, v.Err
				record(i)
			})
		}
	}
	wg.Wait()
	if ledgerErr != nil {
		return res, ledgerErr
	}

	// 6. Delete the batches every enabled channel has confirmed.
	for _, b := range batches {
		if confirmedByAll(ledger, names, b.ID) {
			if err := buf.RemoveBatch(b.ID); err != nil {
				return res, err
			}
			ledger.Forget(b.ID)
			res.Deleted++
		}
	}
	if err := buf.SaveLedger(ledger); err != nil {
		return res, err
	}

	// 7. The report is done: the flag goes. Channels that failed keep their
	// bans and get them at the next flush.
	if flagged {
		if err := os.Remove(cfg.Flag); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return res, fmt.Errorf("remove flag %s: %w", cfg.Flag, err)
		}
	}
	return res, nil
}

// Digest builds the digest of the records in files, in order.
func Digest(cfg *config.Config, files []string) (*report.Digest, error) {
	return DigestFor(cfg, files, nil)
}

// DigestFor builds the digest of the records in files that belong to one of
// jails (all records when jails is empty).
func DigestFor(cfg *config.Config, files []string, jails []string) (*report.Digest, error) {
	// Every file stays open until the digest is built: its log lines are
	// read back from it by reference, also if a flush running meanwhile
	// (preview takes no lock) renames or deletes it. The builder shares the
	// slice, so it sees each file as it is opened.
	open := make([]*os.File, len(files))
	defer func() {
		for _, f := range open {
			if f != nil {
				f.Close()
			}
		}
	}()
	b := report.NewBuilder(report.Options{
		Files:           open,
		Host:            cfg.Hostname(),
		MaxUsers:        cfg.Report.MaxUsers,
		MaxMatches:      cfg.Report.MaxMatches,
		MaxOffenders:    cfg.Report.MaxOffenders,
		IncludeRestored: cfg.Report.IncludeRestored,
	})
	for i, name := range files {
		f, st, err := buffer.OpenScan(name, buffer.ScanOptions{SkipMatches: true}, func(r *buffer.Record, off int64, n int) error {
			if len(jails) == 0 || slices.Contains(jails, r.Jail) {
				b.AddRef(r, report.LineRef{File: int32(i), Off: off, Len: int32(n)})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		open[i] = f
		if st.Records+st.Torn > 0 {
			b.AddStats(st, 1)
		}
	}
	return b.Digest(), nil
}

// ForChannel returns a copy of d with the notes that concern one channel:
// reports it missed, and records retention dropped before it got them.
func ForChannel(d *report.Digest, st *buffer.ChannelState) *report.Digest {
	c := *d
	c.Notes.MissedReports = st.Missed
	c.Notes.Dropped = st.Dropped
	c.Notes.LastSuccess = st.LastSuccess
	return &c
}

// worthSending reports whether a digest has something to tell: new bans, or
// a note about lost or damaged records.
func worthSending(d *report.Digest) bool {
	return d.Totals.Bans > 0 || d.Notes.TornLines > 0 || d.Notes.Dropped > 0
}

func unconfirmed(batches []buffer.Batch, st *buffer.ChannelState) []buffer.Batch {
	var out []buffer.Batch
	for _, b := range batches {
		if !st.Has(b.ID) {
			out = append(out, b)
		}
	}
	return out
}

func confirmedByAll(l *buffer.Ledger, names []string, id string) bool {
	for _, n := range names {
		if !l.Channel(n).Has(id) {
			return false
		}
	}
	return true
}

func batchKey(bs []buffer.Batch) string {
	ids := make([]string, len(bs))
	for i, b := range bs {
		ids[i] = b.ID
	}
	return strings.Join(ids, ",")
}

func batchPaths(bs []buffer.Batch) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Path
	}
	return out
}

// applyRetention deletes the oldest batches while they are older than
// MaxAge or the spool is larger than MaxSizeMB. Each channel that had not
// received a deleted batch has its records added to its Dropped count, which
// its next report shows.
func applyRetention(buf *buffer.Buffer, l *buffer.Ledger, names []string, batches []buffer.Batch, bc config.Buffer, now time.Time) ([]buffer.Batch, int, error) {
	var total int64
	for _, b := range batches {
		total += b.Size
	}
	maxSize := bc.MaxSizeMB << 20
	dropped := 0
	keep := slices.Clone(batches)
	for len(keep) > 0 {
		b := keep[0]
		old := bc.MaxAge > 0 && now.Sub(b.Claimed) > bc.MaxAge
		big := maxSize > 0 && total > maxSize
		if !old && !big {
			break
		}
		st, err := buffer.ScanFile(b.Path, func(*buffer.Record) error { return nil })
		if err != nil {
			return nil, 0, err
		}
		for _, n := range names {
			if cs := l.Channel(n); !cs.Has(b.ID) {
				cs.Dropped += st.Records
			}
		}
		if err := buf.RemoveBatch(b.ID); err != nil {
			return nil, 0, err
		}
		l.Forget(b.ID)
		dropped += st.Records
		total -= b.Size
		keep = keep[1:]
	}
	if dropped > 0 {
		if err := buf.SaveLedger(l); err != nil {
			return nil, 0, err
		}
	}
	return keep, dropped, nil
}

func flagExists(path string) bool {
	if path == "" {
		return false
	}
	_, err := os.Stat(path)
	return err == nil
}
