package buffer_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/f2b-notify/f2b-notify/buffer"
)

// FuzzScan feeds arbitrary bytes to the record decoder. It must never panic
// and never fail on garbage; it must count, as damaged, exactly the lines
// that are not blank and are not valid records (the oracle below decodes
// each line on its own); and a valid record after any garbage must still be
// read.
func FuzzScan(f *testing.F) {
	valid := `{"v":1,"action":"ban","jail":"sshd","ip":"192.0.2.1","time":1795628212.5,"at":1795628213,"failures":3}`
	for _, seed := range []string{
		"",
		valid + "\n",
		valid + "\n" + valid,
		valid + "\n" + `{"v":1,"action":"ban","jail":"sshd","ip":"192.0.`,
		`{"v":1,"action":"ban","jail":"sshd","ip":"192.0.` + "\n" + valid + "\n",
		"not json\n\n   \n" + valid + "\r\n",
		`{"v":2,"action":"ban","jail":"sshd","ip":"192.0.2.1"}` + "\n",
		`{"v":1,"jail":"","ip":"192.0.2.1"}` + "\n" + `{"v":1,"jail":"x","ip":""}`,
		"\xff\xfe\x00\x1b[31m\n" + valid,
		`{"v":1,"action":"ban","jail":"sshd","ip":"192.0.2.1","matches":["a","b"` + "\n",
		`[1,2,3]` + "\n" + `"string"` + "\n" + `null` + "\n" + `{"v":1e0,"jail":"j","ip":"i"}`,
		`{"v":1,"action":"ban","jail":"sshd","ip":"192.0.2.1","user":"\u001b\ud800"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var recs []*buffer.Record
		st, err := buffer.Scan(bytes.NewReader(data), func(r *buffer.Record) error { recs = append(recs, r); return nil })
		if err != nil {
			t.Fatalf("Scan failed on garbage: %v", err)
		}
		if st.Records != len(recs) {
			t.Fatalf("stats say %d records, the callback saw %d", st.Records, len(recs))
		}
		for _, r := range recs {
			if r.V != buffer.SchemaVersion || r.IP == "" || r.Jail == "" {
				t.Fatalf("Scan handed out an invalid record %+v", r)
			}
		}
		// The oracle: each line decoded on its own.
		wantRecs, wantTorn := 0, 0
		for _, line := range bytes.Split(data, []byte("\n")) {
			line = bytes.TrimSpace(line)
			if len(line) == 0 {
				continue
			}
			var r buffer.Record
			if len(line) > buffer.MaxLine || json.Unmarshal(line, &r) != nil || r.V != buffer.SchemaVersion || r.IP == "" || r.Jail == "" {
				wantTorn++
				continue
			}
			wantRecs++
		}
		if st.Records != wantRecs || st.Torn != wantTorn {
			t.Fatalf("Scan counted %d records and %d damaged lines, the lines hold %d and %d", st.Records, st.Torn, wantRecs, wantTorn)
		}
		// A record appended after a crash's garbage is still read: the
		// next append starts on a fresh line.
		more := append(append(bytes.Clone(data), '\n'), valid+"\n"...)
		st2, err := buffer.Scan(bytes.NewReader(more), func(*buffer.Record) error { return nil })
		if err != nil || st2.Records != st.Records+1 || st2.Torn != st.Torn {
			t.Fatalf("after appending a valid line: %+v, %v; before: %+v", st2, err, st)
		}
	})
}
