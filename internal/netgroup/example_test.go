package netgroup_test

import (
	"fmt"
	"net/netip"

	"github.com/f2b-notify/f2b-notify/internal/netgroup"
)

func ExampleGrouper() {
	g := netgroup.New(netgroup.DefaultV4Bits, netgroup.DefaultV6Bits)
	for _, b := range []struct {
		addr, jail string
	}{
		{"203.0.113.45", "sshd"}, {"203.0.113.46", "sshd"}, {"203.0.113.46", "nginx-http-auth"},
		{"2001:db8:4::17", "sshd"}, {"198.51.100.23", "sshd"},
	} {
		g.Add(netip.MustParseAddr(b.addr), b.jail, 1)
	}
	for _, n := range g.Top(2) {
		fmt.Printf("%s: %d addresses, %d bans, %v\n", n.Prefix, n.Addresses, n.Bans, n.Jails)
	}
	// Output:
	// 203.0.113.0/24: 2 addresses, 3 bans, [nginx-http-auth sshd]
	// 198.51.100.0/24: 1 addresses, 1 bans, [sshd]
}
