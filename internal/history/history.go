// Package history keeps a small record of past reports beside the buffer,
// so that a report can say that an address is new, or was already reported
// 12 times since March, and how today's bans compare with the previous
// report's.
//
// Per address it keeps the first and last report the address appeared in
// and in how many reports; per report and channel it went to, the bans and
// distinct addresses of each jail, so that each channel's next report
// compares with its own previous one (channels may take different jails).
// Prune bounds it by age and by number of addresses, oldest first. Save
// writes a compact binary file atomically (a temporary file renamed over
// the old one); Load reads it without following a symbolic link. A missing, unreadable or corrupt file means "no history": Load then
// returns an empty History with the error, which the caller turns into a
// note in the report, never into a failed report.
//
// Times are kept to the second.
package history

import (
	"cmp"
	"fmt"
	"iter"
	"math"
	"net/netip"
	"slices"
	"time"
)

// MaxReports is how many reports a History keeps at most, on top of the
// age bound of Prune: a report every minute for 70 days.
const MaxReports = 100_000

// JailTotal is one jail's totals in one report. Jail names come from the
// configuration; callers should still escape them as data.
type JailTotal struct {
	Jail      string
	Bans      int
	Addresses int
}

// Report is the totals of one past report.
type Report struct {
	Time time.Time
	// Channel is the channel the report went to: channels that take
	// different jails, or that missed reports, are each sent a report of
	// their own. "" for a report recorded for no channel in particular, as
	// every report was in files of version 1: the largest report of its
	// flush.
	Channel string
	Jails   []JailTotal // sorted by jail name
}

// History is the record of past reports. The zero value is an empty
// History ready to use. A History is not safe for concurrent use.
type History struct {
	reports []Report // oldest first
	addr4   table[key4]
	addr6   table[key6]
}

// seen is what is known of one address: the Unix seconds of the first and
// last report it appeared in, and in how many reports. No pointers, so that
// a million addresses cost the garbage collector nothing to scan.
type seen struct {
	first, last uint32
	count       uint32
}

// Len returns how many addresses the History knows.
func (h *History) Len() int { return len(h.addr4) + len(h.addr6) }

// Reports returns the reports the History knows, oldest first. The slice
// is the History's own: do not change it.
func (h *History) Reports() []Report { return h.reports }

// Lookup returns the times of the first and last report addr appeared in
// and in how many reports it did; ok is false for an address never
// recorded (or pruned since).
func (h *History) Lookup(addr netip.Addr) (first, last time.Time, count int, ok bool) {
	var s seen
	addr = addr.Unmap()
	switch {
	case addr.Is4():
		s, ok = h.addr4.lookup(addr.As4())
	case addr.Is6():
		s, ok = h.addr6.lookup(addr.As16())
	}
	if !ok {
		return time.Time{}, time.Time{}, 0, false
	}
	return time.Unix(int64(s.first), 0), time.Unix(int64(s.last), 0), int(s.count), true
}

// Previous returns the latest report recorded, to any channel; ok is false
// when there is none. Call it before Record to compare the current report
// with the one before.
func (h *History) Previous() (r Report, ok bool) {
	if len(h.reports) == 0 {
		return Report{}, false
	}
	return h.reports[len(h.reports)-1], true
}

// PreviousFor returns the latest report recorded for channel, or, when a
// report recorded for no channel in particular (Channel "", such as every
// report of a file of version 1) is later, that one; ok is false when there
// is neither. Reports of other channels are not it: they may cover other
// jails and other batches.
func (h *History) PreviousFor(channel string) (r Report, ok bool) {
	for i := len(h.reports) - 1; i >= 0; i-- {
		if h.reports[i].IsFor(channel) {
			return h.reports[i], true
		}
	}
	return Report{}, false
}

// IsFor reports whether r is a report of channel's own, or one recorded for
// no channel in particular, which stands in for every channel's.
func (r Report) IsFor(channel string) bool { return r.Channel == channel || r.Channel == "" }

// Record adds the report made at t for no channel in particular: see
// RecordFor.
func (h *History) Record(t time.Time, addrs iter.Seq[netip.Addr], perJail []JailTotal) error {
	return h.RecordFor(t, "", addrs, perJail)
}

