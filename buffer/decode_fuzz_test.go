package buffer

import (
	"encoding/json"
	"reflect"
	"testing"
)

func FuzzDecodeRecord(f *testing.F) {
	for _, s := range []string{
		`{"v":1,"action":"ban","jail":"sshd","ip":"192.0.2.1","time":1795628212.5,"at":1795628213,"failures":3,"bantime":-1,"restored":true,"user":"root","matches":["a","b \"q\" \\ \u00e9 \ud83d\ude00 \n"]}`,
		`{"v":1,"action":"ban","jail":"sshd","ip":"192.0.2.1"}`,
		`{"V":1,"jail":"x"}`, `{"v":1e0}`, `{"v":1.5}`, `{"time":-0}`, `{"matches":null}`, `{"user":"\ud800"}`, "{\"user\":\"\xff\"}",
		`{"v":1,"v":2}`, `{} `, `[]`, `{"v":01}`, `{"at":9223372036854775808}`, `{"restored":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var fast Record
		if !decodeFast(line, &fast) {
			return
		}
		var std Record
		if err := json.Unmarshal(line, &std); err != nil {
			t.Fatalf("fast path accepted %q, encoding/json refused it: %v", line, err)
		}
		if !reflect.DeepEqual(fast, std) {
			t.Fatalf("%q:\nfast %#v\njson %#v", line, fast, std)
		}
		// Counting the log lines accepts the same lines and counts them all.
		var counted Record
		if err := decodeRecordSkip(line, &counted, true); err != nil || counted.Lines != len(std.Matches) || counted.Matches != nil {
			t.Fatalf("%q: skipping decode: %v, %d lines, want %d", line, err, counted.Lines, len(std.Matches))
		}
	})
}
