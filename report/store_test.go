package report

import (
	"net/netip"
	"testing"
)

// canonical takes an address as the builder's key exactly when netip writes
// it back the same, zone-less.
func FuzzCanonical(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "0.0.0.0", "255.255.255.255", "256.0.0.1", "01.2.3.4", "1.2.3", "1.2.3.4.", "1.2.3.4 ", "1..2.3",
		"::1", "::ffff:1.2.3.4", "2001:DB8::1", "2001:db8::1", "fe80::1%eth0", "", "1.2.3.0004", "1234.1.1.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := netip.ParseAddr(s)
		want := err == nil && a.Zone() == "" && a.String() == s
		got, ok := canonical(s)
		if ok != want || ok && got != a {
			t.Fatalf("canonical(%q) = %v, %v; netip reads %v, %v", s, got, ok, a, err)
		}
	})
}
