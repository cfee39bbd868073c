package chart

import "strings"

// bars are the sparkline's levels, lowest first.
var bars = []rune("▁▂▃▄▅▆▇█")

// Sparkline returns counts as one line of block characters, one per
// count, scaled to the largest: "▁" is none, "▂" to "█" are more and more
// (any count above none is at least "▂", so a single ban shows). All zero
// (or no counts) gives a line of "▁" (or ""). A negative count is taken as
// none.
func Sparkline(counts []int) string {
	top := 0
	for _, c := range counts {
		top = max(top, c)
	}
	var b strings.Builder
	b.Grow(len(counts) * 3)
	for _, c := range counts {
		if c <= 0 || top == 0 {
			b.WriteRune(bars[0])
			continue
		}
		// 1..7 of 7 levels above none, rounding up so that small counts show.
		level := (c*(len(bars)-1) + top - 1) / top
		b.WriteRune(bars[level])
	}
	return b.String()
}
