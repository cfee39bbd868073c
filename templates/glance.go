package templates

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/f2b-notify/f2b-notify/internal/chart"
	"github.com/f2b-notify/f2b-notify/internal/history"
	"github.com/f2b-notify/f2b-notify/internal/textutil"
	"github.com/f2b-notify/f2b-notify/report"
)

// glance returns the digest's summary in at most four lines of plain text,
// for the top of a report (the template adds the sparkline, a fifth): the
// bans and the trend, where they came from, new, returning and still
// banned addresses, and the one thing that stands out. Lines whose data the
// digest lacks (no GeoIP database, no history, nothing standing out) are
// left out; a digest without bans has none. Each line is printed by the
// template, so escaped for its format like any value.
func (f *funcs) glance(d *report.Digest) []string {
	t := d.Totals
	if t.Bans == 0 {
		if d.Empty {
			return f.quiet(d)
		}
		return nil
	}
	first := textutil.Count(t.Bans, "ban", "bans") + " from " + textutil.Count(t.IPs, "address", "addresses")
	if p := d.Previous; p != nil {
		switch tr := p.Trend(); {
		case tr == "±0%":
			first += ", as many as the previous report"
		case tr != "":
			first += ", " + tr + " on the previous report (" + textutil.Count(p.Bans, "ban", "bans") + ")"
		default:
			first += "; the previous report had none"
		}
	}
	lines := []string{first}

	var where []string
	if t.Networks > 0 {
		where = append(where, textutil.Count(t.Networks, "network", "networks"))
	}
	if t.ASNs > 0 {
		where = append(where, textutil.Count(t.ASNs, "provider", "providers"))
	}
	if t.Countries > 0 {
		where = append(where, textutil.Count(t.Countries, "country", "countries"))
	}
	var most []string
	if len(d.ASNs) > 0 {
		a := d.ASNs[0]
		s := fmt.Sprintf("%s from AS%d", textutil.Count(a.Addresses, "address", "addresses"), a.ASN)
		if a.Org != "" {
			s += " (" + truncate(40, a.Org) + ")"
		}
		most = append(most, s)
	}
	if len(d.Countries) > 0 {
		c := d.Countries[0]
		name := c.Code
		if c.Name != "" {
			name = truncate(40, c.Name)
		}
		most = append(most, fmt.Sprintf("%d from %s", c.Addresses, name))
	}
	if len(d.Networks) > 0 && len(most) < 2 {
		w := d.Networks[0]
		most = append(most, fmt.Sprintf("%s from %s", textutil.Count(w.Addresses, "address", "addresses"), w.Prefix))
	}
	if len(where) > 0 {
		s := "In " + joinAnd(where)
		if len(most) > 0 {
			s += "; most: " + strings.Join(most, ", ")
		}
		lines = append(lines, s)
	}
	still := "still banned: " + textutil.Count(t.StillBanned, "address", "addresses")
	if t.Escalated > 0 {
		still += fmt.Sprintf(" (%d banned again for longer by %s)", t.Escalated, report.EscalationJail)
	}
	if t.New+t.Returning > 0 {
		lines = append(lines, fmt.Sprintf("New: %s; returning: %d; %s", textutil.Count(t.New, "address", "addresses"), t.Returning, still))
	} else {
		lines = append(lines, strings.ToUpper(still[:1])+still[1:])
	}
	if s := f.standsOut(d); s != "" {
		lines = append(lines, s)
	}
	return lines
}

// standsOut says in one line what stands out in d, if anything.
func (f *funcs) standsOut(d *report.Digest) string {
	so := d.StandsOut
	switch {
	case so == nil:
		return ""
	case len(so.NewJails) > 0:
		return "First bans ever by " + textutil.Plural(len(so.NewJails), "jail ", "jails ") + joinAnd(so.NewJails)
	case so.Spike != nil:
		sp := so.Spike
		layout := "15:04"
		switch {
		case sp.Step >= 24*time.Hour:
			layout = "Jan 2"
		case d.To.Sub(d.From) > 24*time.Hour:
			layout = "Jan 2 15:04"
		}
		return fmt.Sprintf("Spike: %d bans in the %s from %s, %.0f× the average", sp.Bans, chart.StepName(sp.Step), sp.At.In(f.loc).Format(layout), sp.Times)
	case len(so.Jails) > 0:
		return fmt.Sprintf("%s was banned by %d jails: %s", so.Address, len(so.Jails), joinAnd(so.Jails))
	}
	return ""
}

// quiet is the summary of a report sent without bans (report.send_empty):
// first that fail2ban is not running, when it is not; since when there were
// no bans; the jails running, when known; and the last bans the history
// knows of, in which jails.
func (f *funcs) quiet(d *report.Digest) []string {
	const layout = "2006-01-02 15:04 MST"
	var lines []string
	f2b := d.Fail2ban
	if f2b != nil && !f2b.Running {
		lines = append(lines, "fail2ban is not running ("+f2b.Why+")")
	}
	first := "No bans to report"
	if !d.Since.IsZero() {
		first = "No bans since " + d.Since.In(f.loc).Format(layout)
	}
	lines = append(lines, first)
	if f2b != nil && f2b.Running && f2b.JailsKnown {
		if n := len(f2b.Jails); n > 0 {
			lines = append(lines, fmt.Sprintf("%s running: %s", textutil.Count(n, "jail", "jails"), joinAnd(fewNames(f2b.Jails))))
		} else {
			lines = append(lines, "No jail has started f2b-notify since fail2ban started, "+f2b.Started.In(f.loc).Format(layout))
		}
	}
	if p := d.LastBans; p != nil {
		busiest := slices.Clone(p.Jails)
		slices.SortStableFunc(busiest, func(a, b history.JailTotal) int { return cmp.Compare(b.Bans, a.Bans) })
		jails := make([]string, len(busiest))
		for i, j := range busiest {
			jails[i] = j.Jail
		}
		lines = append(lines, fmt.Sprintf("Last bans reported %s: %d in %s", p.Time.In(f.loc).Format(layout), p.Bans, joinAnd(fewNames(jails))))
	}
	return lines
}

// fewNames returns the first three jail names, each cut to 30 characters,
// and then how many more there are.
func fewNames(names []string) []string {
	out := make([]string, 0, 4)
	for i, name := range names {
		if i == 3 {
			out = append(out, textutil.Count(len(names)-i, "more jail", "more jails"))
			break
		}
		out = append(out, truncate(30, name))
	}
	return out
}

// origin says in one line where an offender comes from and whether it is
// back: "AS64499 Test-Net Telecom · BR Brazil · returning, 4 reports since
// Nov 02". Each part only when the digest knows it (a GeoIP database, the
// history); "" when it knows none, and the template then shows no line.
func (f *funcs) origin(o report.Offender) string {
	var parts []string
	if o.ASN != 0 {
		s := fmt.Sprintf("AS%d", o.ASN)
		if o.ASOrg != "" {
			s += " " + truncate(40, o.ASOrg)
		}
		parts = append(parts, s)
	}
	if o.Country != "" {
		s := o.Country
		if o.CountryName != "" {
			s += " " + truncate(40, o.CountryName)
		}
		parts = append(parts, s)
	}
	if o.Returning {
		day := o.FirstReported.In(f.loc).Format("Jan 02")
		if o.Reports > 1 {
			parts = append(parts, fmt.Sprintf("returning, %d reports since %s", o.Reports, day))
		} else {
			parts = append(parts, "returning, reported "+day)
		}
	}
	return strings.Join(parts, " · ")
}

// joinAnd joins words as a sentence does: "a", "a and b", "a, b and c".
func joinAnd(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
