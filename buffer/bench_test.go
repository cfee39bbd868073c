package buffer_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/f2b-notify/f2b-notify/buffer"
)

func benchLines(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		r := &buffer.Record{V: 1, Action: "ban", Jail: "sshd", IP: fmt.Sprintf("10.0.%d.%d", i>>8&255, i&255), Time: float64(1795600000 + i), At: 1795600001, Failures: 3, Bantime: 600, User: "root",
			Matches: []string{
				fmt.Sprintf("Nov 24 10:00:00 vm sshd[%d]: Invalid user root from 10.0.0.1 port 22", i),
				fmt.Sprintf("Nov 24 10:00:00 vm sshd[%d]: Connection closed by invalid user root 10.0.0.1 port 22 [preauth]", i),
			}}
		line, _ := r.Marshal()
		b.Write(line)
	}
	return b.Bytes()
}

// BenchmarkAppend is one ban's write: lock, one O_APPEND write, unlock.
func BenchmarkAppend(b *testing.B) {
	for _, fsync := range []bool{false, true} {
		b.Run(fmt.Sprintf("fsync=%v", fsync), func(b *testing.B) {
			buf := buffer.New(b.TempDir(), fsync)
			r := &buffer.Record{V: 1, Action: "ban", Jail: "sshd", IP: "192.0.2.1", Time: 1795600000, Failures: 3,
				Matches: []string{"Nov 24 10:00:00 vm sshd[1]: Invalid user root from 192.0.2.1 port 22"}}
			for b.Loop() {
				if err := buf.Append(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkScan is decoding the buffer: per record.
func BenchmarkScan(b *testing.B) {
	data := benchLines(10000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		n := 0
		if _, err := buffer.Scan(bytes.NewReader(data), func(*buffer.Record) error { n++; return nil }); err != nil || n != 10000 {
			b.Fatal(err, n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10000), "ns/record")
}

// BenchmarkMarshal is encoding one record: the buffer's own encoder (what
// every ban runs) against encoding/json, whose output it reproduces.
func BenchmarkMarshal(b *testing.B) {
	r := &buffer.Record{V: 1, Action: "ban", Jail: "sshd", IP: "192.0.2.1", Time: 1795600000.25, At: 1795600001, Failures: 3, Bantime: 600, User: "<root>",
		Matches: []string{"Nov 24 10:00:00 vm sshd[1]: Invalid user <root> from 192.0.2.1 port 22", "Nov 24 10:00:01 vm sshd[1]: Connection closed by 192.0.2.1 \"x\""}}
	b.Run("buffer", func(b *testing.B) {
		for b.Loop() {
			if _, err := r.Marshal(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
