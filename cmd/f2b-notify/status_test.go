package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// status --json says what status says, as a script reads it: a report that
// reached one channel and failed the other, a ban pending since, the flag.
func TestStatusJSON(t *testing.T) {
	t.Parallel()
	s := newSite(t, fileChannel+"  down:\n    type: file\n    path: {DIR}/missing/report.txt\n  spare:\n    type: file\n    enabled: false\n    path: {DIR}/spare.txt\n")
	s.ban(t, "192.0.2.1")
	if err := flushRun(&FlushOptions{Globals: s.globals()}); exitCode(t, err) != 1 {
		t.Fatalf("flush with a failing channel: %v", err)
	}
	s.ban(t, "192.0.2.2")
	if err := statusRun(&StatusOptions{Globals: s.globals(), JSON: true}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Config  string
		Buffer  string
		Pending struct{ Records, Files, Damaged int }
		Batches int
		Strays  []struct {
			Config  string
			Records int
		}
		Flag     struct{ Path, State, Text string }
		Unsafe   string
		Channels []struct {
			Name, Type  string
			Enabled     bool
			Waiting     int        `json:"waiting_batches"`
			Confirmed   int        `json:"confirmed_batches"`
			Missed      int        `json:"missed_reports"`
			LastSuccess *time.Time `json:"last_success"`
			LastError   string     `json:"last_error"`
			Dropped     int        `json:"dropped_records"`
			PartialSent int        `json:"partial_sent"`
			PartialOf   int        `json:"partial_of"`
		}
	}
	dec := json.NewDecoder(strings.NewReader(s.out.String()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("decode status --json: %v\n%s", err, s.out.String())
	}
	if got.Config != s.cfg || got.Buffer != s.buf || got.Pending.Records != 1 || got.Pending.Files != 1 || got.Batches != 1 || len(got.Strays) != 0 {
		t.Errorf("status --json: %+v", got)
	}
	if got.Flag.State != "absent" || got.Flag.Path == "" || got.Flag.Text != "absent" {
		t.Errorf("flag: %+v", got.Flag)
	}
	if len(got.Channels) != 3 {
		t.Fatalf("channels: %+v", got.Channels)
	}
	down, log, spare := got.Channels[0], got.Channels[1], got.Channels[2]
	if down.Name != "down" || down.Missed != 1 || down.Waiting != 1 || down.LastSuccess != nil || !strings.Contains(down.LastError, "missing") {
		t.Errorf("down: %+v", down)
	}
	if log.Name != "log" || log.Missed != 0 || log.Confirmed != 1 || log.Waiting != 0 || log.LastSuccess == nil || log.LastError != "" || !log.Enabled {
		t.Errorf("log: %+v", log)
	}
	if spare.Name != "spare" || spare.Enabled {
		t.Errorf("spare: %+v", spare)
	}

	// The text says the same.
	if err := statusRun(&StatusOptions{Globals: s.globals()}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.out.String(), "channel down (file, enabled): 1 batch waiting, 1 missed report, last error: ") {
		t.Errorf("status:\n%s", s.out.String())
	}
	if _, err := os.Stat(filepath.Join(s.dir, "report.txt")); err != nil {
		t.Error(err)
	}
}
