package flush_test

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/flush"
	"github.com/f2b-notify/f2b-notify/internal/history"
)

// TestFlushRecordsHistoryAndGoesOnWithoutGeoIP: a GeoIP database that is
// missing costs a note in the report, not the report; the addresses
// delivered are recorded in the history.
func TestFlushRecordsHistoryAndGoesOnWithoutGeoIP(t *testing.T) {
	e := newEnv(t)
	missing := filepath.Join(t.TempDir(), "GeoLite2-ASN.mmdb")
	e.cfg.GeoIP.ASNDB = missing
	ch := &memChannel{name: "mail"}
	e.ban(t, "192.0.2.1", 100)
	res := e.run(t, targets(t, ch), flush.Options{})
	if len(res.Failed()) != 0 || res.HistoryErr != nil {
		t.Fatalf("flush: %+v, history: %v", res.Failed(), res.HistoryErr)
	}
	got := ch.received()
	if len(got) != 1 || !strings.Contains(got[0], "192.0.2.1") || !strings.Contains(got[0], "GeoIP database unusable") || !strings.Contains(got[0], missing) {
		t.Fatalf("report does not say the database is missing:\n%s", strings.Join(got, "\n---\n"))
	}
	h, err := history.Load(e.cfg.HistoryFile())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, n, ok := h.Lookup(netip.MustParseAddr("192.0.2.1")); !ok || n != 1 {
		t.Errorf("history of the address delivered: %d reports, known %v", n, ok)
	}
}

// TestHistorySaveFailureIsANoteNextTime: a history that cannot be saved
// fails no flush, and the next report says so.
func TestHistorySaveFailureIsANoteNextTime(t *testing.T) {
	e := newEnv(t)
	ch := &memChannel{name: "mail"}
	e.ban(t, "192.0.2.1", 100)
	if err := os.MkdirAll(filepath.Join(e.cfg.HistoryFile(), "x"), 0o700); err != nil { // a folder where the file goes
		t.Fatal(err)
	}
	res := e.run(t, targets(t, ch), flush.Options{})
	if len(res.Failed()) != 0 || res.HistoryErr == nil {
		t.Fatalf("flush: %+v, history error: %v", res.Failed(), res.HistoryErr)
	}
	e.ban(t, "198.51.100.2", 200)
	e.run(t, targets(t, ch), flush.Options{})
	got := ch.received()
	if len(got) != 2 || !strings.Contains(got[1], "could not be recorded in the history") {
		t.Fatalf("next report does not say the history was not saved:\n%s", strings.Join(got, "\n---\n"))
	}
}

// TestSecondReportShowsReturningAndTrend: two consecutive flushes to a
// file channel; the second report says which address came back and how
// its bans compare with the first report's.
func TestSecondReportShowsReturningAndTrend(t *testing.T) {
	e := newEnv(t)
	var out bytes.Buffer
	tg := targets(t, channels.NewFile("log", &out))
	e.ban(t, "192.0.2.1", 100)
	e.ban(t, "192.0.2.2", 101)
	e.run(t, tg, flush.Options{Now: time.Unix(1000, 0)})
	if first := out.String(); !strings.Contains(first, "2 bans from 2 addresses\n") || !strings.Contains(first, "New: 2 addresses; returning: 0") {
		t.Fatalf("first report:\n%s", first)
	}
	out.Reset()
	e.ban(t, "192.0.2.1", 2000)
	e.ban(t, "192.0.2.1", 2001)
	e.ban(t, "198.51.100.9", 2002)
	e.run(t, tg, flush.Options{Now: time.Unix(3000, 0)})
	second := out.String()
	for _, want := range []string{
		"3 bans from 2 addresses, +50% on the previous report (2 bans)\n",
		"New: 1 address; returning: 1; still banned: 0 addresses\n",
		"In 2 networks; most: 1 address from 192.0.2.0/24\n",
	} {
		if !strings.Contains(second, want) {
			t.Errorf("second report lacks %q:\n%s", want, second)
		}
	}
}
