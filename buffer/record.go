// Package buffer stores ban records on disk until a report has delivered them.
//
// Layout of the buffer folder:
//
//	pending.jsonl      new records, one JSON object per line, appended by `ban`
//	pending.ID.jsonl   one record each, written by a `ban` that found the lock busy
//	pending.ID.tmp     such a file while it is written; left behind only by a killed `ban`
//	lock               flock taken by an append that gets it within DefaultLockWait, and by the claim
//	flush.lock         flock held by the one running flush (single flight)
//	spool/ID.jsonl     batches claimed by a flush, deleted when every channel has them
//	ledger.json        per channel: the batches it confirmed, missed reports, drops
//
// A record is appended with one write on an O_APPEND descriptor while holding
// an exclusive lock, and synced before Append returns. A crash can leave a torn
// last line; the next append starts on a fresh line and readers skip and count
// torn lines. An append waits for the lock DefaultLockWait at most: if another
// process holds it longer, the record goes into a pending.ID.jsonl of its own
// (written under a temporary name, synced, renamed when whole), which the next
// claim moves into the spool as a batch of its own. The lock is held only for
// the open and the write of an append and the rename of a claim; files and
// folders are synced after it is released.
package buffer

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// SchemaVersion is written in every record's "v" field.
const SchemaVersion = 1

// Actions a record can hold.
const (
	ActionBan   = "ban"
	ActionUnban = "unban"
)

// Bounds on what fail2ban can mean. A value beyond them is a mistake, and
// taking it would make nonsense of the report: totals that wrap around, a
// period ending in the year 31688740476.
const (
	// MaxFailures bounds a ticket's failure count. fail2ban bans after
	// maxretry failures within findtime, so a real count is maxretry or a
	// little more; a million leaves room for any maxretry and keeps an
	// address's sum over thousands of bans far from overflowing.
	MaxFailures = 1_000_000
	// MaxTime is 2200-01-01T00:00:00Z, the first --time refused. The bound is
	// fixed, not "now + a margin": the host's clock may be wrong either way.
	// There is no lower bound beyond the epoch: fail2ban on a board without
	// a clock logs 1970 times until NTP has run, and those bans count.
	MaxTime = 7258118400
	// MaxBantime is 100 years in seconds, the longest --bantime taken (-1,
	// permanent, is the way to say longer).
	MaxBantime = 36525 * 86400
)

// Record is one event reported by fail2ban.
type Record struct {
	V        int      `json:"v"`
	Action   string   `json:"action"`
	Jail     string   `json:"jail"`
	IP       string   `json:"ip"`
	Time     float64  `json:"time"` // fail2ban's <time>: epoch seconds of the last failure
	At       int64    `json:"at"`   // when f2b-notify stored the record, epoch seconds
	Failures int      `json:"failures,omitempty"`
	Bantime  int64    `json:"bantime,omitempty"`
	Restored bool     `json:"restored,omitempty"`
	User     string   `json:"user,omitempty"`
	Matches  []string `json:"matches,omitempty"`
	// Config is the configuration file that named this ban's folder but
	// could not be read: the ban was stored in the default configuration's
	// folder instead, and its report says so. "" for every other record.
	Config string `json:"config,omitempty"`

	// Lines counts the log lines of a record read by a scan that skips their
	// text (ScanOptions.SkipMatches); Matches is then nil.
	Lines int `json:"-"`
}

// EventTime is when the event happened: fail2ban's time if it gave one, else
// when the record was stored.
func (r *Record) EventTime() time.Time {
	if r.Time > 0 {
		sec, frac := math.Modf(r.Time)
		return time.Unix(int64(sec), int64(frac*1e9))
	}
	return time.Unix(r.At, 0)
}

// Validate reports the first thing wrong with a record, naming the field.
func (r *Record) Validate() error {
	switch r.Action {
	case ActionBan, ActionUnban:
	default:
		return fmt.Errorf("action %q: want %q or %q", r.Action, ActionBan, ActionUnban)
	}
	if err := ValidJail(r.Jail); err != nil {
		return err
	}
	if _, err := ParseIP(r.IP); err != nil {
		return err
	}
	if r.Failures < 0 || r.Failures > MaxFailures {
		return fmt.Errorf("--failures %d: want 0 to %d", r.Failures, MaxFailures)
	}
	if !(r.Time >= 0 && r.Time < MaxTime) {
		return fmt.Errorf("--time %v: want epoch seconds before %d (2200-01-01)", r.Time, MaxTime)
	}
	if r.Bantime < -1 || r.Bantime > MaxBantime {
		return fmt.Errorf("--bantime %d: want seconds up to %d (100 years), or -1 for permanent", r.Bantime, MaxBantime)
	}
	return nil
}

// ValidJail checks a jail name: not empty, no control characters, not huge.
func ValidJail(jail string) error {
	if strings.TrimSpace(jail) == "" {
		return fmt.Errorf("--jail: empty jail name")
	}
	if len(jail) > 256 {
		return fmt.Errorf("--jail: name longer than 256 bytes")
	}
	for _, c := range jail {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("--jail %q: control character in jail name", jail)
		}
	}
	return nil
}

// ParseIP parses an IPv4 or IPv6 address and returns its canonical form.
func ParseIP(s string) (string, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil || a.Zone() != "" {
		return "", fmt.Errorf("--ip %q: not an IP address", s)
	}
	return a.Unmap().String(), nil
}

// ParseTime parses fail2ban's <time>: epoch seconds as an integer or a float.
// An empty string means unknown (0).
func ParseTime(s string) (float64, error) {
	if strings.TrimSpace(s) == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || !(f >= 0 && f < MaxTime) { // NaN fails both
		return 0, fmt.Errorf("--time %q: want epoch seconds before 2200-01-01, such as 1795628212 or 1795628212.0", s)
	}
	return f, nil
}

// Marshal encodes a record as one JSON line, newline included.
func (r *Record) Marshal() ([]byte, error) {
	b, err := appendRecord(make([]byte, 0, 256), r)
	if err != nil {
		return nil, fmt.Errorf("encode record: %w", err)
	}
	return append(b, '\n'), nil
}
