package netgroup_test

import (
	"fmt"
	"net/netip"

	"github.com/f2b-notify/f2b-notify/internal/netgroup"
)

func ExampleSorted() {
	s := netgroup.NewSorted(netgroup.DefaultV4Bits, netgroup.DefaultV6Bits, 2)
	for _, b := range []struct {
		addr  string
		jails []string
		bans  int
	}{ // in order, each address once
		{"198.51.100.23", []string{"sshd"}, 1},
		{"203.0.113.45", []string{"sshd"}, 1},
		{"203.0.113.46", []string{"nginx-http-auth", "sshd"}, 2},
		{"2001:db8:4::17", []string{"sshd"}, 1},
	} {
		s.Add(netip.MustParseAddr(b.addr), b.jails, b.bans)
	}
	for _, n := range s.Top() {
		fmt.Printf("%s: %d addresses, %d bans, %v\n", n.Prefix, n.Addresses, n.Bans, n.Jails)
	}
	fmt.Println(s.Len(), "networks")
	// Output:
	// 203.0.113.0/24: 2 addresses, 3 bans, [nginx-http-auth sshd]
	// 198.51.100.0/24: 1 addresses, 1 bans, [sshd]
	// 3 networks
}