// RecordFor adds the report made at t for channel: the addresses it listed
// (each counts once per report time, however often addrs yields it, and
// however many channels were sent it) and its totals per jail. Recording
// the same t and channel again adds the addresses that are new to it and
// replaces its totals. t must lie between 1970 and 2106.
func (h *History) RecordFor(t time.Time, channel string, addrs iter.Seq[netip.Addr], perJail []JailTotal) error {
	sec := t.Unix()
	if sec < 0 || sec > math.MaxUint32 {
		return fmt.Errorf("record a report of %s: outside the years 1970 to 2106 that history keeps", t.Format(time.RFC3339))
	}
	ts := uint32(sec)
	var new4 []row[key4]
	var new6 []row[key6]
	for a := range addrs {
		a = a.Unmap()
		switch {
		case a.Is4():
			h.addr4.visit(a.As4(), ts, &new4)
		case a.Is6():
			h.addr6.visit(a.As16(), ts, &new6)
		}
	}
	h.addr4, h.addr6 = h.addr4.merge(new4), h.addr6.merge(new6)
	jails := slices.Clone(perJail)
	slices.SortFunc(jails, func(a, b JailTotal) int { return cmp.Compare(a.Jail, b.Jail) })
	r := Report{Time: time.Unix(sec, 0), Channel: channel, Jails: jails}
	i, found := slices.BinarySearchFunc(h.reports, r, compareReports)
	if found {
		h.reports[i] = r
	} else {
		h.reports = slices.Insert(h.reports, i, r)
	}
	return nil
}

// compareReports orders reports by time, then channel.
func compareReports(a, b Report) int {
	return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Channel, b.Channel))
}

// visit updates what is known of an address seen in the report at ts.
func visit(s seen, ts uint32) seen {
	switch {
	case s.count == 0:
		return seen{first: ts, last: ts, count: 1}
	case ts == s.first || ts == s.last:
		return s // this report has it already
	}
	s.count++
	s.first = min(s.first, ts)
	s.last = max(s.last, ts)
	return s
}

// Prune drops the reports made before now-maxAge and the addresses last
// reported before it; then, while more than maxAddrs addresses remain,
// the ones last reported longest ago (the lower address first among
// equals); then the oldest reports beyond MaxReports. maxAge <= 0 or
// maxAddrs < 0 means no such bound. It returns how many addresses and
// reports it dropped, for the report to say so.
func (h *History) Prune(now time.Time, maxAge time.Duration, maxAddrs int) (addrs, reports int) {
	if maxAge > 0 {
		cut := now.Add(-maxAge).Unix()
		n := 0
		for _, r := range h.reports {
			if r.Time.Unix() >= cut {
				break
			}
			n++
		}
		h.reports = slices.Delete(h.reports, 0, n)
		reports += n
		var d4, d6 int
		h.addr4, d4 = pruneBefore(h.addr4, cut)
		h.addr6, d6 = pruneBefore(h.addr6, cut)
		addrs += d4 + d6
	}
	if excess := h.Len() - maxAddrs; maxAddrs >= 0 && excess > 0 {
		addrs += h.dropOldest(excess)
	}
	if n := len(h.reports) - MaxReports; n > 0 {
		h.reports = slices.Delete(h.reports, 0, n)
		reports += n
	}
	return addrs, reports
}

func pruneBefore[K key[K]](t table[K], cut int64) (table[K], int) {
	n := len(t)
	t = slices.DeleteFunc(t, func(r row[K]) bool { return int64(r.s.last) < cut })
	return t, n - len(t)
}

// dropOldest drops the n addresses last reported longest ago.
func (h *History) dropOldest(n int) int {
	lasts := make([]uint32, 0, h.Len())
	for _, r := range h.addr4 {
		lasts = append(lasts, r.s.last)
	}
	for _, r := range h.addr6 {
		lasts = append(lasts, r.s.last)
	}
	slices.Sort(lasts)
	limit := lasts[n-1] // drop all before limit, and some of those at it
	atLimit := n - slices.Index(lasts, limit)
	// The tables are in order of address, IPv4 ones first: the lower
	// addresses of those at limit go first.
	var d4, d6 int
	h.addr4, d4 = dropBelow(h.addr4, limit, &atLimit)
	h.addr6, d6 = dropBelow(h.addr6, limit, &atLimit)
	return d4 + d6
}

// dropBelow deletes the addresses of t last reported before limit, and the
// first *atLimit of those last reported at limit, which it counts down.
func dropBelow[K key[K]](t table[K], limit uint32, atLimit *int) (table[K], int) {
	n := len(t)
	t = slices.DeleteFunc(t, func(r row[K]) bool {
		if r.s.last == limit && *atLimit > 0 {
			*atLimit--
			return true
		}
		return r.s.last < limit
	})
	return t, n - len(t)
}
