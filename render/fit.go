package render

import (
	"fmt"
	"sort"
	"unicode/utf8"

	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/report"
)

// fit makes a report fit a channel's size limit: it renders with fewer
// offender rows (then fewer unban rows) and lets the template say how many
// were left out ("and N more"), or, for a channel that splits, renders
// consecutive slices of the offenders as several messages, at most
// maxPages of them (0: no cap), the last cut. It never cuts inside the
// markup, because it only ever renders whole templates, and never drops the
// report: the totals are always there.
//
// d.Notes.FullList, when set, names the attachment that lists every
// offender: only the messages that leave offender rows out keep it.
func fit(d *report.Digest, limit int, measure func(string) int, split bool, maxPages int, render func(*report.Digest) (string, error)) ([]string, error) {
	full, err := render(uncut(d))
	if err != nil {
		return nil, err
	}
	if limit <= 0 || measure(full) <= limit {
		return []string{full}, nil
	}
	if split && len(d.Offenders) > 1 && maxPages != 1 {
		return paginate(d, limit, measure, maxPages, render)
	}
	body, _, err := cut(d, limit, measure, render)
	return []string{body}, err
}

// cut renders the largest prefix of the offenders (then of the unbans) that
// fits, and returns it with the number of offenders kept.
func cut(d *report.Digest, limit int, measure func(string) int, render func(*report.Digest) (string, error)) (string, int, error) {
	try := func(offenders, unbans int) (string, bool, error) {
		return tryRows(d, offenders, unbans, len(d.Jails), limit, measure, render)
	}
	var renderErr error
	// The largest number of offender rows that fits, all unbans dropped first
	// only if even no offender row fits with them.
	k := gallop(len(d.Offenders)+1, func(n int) bool {
		_, ok, err := try(n, len(d.Unbans))
		if err != nil && renderErr == nil {
			renderErr = err
		}
		return !ok
	}) - 1
	if renderErr != nil {
		return "", 0, renderErr
	}
	if k >= 0 {
		s, _, err := try(k, len(d.Unbans))
		return s, k, err
	}
	u := sort.Search(len(d.Unbans)+1, func(n int) bool {
		_, ok, _ := try(0, n)
		return !ok
	}) - 1
	if u >= 0 {
		s, _, err := try(0, u)
		return s, 0, err
	}
	// Many jails (or long jail names) can fill a small limit on their own:
	// keep the busiest ones (they come first); the totals still count all.
	j := sort.Search(len(d.Jails)+1, func(n int) bool {
		_, ok, _ := tryRows(d, 0, 0, n, limit, measure, render)
		return !ok
	}) - 1
	if j >= 0 {
		s, _, err := tryRows(d, 0, 0, j, limit, measure, render)
		return s, 0, err
	}
	s, _, err := try(0, 0)
	if err != nil {
		return "", 0, err
	}
	return "", 0, channels.Permanent(fmt.Errorf("the report does not fit in %d even without offender, unban and jail rows (%d)", limit, measure(s)))
}

// tryRows renders d with only its first offenders, unbans and jails rows,
// the notes counting the offenders, unbans and jails left out (and the cut
// text of the rows kept), and reports whether the result fits.
func tryRows(d *report.Digest, offenders, unbans, jails, limit int, measure func(string) int, render func(*report.Digest) (string, error)) (string, bool, error) {
	c := *d
	c.Offenders = d.Offenders[:offenders]
	c.Notes.MoreOffenders = d.Notes.MoreOffenders + len(d.Offenders) - offenders
	c.Notes.CountCuts(c.Offenders)
	if offenders == len(d.Offenders) {
		c.Notes.FullList, c.Notes.FullListPartial = "", false
	}
	c.Unbans = d.Unbans[:unbans]
	c.Notes.MoreUnbans = d.Notes.MoreUnbans + len(d.Unbans) - unbans
	c.Jails = d.Jails[:jails]
	c.Notes.MoreJails = d.Notes.MoreJails + len(d.Jails) - jails
	s, err := render(&c)
	return s, err == nil && measure(s) <= limit, err
}

// paginate splits the offenders over as many messages as needed, each
// fitting the limit; every message is the whole template with its slice of
// the offenders, and .Notes.Page and .Notes.Pages set. With maxPages > 0,
// the offenders that would need more messages are cut from the last one,
// which says how many were left out.
func paginate(d *report.Digest, limit int, measure func(string) int, maxPages int, render func(*report.Digest) (string, error)) ([]string, error) {
	var slices [][2]int // offender ranges
	for start := 0; start < len(d.Offenders) || len(slices) == 0; {
		if maxPages > 0 && len(slices) == maxPages-1 {
			// The last message allowed: it takes what is left, cut below.
			slices = append(slices, [2]int{start, len(d.Offenders)})
			break
		}
		rest := *d
		rest.Offenders = d.Offenders[start:]
		rest.Notes.Page, rest.Notes.Pages = len(slices)+1, len(slices)+2 // room for a two-digit count
		_, k, err := cut(&rest, limit-8, measure, render)
		if err != nil {
			return nil, err
		}
		if k == 0 {
			k = 1 // one row that does not fit alone: cut below, never loop
		}
		slices = append(slices, [2]int{start, start + k})
		start += k
	}
	pages := make([]string, 0, len(slices))
	for i, r := range slices {
		c := *d
		c.Offenders = d.Offenders[r[0]:r[1]]
		c.Notes.Page, c.Notes.Pages = i+1, len(slices)
		c.Notes.CountCuts(c.Offenders)
		if i > 0 {
			c.Unbans = nil // once is enough
		}
		s, err := render(uncut(&c))
		if err != nil {
			return nil, err
		}
		if measure(s) > limit {
			if s, _, err = cut(&c, limit, measure, render); err != nil {
				return nil, err
			}
		}
		pages = append(pages, s)
	}
	return pages, nil
}

// uncut is d for a message that shows every offender row of d: one that
// names no attached list.
func uncut(d *report.Digest) *report.Digest {
	if d.Notes.FullList == "" {
		return d
	}
	c := *d
	c.Notes.FullList, c.Notes.FullListPartial = "", false
	return &c
}

// gallop is sort.Search that probes 1, 2, 4, ... first: the answer is
// usually small (a page holds a few dozen rows of thousands), and each probe
// renders that many rows.
func gallop(n int, f func(int) bool) int {
	lo, hi := 0, 1
	for hi < n && !f(hi) {
		lo, hi = hi, 2*hi
	}
	hi = min(hi, n)
	return lo + sort.Search(hi-lo, func(i int) bool { return f(lo + i) })
}

// runes is the default measure: characters, as most chat APIs count them.
func runes(s string) int { return utf8.RuneCountInString(s) }
