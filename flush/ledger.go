package flush

import (
	"maps"
	"sync"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/report"
)

// book is the ledger of one flush. Its methods are the only way the flush
// changes the ledger: one at a time (the channels are sent in parallel), and
// each change that records a verdict is saved before the method returns, so
// that a flush that dies part way has recorded every verdict it got.
type book struct {
	mu     sync.Mutex
	buf    *buffer.Buffer
	ledger *buffer.Ledger
	names  []string  // the enabled channels, whose confirmations let a batch go
	now    time.Time // when this flush attempted and succeeded
	err    error     // the first save that failed during the sends
	most   int       // bans of the largest report delivered in this flush
}

func openBook(buf *buffer.Buffer, names []string, now time.Time) (*book, error) {
	l, err := buf.LoadLedger()
	if err != nil {
		return nil, err
	}
	return &book{buf: buf, ledger: l, names: names, now: now}, nil
}

// state is a copy of what the ledger says of one channel.
func (b *book) state(name string) buffer.ChannelState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return *b.ledger.Channel(name)
}

// delivered records that the channel received a report of the batches ids:
// its misses, drops, last error and any half-sent report are behind it.
// jails is the report's bans per jail (nil for the rest of a split report):
// the largest report of the flush is the ledger's LastReport.
func (b *book) delivered(name string, ids []string, jails []report.JailStat) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.ledger.Channel(name)
	addIDs(st, ids)
	st.Missed, st.Dropped, st.LastError, st.Partial = 0, 0, "", nil
	st.LastAttempt, st.LastSuccess = b.now, b.now
	st.Sent++
	if jails != nil {
		bans := 0
		for _, j := range jails {
			bans += j.Bans
		}
		if b.most == 0 || bans > b.most {
			b.most = max(bans, 1)
			b.ledger.LastReport = make(map[string]int, len(jails))
			for _, j := range jails {
				b.ledger.LastReport[j.Name] = j.Bans
			}
		}
	}
	b.save()
}

// confirm records that batches ids hold nothing for the channel: it has
// them without a message.
func (b *book) confirm(name string, ids []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	addIDs(b.ledger.Channel(name), ids)
	b.save()
}

// fail records a report the channel missed, and why (err has been through
// the Redactor).
func (b *book) fail(name string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.ledger.Channel(name)
	st.LastAttempt = b.now
	st.Missed++
	st.Failed++
	st.LastError = err.Error()
	b.save()
}

// partial records a split report of which the channel received only the
// first p.Sent messages: the next flush sends the rest.
func (b *book) partial(name string, p *buffer.Partial) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ledger.Channel(name).Partial = p
	b.save()
}

// dropPartial forgets the channel's half-sent report (saved with the next
// change): nothing of it is left to send, or not in the channel's format.
func (b *book) dropPartial(name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ledger.Channel(name).Partial = nil
}

// dropped is a batch that retention deleted, and how many records it held.
type dropped struct {
	id      string
	records int
}

// drop forgets the batches retention deleted, adding their records to the
// Dropped count of each channel that had not received them.
func (b *book) drop(gone []dropped) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	have := b.confirmedSets()
	ids := make([]string, len(gone))
	records := 0
	for k, g := range gone {
		for i, n := range b.names {
			if !have[i][g.id] {
				b.ledger.Channel(n).Dropped += g.records
			}
		}
		ids[k] = g.id
		records += g.records
	}
	b.ledger.Forget(ids...)
	b.ledger.Dropped += int64(records)
	if records == 0 {
		return nil
	}
	return b.buf.SaveLedger(b.ledger)
}

// done lists the batches of the spool that every enabled channel confirmed.
func (b *book) done(batches []buffer.Batch) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	have := b.confirmedSets()
	var ids []string
	for _, bt := range batches {
		if confirmedByAll(have, bt.ID) {
			ids = append(ids, bt.ID)
		}
	}
	return ids
}

// forget drops the deleted batches ids from the ledger and saves it.
func (b *book) forget(ids []string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ledger.Forget(ids...)
	return b.buf.SaveLedger(b.ledger)
}

// snapshot is a copy of the counters and times the metrics show.
func (b *book) snapshot() (channels map[string]buffer.ChannelState, dropped int64, lastReport map[string]int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	channels = make(map[string]buffer.ChannelState, len(b.ledger.Channels))
	for n, st := range b.ledger.Channels {
		channels[n] = buffer.ChannelState{Sent: st.Sent, Failed: st.Failed, LastSuccess: st.LastSuccess}
	}
	return channels, b.ledger.Dropped, maps.Clone(b.ledger.LastReport)
}

// saveErr is the first save that failed while the channels were sent.
func (b *book) saveErr() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// save writes the ledger; b.mu is held.
func (b *book) save() {
	if err := b.buf.SaveLedger(b.ledger); err != nil && b.err == nil {
		b.err = err
	}
}

// confirmedSets is, per enabled channel, the set of batches it confirmed;
// b.mu is held.
func (b *book) confirmedSets() []map[string]bool {
	sets := make([]map[string]bool, len(b.names))
	for i, n := range b.names {
		sets[i] = idSet(b.ledger.Channel(n).Confirmed)
	}
	return sets
}

// addIDs adds ids to the batches the channel confirmed, each once.
func addIDs(st *buffer.ChannelState, ids []string) {
	have := idSet(st.Confirmed)
	for _, id := range ids {
		if !have[id] {
			st.Confirmed = append(st.Confirmed, id)
			have[id] = true
		}
	}
}

func confirmedByAll(have []map[string]bool, id string) bool {
	for _, set := range have {
		if !set[id] {
			return false
		}
	}
	return true
}
