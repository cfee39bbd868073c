package buffer_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/internal/testenv"
)

// holdLock takes the buffer's lock as another process would.
func holdLock(t *testing.T, b *buffer.Buffer) (release func()) {
	t.Helper()
	return testenv.HoldLock(t, filepath.Join(b.Dir, buffer.LockFile))
}

// claimedIPs claims and returns how often each address is in the new batches.
func claimedIPs(t *testing.T, b *buffer.Buffer, into map[string]int) []buffer.Batch {
	t.Helper()
	batches, err := b.Claim(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, bt := range batches {
		got, st := readAll(t, bt.Path)
		if st.Torn != 0 {
			t.Errorf("batch %s has %d damaged lines", bt.ID, st.Torn)
		}
		for _, r := range got {
			into[r.IP]++
		}
	}
	return batches
}

// While another process holds the lock, an append waits LockWait at most,
// then stores its record in a file of its own; the claim after the lock is
// free takes those files and pending.jsonl, each record exactly once, and
// leaves nothing pending behind.
func TestAppendWhileTheLockIsHeldDoesNotWait(t *testing.T) {
	b := buffer.New(t.TempDir(), true)
	b.LockWait = 100 * time.Millisecond
	if err := b.Append(rec("sshd", "192.0.2.1", 1)); err != nil {
		t.Fatal(err)
	}
	release := holdLock(t, b)
	for i := 2; i <= 4; i++ {
		t0 := time.Now()
		if err := b.Append(rec("sshd", fmt.Sprintf("192.0.2.%d", i), float64(i))); err != nil {
			t.Fatalf("append while the lock is held: %v", err)
		}
		if took := time.Since(t0); took < b.LockWait || took > b.LockWait+2*time.Second {
			t.Errorf("append while the lock is held took %v; want the lock wait (%v) and not much more", took, b.LockWait)
		}
	}
	paths, err := b.PendingPaths()
	if err != nil {
		t.Fatal(err)
	}
	pending := 0
	for _, p := range paths {
		got, _ := readAll(t, p)
		pending += len(got)
		if p != b.PendingPath() {
			if info, err := os.Stat(p); err != nil || info.Mode().Perm() != 0o600 {
				t.Errorf("file of its own %s: %v, mode %v; want 0600", p, err, info.Mode().Perm())
			}
		}
	}
	if len(paths) != 4 || pending != 4 {
		t.Fatalf("pending files %v hold %d records; want pending.jsonl and 3 files of their own, 4 records", paths, pending)
	}
	if got, _ := readAll(t, b.PendingPath()); len(got) != 1 {
		t.Errorf("pending.jsonl holds %d records; the appends under a held lock must not touch it", len(got))
	}

	release()
	if err := b.Append(rec("sshd", "192.0.2.5", 5)); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	batches := claimedIPs(t, b, seen)
	if len(batches) != 4 {
		t.Errorf("claim made %d batches, want 4 (pending.jsonl and 3 files of their own)", len(batches))
	}
	for i := 1; i <= 5; i++ {
		if ip := fmt.Sprintf("192.0.2.%d", i); seen[ip] != 1 {
			t.Errorf("%s claimed %d times, want once", ip, seen[ip])
		}
	}
	if paths, _ := b.PendingPaths(); len(paths) != 1 {
		t.Errorf("after the claim still pending: %v", paths)
	}
	if all, _ := b.Batches(); len(all) != len(batches) {
		t.Errorf("spool lists %d batches, the claim returned %d", len(all), len(batches))
	}
	if again := claimedIPs(t, b, seen); len(again) != 0 {
		t.Errorf("a second claim found %d more batches", len(again))
	}
}

// Appends that race each other and a claimer, many of them through files of
// their own (the lock wait is tiny), lose nothing and claim nothing twice.
// A round in which no append happened to find the lock busy is run again,
// up to 10 rounds, each checked the same way.
func TestAppendsRacingClaimsLoseNothing(t *testing.T) {
	b := buffer.New(t.TempDir(), false)
	b.LockWait = time.Microsecond
	const writers, each, rounds = 8, 100, 10
	seen := map[string]int{}
	sides, round := 0, 0
	for round = 1; sides == 0 && round <= rounds; round++ {
		r := round
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					if err := b.Append(rec("sshd", fmt.Sprintf("10.%d.%d.%d", r, w, i), 1)); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		for running := true; running; {
			select {
			case <-done:
				running = false
			default:
			}
			if paths, err := b.PendingPaths(); err == nil {
				sides = max(sides, len(paths)-1)
			}
			claimedIPs(t, b, seen)
		}
		claimedIPs(t, b, seen)
		for w := range writers {
			for i := range each {
				if ip := fmt.Sprintf("10.%d.%d.%d", r, w, i); seen[ip] != 1 {
					t.Errorf("%s claimed %d times, want once", ip, seen[ip])
				}
			}
		}
	}
	if sides == 0 {
		t.Errorf("no append went to a file of its own in %d rounds: the race was not exercised", rounds)
	}
	t.Logf("%d records in %d rounds, up to %d files of their own at once", len(seen), round-1, sides)
}

// An append killed while it wrote its own file leaves a temporary file: it
// is never claimed (its append did not succeed, and fail2ban ran it again),
// and the flush lock removes it once it is old.
func TestTemporaryFileOfAKilledAppendIsNeverClaimed(t *testing.T) {
	b := buffer.New(t.TempDir(), false)
	if err := os.MkdirAll(b.Dir, 0o750); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(b.Dir, "pending.00000000000000000001.1.00000000.tmp")
	fresh := filepath.Join(b.Dir, "pending.00000000000000000002.1.00000000.tmp")
	for _, name := range []string{old, fresh} {
		if err := os.WriteFile(name, []byte(`{"v":1,"action":"ban","jail":"sshd","ip":"192.0.2.9"`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(old, time.Now().Add(-2*time.Hour), time.Now().Add(-2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if paths, _ := b.PendingPaths(); len(paths) != 1 {
		t.Errorf("temporary files counted as pending: %v", paths)
	}
	if batches := claimedIPs(t, b, map[string]int{}); len(batches) != 0 {
		t.Errorf("claim took a temporary file: %v", batches)
	}
	unlock, ok, err := b.TryLockFlush()
	if err != nil || !ok {
		t.Fatalf("lock: %v %v", ok, err)
	}
	unlock()
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("an hour-old temporary file is still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a fresh temporary file (an append may be writing it) was removed: %v", err)
	}
}
