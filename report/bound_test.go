package report_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/report"
)

// long is an attacker's field of size bytes, distinct for each n from its
// first characters on, and a fresh allocation, as the buffer's decoder makes.
func long(n, size int) string {
	p := fmt.Sprintf("u%07d-", n)
	return p + alphabet[:size-len(p)]
}

var alphabet = strings.Repeat("abcdefghijklmnopqrstuvwxyz", (128<<10)/26+1)

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// A thousand offenders each trying five user names of 8 KiB or 100 KiB, with
// log lines as long: the digest's memory and the text it holds stay the
// same whatever the size, and its notes say how much was cut.
func TestAttackerSizedTextIsCutWhileBuilding(t *testing.T) {
	const offenders, names = 1000, 5
	for _, size := range []int{8 << 10, 100 << 10} {
		t.Run(fmt.Sprintf("%dKiB", size>>10), func(t *testing.T) {
			before := heapInUse()
			b := report.NewBuilder(report.Options{Host: "vm", MaxUsers: names, MaxMatches: 3})
			for i := range offenders * names {
				ip := fmt.Sprintf("10.0.%d.%d", i/names/256, i/names%256)
				r := ban("sshd", ip, float64(1795600000+i), 1)
				r.User = long(i, size)
				r.Matches = []string{"sshd[1]: Invalid user " + long(i, size)}
				b.Add(r)
			}
			d := b.Digest()
			held := heapInUse() - before
			runtime.KeepAlive(b)

			text := 0
			for _, o := range d.Offenders {
				if len(o.Users) != names || len(o.Matches) != 3 {
					t.Fatalf("%s: %d names, %d lines; want %d and 3", o.IP, len(o.Users), len(o.Matches), names)
				}
				for _, u := range o.Users {
					if n := utf8.RuneCountInString(u); n != report.MaxUserLen || !strings.HasSuffix(u, "…") {
						t.Fatalf("user name of %d characters (%.20q…), want %d ending in an ellipsis", n, u, report.MaxUserLen)
					}
					text += len(u)
				}
				for _, m := range o.Matches {
					if n := utf8.RuneCountInString(m); n != report.MaxLineLen {
						t.Fatalf("log line of %d characters, want %d", n, report.MaxLineLen)
					}
					text += len(m)
				}
			}
			if want := offenders * (names*(report.MaxUserLen+2) + 3*(report.MaxLineLen+2)); text > want {
				t.Errorf("the digest holds %d bytes of user names and log lines, want at most %d", text, want)
			}
			// The digest above is 3 MB of text; the builder keeps its names
			// and each record's line (Add keeps text, not references).
			if held > 24<<20 {
				t.Errorf("building held %.1f MiB of heap, want at most 24 MiB", float64(held)/(1<<20))
			}
			t.Logf("size %d KiB: heap held %.1f MiB, digest text %d bytes", size>>10, float64(held)/(1<<20), text)
			if n := d.Notes; n.CutUsers != offenders*names || n.CutMatches != offenders*3 || n.CappedOffenders != 0 {
				t.Errorf("notes %+v, want %d user names and %d log lines cut", n, offenders*names, offenders*3)
			}
		})
	}
}

// Short fields are shown whole and not counted as cut; a field of exactly
// the length shown is not cut either.
func TestFieldsWithinTheBoundsAreShownWhole(t *testing.T) {
	r := ban("sshd", "192.0.2.1", 100, 1)
	r.User = strings.Repeat("é", report.MaxUserLen)
	r.Matches = []string{strings.Repeat("l", report.MaxLineLen)}
	r2 := ban("sshd", "192.0.2.1", 101, 1)
	r2.User = strings.Repeat("é", report.MaxUserLen+1)
	d := build(report.Options{}, r, r2)
	o := d.Offenders[0]
	if o.Users[0] != r.User || o.Matches[0] != r.Matches[0] {
		t.Errorf("fields at the bound were changed: %q, %q", o.Users[0], o.Matches[0])
	}
	if want := strings.Repeat("é", report.MaxUserLen-1) + "…"; o.Users[1] != want {
		t.Errorf("a name one character too long shows as %q, want %q", o.Users[1], want)
	}
	if d.Notes.CutUsers != 1 || d.Notes.CutMatches != 0 || o.CutUsers != 1 {
		t.Errorf("notes %+v, offender cut %d, want one user name cut", d.Notes, o.CutUsers)
	}
}

// Whatever report.max_users and report.max_matches allow, one offender shows
// at most MaxOffenderText characters of names and lines; the rest are
// counted as more, its newest lines kept.
func TestOneOffenderShowsAtMostItsShareOfText(t *testing.T) {
	var recs []*buffer.Record
	for i := range 40 {
		r := ban("sshd", "192.0.2.1", float64(100+i), 1)
		r.User = long(i, 200)
		r.Matches = []string{long(i, 2000)}
		recs = append(recs, r)
	}
	d := build(report.Options{MaxUsers: 40, MaxMatches: 40}, recs...)
	o := d.Offenders[0]
	text := 0
	for _, s := range append(append([]string{}, o.Users...), o.Matches...) {
		text += utf8.RuneCountInString(s)
	}
	if text > report.MaxOffenderText {
		t.Errorf("%d characters shown for one offender, want at most %d", text, report.MaxOffenderText)
	}
	if len(o.Users)+o.MoreUsers != 40 || len(o.Matches)+o.MoreMatches != 40 || !o.Capped {
		t.Errorf("%d+%d names, %d+%d lines, capped %v; want 40 of each counted", len(o.Users), o.MoreUsers, len(o.Matches), o.MoreMatches, o.Capped)
	}
	if len(o.Matches) == 0 || !strings.HasPrefix(o.Matches[len(o.Matches)-1], "u0000039-") {
		t.Errorf("the newest line is not kept last: %d lines", len(o.Matches))
	}
	if d.Notes.CappedOffenders != 1 {
		t.Errorf("notes %+v, want one capped offender", d.Notes)
	}
}

// An unban is shown at the time it was recorded, not at fail2ban's <time>,
// which for an unban is the last failure of the ban it ends.
func TestUnbanTimeIsWhenTheUnbanHappened(t *testing.T) {
	lastFailure := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	unbanned := lastFailure.Add(10 * time.Minute)
	r := &buffer.Record{V: 1, Action: buffer.ActionUnban, Jail: "sshd", IP: "192.0.2.1",
		Time: float64(lastFailure.Unix()), At: unbanned.Unix()}
	d := build(report.Options{}, ban("sshd", "192.0.2.1", float64(lastFailure.Unix()), 3), r)
	if len(d.Unbans) != 1 || !d.Unbans[0].Last.Equal(unbanned) {
		t.Fatalf("unbans %+v, want the last at %v", d.Unbans, unbanned)
	}
	if !d.To.Equal(unbanned) {
		t.Errorf("the period ends %v, want %v (the unban)", d.To, unbanned)
	}
}
