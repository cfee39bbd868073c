// Package heldheap measures, for benchmarks, how much heap a structure
// keeps once it is built: what a flush holding it pays in memory.
package heldheap

import (
	"runtime"
	"testing"
)

// Measure runs build with b's timer running and returns how many bytes of
// heap what build returns still holds after a garbage collection; the
// collections before and after are not timed.
func Measure(b *testing.B, build func() any) uint64 {
	b.StopTimer()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.StartTimer()
	v := build()
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(v)
	b.StartTimer()
	if after.HeapAlloc < before.HeapAlloc {
		return 0
	}
	return after.HeapAlloc - before.HeapAlloc
}
