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

	// The flag: a regular file asks for this report. A flag that an
	// earlier flush could not remove, or a folder or a link at its path,
	// does not: --if-flag then fails loudly instead of sending a report
	// each time it runs.
	flag := buf.Flag(cfg.Flag)
	if opt.IfFlag {
		switch flag.State {
		case buffer.FlagAbsent:
			res.NoFlag = true
			return res, nil
		case buffer.FlagStuck, buffer.FlagNotFile:
			return nil, fmt.Errorf("flag %s: %s; nothing sent", cfg.Flag, flag.Describe())
		}
	}
	flagged := flag.State == buffer.FlagSet || flag.State == buffer.FlagStuck

	// 1. Claim what is pending; new bans go to a fresh file meanwhile.
	claimed, err := buf.Claim(opt.Now)
	if err != nil {
		return nil, err
	}
	res.Claimed = len(claimed) > 0

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

	// 3. Per channel: the rest of a split report that a failed flush left
	// half sent, then a report of the batches it has not confirmed (one
	// digest per distinct set).
	digests := map[string]*report.Digest{}
	res.Channels = make([]ChannelResult, len(targets))
	plans := make([]plan, len(targets))
	for i, t := range targets {
		cr := &res.Channels[i]
		cr.Name = t.Name
		state := ledger.Channel(t.Name)
		pl := &plans[i]
		var rest *buffer.Partial
		rest, pl.todo = Pending(t, state, batches)
		if rest == nil && t.Err == nil {
			state.Partial = nil // nothing to resume, or not in this channel's format any more: sent whole again
		}
		if rest != nil {
			pl.resume = &step{
				job:     t.Job(channels.Message{Subject: rest.Subject, Pages: rest.Pages}),
				batches: presentIDs(batches, rest.Batches),
			}
			pl.resume.job.From = rest.Sent
		}
		cr.Batches = len(pl.todo)
		if len(pl.todo) == 0 {
			// Nothing new to send; a broken configuration is still reported,
			// so that cron sees it before bans arrive.
			cr.Err = t.Err
			continue
		}
		key := batchKey(pl.todo) + "|" + strings.Join(t.Config.Jails, ",")
		d, ok := digests[key]
		if !ok {
			if d, err = DigestFor(cfg, buffer.Paths(pl.todo), t.Config.Jails); err != nil {
				cr.Err = err // this channel's report only: the others are sent
				continue
			}
			digests[key] = d
		}
		cr.Bans = d.Totals.Bans
		if cr.Err = t.Err; cr.Err != nil {
			continue
		}
		d = ForChannel(d, state)
		if !worthSending(d) {
			if !holdsRecords(d) {
				// Only records of jails it does not take: nothing for it.
				pl.confirm, cr.Batches = batchIDs(pl.todo), 0
				continue
			}
			// Nothing new to say: only unbans or restored bans. They are
			// not confirmed, so the next report sent shows them (and
			// retention still bounds them).
			cr.Skipped = true
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
		pl.send = &step{
			job:     t.Job(msg),
			batches: batchIDs(pl.todo),
		}
	}

	// 4. Send in parallel; 5. record each verdict in the ledger as it comes.
	var mu sync.Mutex
	var ledgerErr error
	save := func() {
		if err := buf.SaveLedger(ledger); err != nil && ledgerErr == nil {
			ledgerErr = err
		}
	}
	// record notes the outcome of one message to channel i (or of none: a
	// channel that cannot render, or batches with nothing for it); on
	// success the channel has ids.
	record := func(i int, err error, ids []string, sent bool) {
		mu.Lock()
		defer mu.Unlock()
		st := ledger.Channel(res.Channels[i].Name)
		if err != nil || sent {
			st.LastAttempt = opt.Now
		}
		if err != nil {
			st.Missed++
			st.LastError = err.Error()
		} else {
			have := idSet(st.Confirmed)
			for _, id := range ids {
				if !have[id] {
					st.Confirmed = append(st.Confirmed, id)
					have[id] = true
				}
			}
			if sent {
				st.Missed, st.Dropped, st.LastError, st.Partial = 0, 0, "", nil
				st.LastSuccess = opt.Now
			}
		}
		save()
	}
	// deliver sends one step to channel i. Each message of a split report
	// is written to the ledger as it is delivered, with the report: if the
	// flush fails or dies part way, the next one sends only the rest.
	deliver := func(ctx context.Context, i int, s *step) error {
		cr := &res.Channels[i]
		s.job.Sent = func(n int) {
			if n >= len(s.job.Message.Pages) {
				return // the whole report: record confirms it
			}
			mu.Lock()
			defer mu.Unlock()
			ledger.Channel(cr.Name).Partial = &buffer.Partial{
				Batches: s.batches, Format: string(targets[i].Channel.Formats()[0]),
				Subject: s.job.Message.Subject, Pages: s.job.Message.Pages, Sent: n,
			}
			save()
		}
		s.job.Backoff = opt.Backoff
		v := channels.Deliver(ctx, s.job)
		cr.Attempts += v.Attempts
		if s == plans[i].resume {
			cr.Resumed = v.Sent - s.job.From
		}
		record(i, v.Err, s.batches, true)
		return v.Err
	}
	sendCtx, cancel := context.WithTimeout(ctx, cfg.Flush.Timeout)
	defer cancel()
	var wg sync.WaitGroup
	for i := range targets {
		cr, pl := &res.Channels[i], &plans[i]
		// What to do once the rest of an interrupted report (if any) is out.
		var then func()
		switch {
		case pl.send != nil:
			then = func() { cr.Err = deliver(sendCtx, i, pl.send) }
		case cr.Batches > 0 && cr.Err != nil:
			// a broken configuration or template: a missed report
			then = func() { record(i, cr.Err, nil, false) }
		case pl.confirm != nil:
			then = func() { record(i, nil, pl.confirm, false) }
		}
		switch {
		case pl.resume != nil:
			wg.Go(func() {
				if err := deliver(sendCtx, i, pl.resume); err != nil {
					cr.Err = err // the new report waits until the old one is out
					return
				}
				if then != nil {
					then()
				}
			})
		case pl.send != nil:
			wg.Go(then)
		case then != nil:
			then()
		}
	}
	wg.Wait()
	if ledgerErr != nil {
		return res, ledgerErr
	}

	// 6. Delete the batches every enabled channel has confirmed.
	have := confirmedSets(ledger, names)
	var gone []string
	for _, b := range batches {
		if confirmedByAll(have, b.ID) {
			if err := buf.RemoveBatch(b.ID); err != nil {
				return res, err
			}
			gone = append(gone, b.ID)
		}
	}
	ledger.Forget(gone...)
	res.Deleted = len(gone)
	if err := buf.SaveLedger(ledger); err != nil {
		return res, err
	}

	// 7. The report is done: the flag goes. Channels that failed keep their
	// bans and get them at the next flush.
	if flagged {
		if err := os.Remove(cfg.Flag); err != nil && !errors.Is(err, fs.ErrNotExist) {
			// Left there, it would make every ban start a flush and send
			// a report: the ban path starts none for this same file.
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the path is named once
			}
			err = fmt.Errorf("remove flag %s: %w", cfg.Flag, err)
			if rerr := buf.FlagNotRemoved(flag, err); rerr != nil {
				return res, fmt.Errorf("%w; and %w", err, rerr)
			}
			return res, fmt.Errorf("%w; bans start no flush for this flag until it is created anew: remove it by hand", err)
		}
	}
	if err := buf.FlagRemoved(); err != nil {
		return res, err
	}
	if flag.State == buffer.FlagNotFile {
		return res, fmt.Errorf("flag %s: %s", cfg.Flag, flag.Describe())
	}
	return res, nil
}

