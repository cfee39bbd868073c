package buffer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"github.com/f2b-notify/f2b-notify/internal/fsguard"
)

// ChannelState is what the ledger knows of one channel.
type ChannelState struct {
	Confirmed   []string  `json:"confirmed"`             // batch IDs the channel received
	Missed      int       `json:"missed,omitempty"`      // reports it failed to receive since its last success
	Dropped     int       `json:"dropped,omitempty"`     // records retention deleted before it got them
	LastSuccess time.Time `json:"last_success,omitzero"` // last confirmed delivery
	LastAttempt time.Time `json:"last_attempt,omitzero"` // last try, successful or not
	LastError   string    `json:"last_error,omitempty"`  // the last failure, one line, secrets redacted, control and bidi characters made visible
	// Sent and Failed count the reports the channel was sent, and those it
	// missed, since the ledger began: they only grow (the metrics' counters).
	Sent   int64 `json:"sent,omitempty"`
	Failed int64 `json:"failed,omitempty"`
	// Partial is a split report of which the channel received only the
	// first messages: the next flush sends the rest before anything new.
	Partial *Partial `json:"partial,omitempty"`
}

// Partial is a report split into several messages whose sending stopped
// part way. Its messages are kept as they were written, so that the rest is
// sent as it was begun, and the bans in the messages already delivered are
// not sent to the channel again.
type Partial struct {
	Batches []string `json:"batches"` // the batches the report covers
	Format  string   `json:"format"`  // the markup its messages are written in
	Subject string   `json:"subject,omitempty"`
	Pages   []string `json:"pages"` // every message of the report, in order
	Sent    int      `json:"sent"`  // how many of them were delivered
}

// Resumable reports whether p is the rest of a report in format: some but
// not all of its messages delivered.
func (p *Partial) Resumable(format string) bool {
	return p != nil && p.Format == format && p.Sent > 0 && p.Sent < len(p.Pages)
}

// Has reports whether the channel confirmed the batch.
func (c *ChannelState) Has(id string) bool { return slices.Contains(c.Confirmed, id) }

// Ledger records, per channel, which batches it has confirmed.
type Ledger struct {
	Channels map[string]*ChannelState `json:"channels"`
	// Dropped counts the records retention deleted since the ledger began
	// (the metrics' counter; each channel's own Dropped is reset when it
	// is told).
	Dropped int64 `json:"dropped,omitempty"`
	// LastReport is the bans per jail of the largest report that the last
	// flush to send one delivered.
	LastReport map[string]int `json:"last_report,omitempty"`
}

// Channel returns the state of a channel, creating it if needed.
func (l *Ledger) Channel(name string) *ChannelState {
	if l.Channels == nil {
		l.Channels = map[string]*ChannelState{}
	}
	c := l.Channels[name]
	if c == nil {
		c = &ChannelState{}
		l.Channels[name] = c
	}
	return c
}

// Forget removes deleted batches from every channel's list, in one pass
// however many: a backlog can hold tens of thousands.
func (l *Ledger) Forget(ids ...string) {
	if len(ids) == 0 {
		return
	}
	gone := make(map[string]bool, len(ids))
	for _, id := range ids {
		gone[id] = true
	}
	for _, c := range l.Channels {
		c.Confirmed = slices.DeleteFunc(c.Confirmed, func(s string) bool { return gone[s] })
	}
}

// LoadLedger reads the ledger; a missing ledger is empty.
func (b *Buffer) LoadLedger() (*Ledger, error) {
	name := b.path(LedgerFile)
	data, err := fsguard.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return &Ledger{Channels: map[string]*ChannelState{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read ledger %s: %w", name, pathless(err, name))
	}
	var l Ledger
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("read ledger %s: %w", name, err)
	}
	if l.Channels == nil {
		l.Channels = map[string]*ChannelState{}
	}
	return &l, nil
}

// SaveLedger replaces the ledger atomically.
func (b *Buffer) SaveLedger(l *Ledger) error {
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return fmt.Errorf("encode ledger: %w", err)
	}
	if err := os.MkdirAll(b.Dir, 0o750); err != nil {
		return fmt.Errorf("create buffer folder %s: %w", b.Dir, err)
	}
	return writeFileAtomic(b.path(LedgerFile), append(data, '\n'), b.Fsync)
}
