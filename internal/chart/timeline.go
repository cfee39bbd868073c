// Package chart draws what a report's bans did over its period: a PNG of
// stacked bars per jail for channels that can show an image, and a one-line
// Unicode sparkline (▁▂▃▄▅▆▇█) of the same buckets for text channels.
//
// A Timeline cuts the period into buckets of a step that suits its length
// (5 minutes for an hour, an hour for a day, 6 hours for a week, ...) and
// counts bans per jail and bucket. Jail names come from the configuration;
// the PNG draws them as plain text, and callers that put them in markup
// should escape them as data.
package chart

import (
	"cmp"
	"slices"
	"strconv"
	"time"
)

// MaxBuckets is the most buckets a Timeline has: enough to show a shape,
// few enough for a bar to stay a few pixels wide and a sparkline to fit a
// phone's line.
const MaxBuckets = 36

// steps are the bucket sizes a Timeline chooses from, shortest first.
var steps = []time.Duration{
	time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 7 * 24 * time.Hour, 28 * 24 * time.Hour,
}

// StepFor returns the bucket size for a period: the shortest of 1, 5, 10,
// 15 and 30 minutes, 1, 2, 3, 6 and 12 hours, 1, 7 and 28 days that cuts
// it into at most MaxBuckets buckets.
func StepFor(period time.Duration) time.Duration {
	for _, s := range steps {
		if period <= s*MaxBuckets {
			return s
		}
	}
	return steps[len(steps)-1]
}

// Series is the bans of one jail per bucket.
type Series struct {
	Name   string
	Counts []int
}

// Total returns the sum of s's counts.
func (s Series) Total() int {
	n := 0
	for _, c := range s.Counts {
		n += c
	}
	return n
}

// Timeline counts bans per jail in the buckets of a period. Make one with
// NewTimeline. It is not safe for concurrent use.
type Timeline struct {
	from time.Time // start of the first bucket
	step time.Duration
	n    int
	jail map[string][]int
}

// NewTimeline returns a Timeline of the period from..to, in buckets of
// StepFor(to-from). The first bucket starts at from rounded down to a
// multiple of the step (midnight in from's location for a step of days),
// so that labels read 14:00, 15:00, ...; the last bucket holds to. Labels
// use from's location.
func NewTimeline(from, to time.Time) *Timeline {
	if to.Before(from) {
		from, to = to, from
	}
	step := StepFor(to.Sub(from))
	start := from.Truncate(step)
	if step >= 24*time.Hour {
		y, m, d := from.Date()
		start = time.Date(y, m, d, 0, 0, 0, 0, from.Location())
	}
	n := int(to.Sub(start)/step) + 1
	return &Timeline{from: start, step: step, n: n, jail: make(map[string][]int)}
}

// Step returns the bucket size.
func (tl *Timeline) Step() time.Duration { return tl.step }

// Len returns the number of buckets.
func (tl *Timeline) Len() int { return tl.n }

// Bucket returns the start of bucket i; it covers [start, start+Step()).
func (tl *Timeline) Bucket(i int) time.Time {
	if tl.step >= 24*time.Hour {
		return tl.from.AddDate(0, 0, i*int(tl.step/(24*time.Hour)))
	}
	return tl.from.Add(time.Duration(i) * tl.step)
}

// Add counts n bans of jail at t, and reports whether t lies in the
// period (a ban outside it is not counted).
func (tl *Timeline) Add(jail string, t time.Time, n int) bool {
	if t.Before(tl.from) {
		return false
	}
	i := int(t.Sub(tl.from) / tl.step)
	if tl.step >= 24*time.Hour { // days differ in length across a DST change
		for i > 0 && tl.Bucket(i).After(t) {
			i--
		}
		for i+1 < tl.n && !tl.Bucket(i+1).After(t) {
			i++
		}
	}
	if i >= tl.n {
		return false
	}
	c := tl.jail[jail]
	if c == nil {
		c = make([]int, tl.n)
		tl.jail[jail] = c
	}
	c[i] += n
	return true
}

// OtherJails names the series that Series merges the smaller jails into.
// No fail2ban jail can have this name: it holds a space.
const OtherJails = "other jails"

// Series returns the jails' series, the most bans first (ties by name),
// at most max of them: beyond max, the smaller jails are merged into one
// series named OtherJails. max <= 0 means no limit.
func (tl *Timeline) Series(max int) []Series {
	out := make([]Series, 0, len(tl.jail))
	for name, c := range tl.jail {
		out = append(out, Series{Name: name, Counts: slices.Clone(c)})
	}
	totals := make(map[string]int, len(out))
	for _, s := range out {
		totals[s.Name] = s.Total()
	}
	slices.SortFunc(out, func(a, b Series) int {
		if c := cmp.Compare(totals[b.Name], totals[a.Name]); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	if max > 0 && len(out) > max {
		other := Series{Name: OtherJails, Counts: make([]int, tl.n)}
		for _, s := range out[max-1:] {
			for i, c := range s.Counts {
				other.Counts[i] += c
			}
		}
		out = append(out[:max-1], other)
	}
	return out
}

// Totals returns the bans of all jails per bucket: what Sparkline draws.
func (tl *Timeline) Totals() []int {
	t := make([]int, tl.n)
	for _, c := range tl.jail {
		for i, v := range c {
			t[i] += v
		}
	}
	return t
}

// Labels returns a label per bucket: its start as "15:04" for steps under
// a day, as "Mon 15:04" when those steps span more than a day and a half,
// and as "Jan 2" for steps of days.
func (tl *Timeline) Labels() []string {
	layout := "15:04"
	switch {
	case tl.step >= 24*time.Hour:
		layout = "Jan 2"
	case time.Duration(tl.n)*tl.step > 36*time.Hour:
		layout = "Mon 15:04"
	}
	out := make([]string, tl.n)
	for i := range out {
		out[i] = tl.Bucket(i).Format(layout)
	}
	return out
}

// StepName says a bucket size as a sentence does after "per" or "the":
// "hour", "10 minutes", "6 hours", "day", "7 days".
func StepName(step time.Duration) string {
	unit, n := "minute", int(step/time.Minute)
	switch {
	case step%(24*time.Hour) == 0:
		unit, n = "day", int(step/(24*time.Hour))
	case step%time.Hour == 0:
		unit, n = "hour", int(step/time.Hour)
	}
	if n == 1 {
		return unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}
