package buffer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"
)

// ChannelState is what the ledger knows of one channel.
type ChannelState struct {
	Confirmed   []string  `json:"confirmed"`             // batch IDs the channel received
	Missed      int       `json:"missed,omitempty"`      // reports it failed to receive since its last success
	Dropped     int       `json:"dropped,omitempty"`     // records retention deleted before it got them
	LastSuccess time.Time `json:"last_success,omitzero"` // last confirmed delivery
	LastAttempt time.Time `json:"last_attempt,omitzero"` // last try, successful or not
	LastError   string    `json:"last_error,omitempty"`  // the last failure, secrets redacted
}

// Has reports whether the channel confirmed the batch.
func (c *ChannelState) Has(id string) bool { return slices.Contains(c.Confirmed, id) }

// Ledger records, per channel, which batches it has confirmed.
type Ledger struct {
	Channels map[string]*ChannelState `json:"channels"`
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

// Forget removes a deleted batch from every channel's list.
func (l *Ledger) Forget(id string) {
	for _, c := range l.Channels {
		c.Confirmed = slices.DeleteFunc(c.Confirmed, func(s string) bool { return s == id })
	}
}

// LoadLedger reads the ledger; a missing ledger is empty.
func (b *Buffer) LoadLedger() (*Ledger, error) {
	name := b.path(LedgerFile)
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return &Ledger{Channels: map[string]*ChannelState{}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read ledger %s: %w", name, err)
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
