package flush

import (
	"strings"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/render"
	"github.com/f2b-notify/f2b-notify/report"
)

// plan is what a flush does for one channel: send the rest of an
// interrupted report, then a new report (send), or confirm without a
// message the batches that hold nothing for it (confirm).
type plan struct {
	resume  *step
	send    *step
	confirm []string
}

// step is one report to send and the batches it covers.
type step struct {
	job     channels.Job
	batches []string
	jails   []report.JailStat // the report's bans per jail; nil for the rest of a split report
	digest  *report.Digest    // of a new report: what the history records once it is delivered
}

// plan decides, per channel, what it is sent, and renders it; it fills in
// the channels' results with what it found (bans, a broken configuration,
// a report held or skipped).
func (f *flusher) plan(batches []buffer.Batch) []plan {
	digests := digestCache{cfg: f.cfg, extras: &f.extras, built: map[string]*report.Digest{}}
	f.res.Channels = make([]ChannelResult, len(f.targets))
	plans := make([]plan, len(f.targets))
	for i, t := range f.targets {
		f.res.Channels[i].Name = t.Name
		plans[i] = f.planChannel(t, &f.res.Channels[i], batches, &digests)
	}
	return plans
}

// planChannel is the plan of channel t: the rest of a split report that a
// failed flush left half sent, then a report of the batches it has not
// confirmed.
func (f *flusher) planChannel(t *render.Target, cr *ChannelResult, batches []buffer.Batch, digests *digestCache) plan {
	var pl plan
	st := f.ledger.state(t.Name)
	rest, todo := Pending(t, &st, batches)
	if rest == nil && t.Err == nil {
		f.ledger.dropPartial(t.Name) // nothing to resume, or not in this channel's format any more: sent whole again
	}
	if rest != nil {
		pl.resume = &step{
			job:     t.Job(channels.Message{Subject: rest.Subject, Pages: rest.Pages}),
			batches: presentIDs(batches, rest.Batches),
		}
		pl.resume.job.From = rest.Sent
	}
	cr.Batches = len(todo)
	// A report without bans (report.send_empty) only when the channel gets
	// nothing else from this flush: one message per flush at most.
	empty := f.sendEmpty && pl.resume == nil
	if len(todo) == 0 {
		// Nothing new to send; a broken configuration is still reported,
		// so that cron sees it before bans arrive.
		if cr.Err = t.Err; cr.Err != nil || !empty {
			return pl
		}
	}
	d, err := digests.get(todo, t.Config.Jails)
	if err != nil {
		cr.Err = err // this channel's report only: the others are sent
		return pl
	}
	cr.Bans = d.Totals.Bans
	if cr.Err = t.Err; cr.Err != nil {
		return pl
	}
	var f2b *report.Fail2ban
	if empty {
		f2b = f.fail2ban()
	}
	pl.send, pl.confirm = newReport(t, cr, ForChannel(d, t, &st), batchIDs(todo), empty, f2b)
	return pl
}

// newReport is the report of the batches ids to channel t, whose digest for
// it is d: a message to send, or the batches to confirm without one (they
// hold nothing for it), or neither (the report waits; cr says why). With
// empty (report.send_empty), a digest without bans is sent all the same,
// as a short report saying so, and what f2b tells of fail2ban; it
// confirms the batches it covers.
func newReport(t *render.Target, cr *ChannelResult, d *report.Digest, ids []string, empty bool, f2b *report.Fail2ban) (send *step, confirm []string) {
	q, none := AsEmpty(t, d, f2b)
	switch {
	case none && empty:
		// No ban for it: only unbans or restored bans, which the report
		// shows, or records of jails it does not take, or nothing at all.
		if !holdsRecords(d) {
			cr.Batches = 0
		}
		d, cr.Empty = q, true
	case !worthSending(d) && !holdsRecords(d):
		// Only records of jails it does not take: nothing for it.
		cr.Batches = 0
		return nil, ids
	case !worthSending(d):
		// Nothing new to say: only unbans or restored bans. They are not
		// confirmed, so the next report sent shows them (and retention
		// still bounds them).
		cr.Skipped = true
		return nil, nil
	case d.Totals.Bans < t.Config.MinBans && d.Notes.TornLines == 0 && d.Notes.Dropped == 0:
		cr.Held = true // fewer bans than min_bans: kept for a later report
		return nil, nil
	}
	msg, err := t.Render(d)
	if cr.Err = err; err != nil {
		return nil, nil
	}
	s := &step{job: t.Job(msg), batches: ids, jails: d.Jails, digest: d}
	if cr.Empty {
		s.jails = nil // the last report's bans per jail (metrics) stay those of a report with bans
	}
	return s, nil
}

// digestCache builds each distinct digest once: the channels that have
// confirmed the same batches and take the same jails share it.
type digestCache struct {
	cfg    *config.Config
	extras **Extras // opened for the first digest built
	built  map[string]*report.Digest
}

func (c *digestCache) get(todo []buffer.Batch, jails []string) (*report.Digest, error) {
	key := strings.Join(batchIDs(todo), ",") + "|" + strings.Join(jails, ",")
	if d, ok := c.built[key]; ok {
		return d, nil
	}
	if *c.extras == nil {
		*c.extras = OpenExtras(c.cfg)
	}
	d, err := digestFor(c.cfg, buffer.Paths(todo), jails, *c.extras)
	if err != nil {
		return nil, err // not kept: the next channel tries again
	}
	c.built[key] = d
	return d, nil
}

// Pending returns what the next flush owes channel t: the rest of a split
// report that an earlier flush delivered only in part, and the batches it
// has not confirmed that the new report covers. There is no rest to send if
// its messages are not in the channel's format any more, or if none of its
// batches is left in the spool (retention deleted them, and counted them as
// dropped; or the channel was disabled while the others confirmed them). A
// channel whose configuration is broken (t.Err) resumes nothing.
func Pending(t *render.Target, st *buffer.ChannelState, batches []buffer.Batch) (*buffer.Partial, []buffer.Batch) {
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

func batchIDs(bs []buffer.Batch) []string {
	ids := make([]string, len(bs))
	for i, b := range bs {
		ids[i] = b.ID
	}
	return ids
}