// Digest builds the digest of the records in files, in order.
func Digest(cfg *config.Config, files []string) (*report.Digest, error) {
	return DigestFor(cfg, files, nil)
}

// maxOpenFiles bounds the buffer files a digest keeps open while it is
// built: a channel down for weeks has thousands of batches waiting, more
// than a process may open (often 1,024).
const maxOpenFiles = 32

// DigestFor builds the digest of the records in files that belong to one of
// jails (all records when jails is empty).
func DigestFor(cfg *config.Config, files []string, jails []string) (*report.Digest, error) {
	// Log lines are read back by reference once the digest is built. The
	// first files and the last (pending.jsonl, for preview) stay open until
	// then, so that a flush running meanwhile (preview takes no lock) can
	// rename or delete them; the others are closed after their scan and
	// opened again by path, a few at a time. The builder shares the slice,
	// so it sees each file as it is kept.
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
		Paths:           files,
		Host:            cfg.Hostname(),
		MaxUsers:        cfg.Report.MaxUsers,
		MaxMatches:      cfg.Report.MaxMatches,
		MaxOffenders:    cfg.Report.MaxOffenders,
		IncludeRestored: cfg.Report.IncludeRestored,
	})
	kept := 0
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
		switch {
		case f == nil:
		case kept < maxOpenFiles-1 || i == len(files)-1:
			open[i] = f
			kept++
		default:
			f.Close()
		}
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

