package flush

import (
	"os"
	"slices"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/internal/jailstate"
	"github.com/f2b-notify/f2b-notify/render"
	"github.com/f2b-notify/f2b-notify/report"
)

// Digest builds the digest of the records in files, in order.
func Digest(cfg *config.Config, files []string) (*report.Digest, error) {
	return DigestFor(cfg, files, nil)
}

// maxOpenFiles bounds the buffer files a digest keeps open while it is
// built: a channel down for weeks has thousands of batches waiting, more
// than a process may open (often 1,024).
const maxOpenFiles = 32

// DigestFor builds the digest of the records in files that belong to one of
// jails (all records when jails is empty), with what cfg's GeoIP databases
// and history tell (read, not recorded): the report a flush would send.
func DigestFor(cfg *config.Config, files []string, jails []string) (*report.Digest, error) {
	x := OpenExtras(cfg)
	defer x.Close()
	return digestFor(cfg, files, jails, x)
}

// digestFor is DigestFor with what x tells (nil: nothing).
func digestFor(cfg *config.Config, files []string, jails []string, x *Extras) (*report.Digest, error) {
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
	opt := report.Options{
		Files:           open,
		Paths:           files,
		Host:            cfg.Hostname(),
		MaxUsers:        cfg.Report.MaxUsers,
		MaxMatches:      cfg.Report.MaxMatches,
		MaxOffenders:    cfg.Report.MaxOffenders,
		IncludeRestored: cfg.Report.IncludeRestored,
		NetV4Bits:       cfg.Report.Networks.IPv4Prefix,
		NetV6Bits:       cfg.Report.Networks.IPv6Prefix,
		TopNetworks:     cfg.Report.Networks.Top,
	}
	x.options(&opt)
	b := report.NewBuilder(opt)
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
	return b.Finish(), nil
}

// ForChannel returns a copy of d with what concerns channel t alone: the
// previous report it was sent, in the jails it takes (see
// report.Digest.PreviousFor), and the notes on reports it missed and on
// records retention dropped before it got them.
func ForChannel(d *report.Digest, t *render.Target, st *buffer.ChannelState) *report.Digest {
	c := d.PreviousFor(t.Name, t.Config.Jails)
	c.Notes.MissedReports = st.Missed
	c.Notes.Dropped = st.Dropped
	c.Notes.LastSuccess = st.LastSuccess
	return c
}

// AsEmpty returns channel t's digest d (made for it by ForChannel) as the
// report of no bans that report.send_empty sends, saying since when there
// were none and what f2b tells of fail2ban (see Fail2ban); none is false,
// and d is returned as it is, when d has something to tell (bans, or a
// note on lost or damaged records).
func AsEmpty(t *render.Target, d *report.Digest, f2b *report.Fail2ban) (q *report.Digest, none bool) {
	if worthSending(d) {
		return d, false
	}
	return d.Quiet(d.Notes.LastSuccess, t.Name, t.Config.Jails, f2b), true
}

// Fail2ban is what a report without bans says of fail2ban: whether the
// pid file that fail2ban.pidfile names is that of a live fail2ban-server,
// and the jails started since it started, from the jails file in the
// buffer folder. It is nil when nothing is known, and when
// fail2ban.pidfile is "".
func Fail2ban(cfg *config.Config) *report.Fail2ban {
	if cfg.Fail2ban.PidFile == "" {
		return nil
	}
	st := jailstate.Check(cfg.Buffer.Dir, cfg.Fail2ban.PidFile)
	if !st.Known {
		return nil
	}
	return &report.Fail2ban{Running: st.Running, Why: st.Why, Started: st.Started, Jails: st.Jails, JailsKnown: st.JailsKnown}
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
