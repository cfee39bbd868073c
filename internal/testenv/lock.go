package testenv

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gofrs/flock"
)

// HoldLock takes an exclusive flock on the file name (created, with its
// folder, when missing) as another process would: a flock belongs to an
// open file, so the code under test, in this process or another, finds it
// busy. release frees it, once; the end of the test frees it too.
func HoldLock(t testing.TB, name string) (release func()) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o750); err != nil {
		t.Fatal(err)
	}
	l := flock.New(name, flock.SetFlag(os.O_CREATE|os.O_RDWR), flock.SetPermissions(0o600))
	if err := l.Lock(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { _ = l.Unlock() }) }
	t.Cleanup(release)
	return release
}
