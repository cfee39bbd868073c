package flush_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
