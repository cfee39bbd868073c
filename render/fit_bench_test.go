package render_test

import (
	"testing"
)

// BenchmarkFit renders a 5,000-offender digest for a 4,096-character
// channel: cut to the rows that fit with "and N more", or split into pages.
func BenchmarkFit(b *testing.B) {
	d := bigDigest(5000)
	for _, split := range []bool{false, true} {
		name := "cut"
		if split {
			name = "split"
		}
		b.Run(name, func(b *testing.B) {
			tg := target(b, &fakeChannel{name: "small", limit: 4096, split: split})
			for b.Loop() {
				if _, err := tg.Render(d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