// holdsRecords reports whether a digest counts any record (of the jails it
// was built for).
func holdsRecords(d *report.Digest) bool {
	t := d.Totals
	return t.Bans+t.Unbans+t.Restored+t.Duplicate > 0
}

// worthSending reports whether a digest has something to tell: new bans, or
// a note about lost or damaged records.
func worthSending(d *report.Digest) bool {
	return d.Totals.Bans > 0 || d.Notes.TornLines > 0 || d.Notes.Dropped > 0
}

// plan is what a flush sends one channel: the rest of an interrupted report,
// then a report of todo (or, when todo holds nothing for it, confirm).
type plan struct {
	resume  *step
	todo    []buffer.Batch
	send    *step
	confirm []string // batches with nothing for the channel, confirmed without a message
}

// step is one report to send and the batches it covers.
type step struct {
	job     channels.Job
	batches []string
}

// Pending returns what the next flush owes channel t: the rest of a split
// report that an earlier flush delivered only in part, and the batches it
// has not confirmed that the new report covers. There is no rest to send if
// its messages are not in the channel's format any more, or if none of its
// batches is left in the spool (retention deleted them, and counted them as
// dropped; or the channel was disabled while the others confirmed them). A
// channel whose configuration is broken (t.Err) resumes nothing.
func Pending(t *Target, st *buffer.ChannelState, batches []buffer.Batch) (*buffer.Partial, []buffer.Batch) {
	var rest *buffer.Partial
	if t.Err == nil {
		if f := t.Channel.Formats(); len(f) > 0 && st.Partial.Resumable(string(f[0])) && len(presentIDs(batches, st.Partial.Batches)) > 0 {
			rest = st.Partial
		}
	}
	var todo []buffer.Batch
	have := idSet(st.Confirmed)
	var resting map[string]bool
	if rest != nil {
		resting = idSet(rest.Batches)
	}
	for _, b := range batches {
		if !have[b.ID] && !resting[b.ID] {
			todo = append(todo, b)
		}
	}
	return rest, todo
}

// presentIDs is ids without the batches that are no longer in the spool.
func presentIDs(batches []buffer.Batch, ids []string) []string {
	var out []string
	in := idSet(ids)
	for _, b := range batches {
		if in[b.ID] {
			out = append(out, b.ID)
		}
	}
	return out
}

// idSet is the set of ids: the spool of a channel down for a month holds
// tens of thousands of batches, too many to look each one up in a list.
func idSet(ids []string) map[string]bool {
	set := make(map[string]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	return set
}

// confirmedSets is, per channel, the set of batches it confirmed.
func confirmedSets(l *buffer.Ledger, names []string) []map[string]bool {
	sets := make([]map[string]bool, len(names))
	for i, n := range names {
		sets[i] = idSet(l.Channel(n).Confirmed)
	}
	return sets
}

func batchIDs(bs []buffer.Batch) []string {
	ids := make([]string, len(bs))
	for i, b := range bs {
		ids[i] = b.ID
	}
	return ids
}

func confirmedByAll(have []map[string]bool, id string) bool {
	for _, set := range have {
		if !set[id] {
			return false
		}
	}
	return true
}

func batchKey(bs []buffer.Batch) string { return strings.Join(batchIDs(bs), ",") }

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
	have := confirmedSets(l, names)
	var gone []string
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
		for i, n := range names {
			if !have[i][b.ID] {
				l.Channel(n).Dropped += st.Records
			}
		}
		if err := buf.RemoveBatch(b.ID); err != nil {
			return nil, 0, err
		}
		gone = append(gone, b.ID)
		dropped += st.Records
		total -= b.Size
		keep = keep[1:]
	}
	l.Forget(gone...)
	if dropped > 0 {
		if err := buf.SaveLedger(l); err != nil {
			return nil, 0, err
		}
	}
	return keep, dropped, nil
}
