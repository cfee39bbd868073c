//go:build integration

package fsguard

import (
	"os"
	"testing"
)

// TestCheckOtherOwners runs Check on paths owned by another user than the
// one running it, and on a sticky folder owned by root: only root can set
// them up.
func TestCheckOtherOwners(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test builds files owned by another user: run it as root")
	}
	checkCases(t, []checkCase{
		{"file owned by nobody", func(t *testing.T, d string) string {
			p := mk(t, d+"/f", 0o644, false)
			if err := os.Chown(p, nobody, nobody); err != nil {
				t.Fatal(err)
			}
			return p
		}, "/f", "owned by uid 65534"},
		{"folder above owned by nobody", func(t *testing.T, d string) string {
			p := mk(t, d+"/theirs", 0o755, true)
			if err := os.Chown(p, nobody, nobody); err != nil {
				t.Fatal(err)
			}
			return mk(t, d+"/theirs/f", 0o600, false)
		}, "/theirs", "owned by uid 65534"},
		{"root's sticky 1777 folder above", func(t *testing.T, d string) string {
			mk(t, d+"/tmp", os.ModeSticky|0o777, true)
			return mk(t, d+"/tmp/f", 0o600, false)
		}, "", ""},
	})
}
