package flush

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/internal/fsguard"
	"github.com/f2b-notify/f2b-notify/internal/geoip"
	"github.com/f2b-notify/f2b-notify/internal/history"
	"github.com/f2b-notify/f2b-notify/report"
)

// historyErrorFile, in the buffer folder, holds why the last flush could not
// save the history, for the next report to say so.
const historyErrorFile = "history.error"

// Extras are what a flush's digests tell beyond the buffer: providers and
// countries from the GeoIP databases, new and returning addresses and the
// previous report from the history, and the notes on what of it could not
// be read. A missing or damaged file costs its part of the report, never
// the report.
type Extras struct {
	Geo      *geoip.Resolver  // nil without a database that opened
	History  *history.History // nil when history.enabled is false
	Warnings []string

	mu        sync.Mutex
	delivered []delivered // the reports channels received, for the history
}

// delivered is a report a channel received.
type delivered struct {
	channel string
	digest  *report.Digest
}

// OpenExtras opens what cfg's geoip and history keys name.
func OpenExtras(cfg *config.Config) *Extras {
	x := &Extras{}
	if cfg.GeoIP.ASNDB != "" || cfg.GeoIP.CountryDB != "" {
		r, err := geoip.OpenResolver(cfg.GeoIP.ASNDB, cfg.GeoIP.CountryDB)
		for _, e := range splitErrors(err) {
			x.Warnings = append(x.Warnings, fmt.Sprintf("GeoIP database unusable, providers and countries it would tell are left out (see geoip in %s): %v", cfg.File, e))
		}
		if len(r.DBs()) > 0 {
			x.Geo = r
		}
	}
	if cfg.History.Enabled {
		h, err := history.Load(cfg.HistoryFile())
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			x.Warnings = append(x.Warnings, fmt.Sprintf("%v; new and returning addresses are counted from this report on", err))
		}
		x.History = h
		if data, err := fsguard.ReadFile(historyErrorPath(cfg)); err == nil && len(data) > 0 {
			x.Warnings = append(x.Warnings, "The last report could not be recorded in the history: "+strings.TrimSpace(string(data)))
		}
	}
	return x
}

// CheckGeoIP opens every database cfg names and reads each of its records:
// for check, which names the file at fault.
func CheckGeoIP(cfg *config.Config) error {
	r, err := geoip.OpenResolver(cfg.GeoIP.ASNDB, cfg.GeoIP.CountryDB)
	errs := []error{err}
	for _, db := range r.DBs() { // those that opened
		if err := db.Verify(); err != nil {
			errs = append(errs, fmt.Errorf("GeoIP database %s: %w", db.Path(), err))
		}
	}
	r.Close()
	return errors.Join(errs...)
}

func splitErrors(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// Close releases the databases.
func (x *Extras) Close() error {
	if x == nil || x.Geo == nil {
		return nil
	}
	return x.Geo.Close()
}

// options are the digest options x gives.
func (x *Extras) options(opt *report.Options) {
	if x == nil {
		return
	}
	if x.Geo != nil {
		opt.Geo = x.Geo
	}
	opt.History = x.History
	opt.Warnings = x.Warnings
}

// deliveredDigest notes that channel received a report of d.
func (x *Extras) deliveredDigest(channel string, d *report.Digest) {
	if x == nil || x.History == nil || d == nil {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.delivered = append(x.delivered, delivered{channel, d})
}

// remember records the reports delivered in the history, prunes it and
// saves it. A failure is written beside it for the next report to say, and
// returned for the flush's result; it never fails the flush.
func (f *flusher) remember() error {
	x, cfg := f.extras, f.cfg
	if x == nil || x.History == nil || len(x.delivered) == 0 {
		return nil
	}
	// Each channel's report is recorded as its own, with the totals of the
	// jails it takes and the batches it had: its next report compares with
	// it. The addresses count once for this flush, however many channels.
	var err error
	for _, r := range x.delivered {
		if err = r.digest.Record(x.History, f.now, r.channel); err != nil {
			break
		}
	}
	if err == nil {
		maxAddrs := cfg.History.MaxAddresses
		if maxAddrs == 0 {
			maxAddrs = -1
		}
		x.History.Prune(f.now, cfg.History.MaxAge, maxAddrs)
		err = x.History.Save(cfg.HistoryFile(), cfg.Buffer.Fsync)
	}
	note := historyErrorPath(cfg)
	if err == nil {
		if rerr := os.Remove(note); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", note, rerr)
		}
		return nil
	}
	err = fmt.Errorf("record the report in the history %s: %w", cfg.HistoryFile(), err)
	if werr := os.WriteFile(note, []byte(err.Error()+"\n"), 0o600); werr != nil {
		return fmt.Errorf("%w; and %w", err, werr)
	}
	return err
}

func historyErrorPath(cfg *config.Config) string {
	return filepath.Join(cfg.Buffer.Dir, historyErrorFile)
}
