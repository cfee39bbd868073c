package netgroup_test

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/f2b-notify/f2b-notify/internal/netgroup"
)

// TestAddNewIsAddOfDistinctAddresses: AddNew of each address once with
// its jails gives the same rollup as Add of each (address, jail).
func TestAddNewIsAddOfDistinctAddresses(t *testing.T) {
	type ban struct {
		ip    string
		jails []string
		bans  int
	}
	bans := []ban{
		{"192.0.2.1", []string{"sshd"}, 3},
		{"192.0.2.7", []string{"recidive", "sshd"}, 4},
		{"::ffff:192.0.2.9", []string{"nginx"}, 1},
		{"2001:db8::1", []string{"sshd"}, 2},
		{"2001:db8::2", []string{"dovecot", "sshd"}, 5},
		{"198.51.100.4", []string{"sshd"}, 1},
	}
	add, addNew := netgroup.New(24, 64), netgroup.New(24, 64)
	for _, b := range bans {
		a := netip.MustParseAddr(b.ip)
		for k, j := range b.jails {
			n := b.bans
			if k > 0 {
				n = 0
			}
			add.Add(a, j, n)
		}
		addNew.AddNew(a, b.jails, b.bans)
	}
	addNew.AddNew(netip.Addr{}, []string{"sshd"}, 1) // ignored
	if got, want := addNew.Top(-1), add.Top(-1); !reflect.DeepEqual(got, want) {
		t.Errorf("AddNew gives %+v, Add %+v", got, want)
	}
	if addNew.Addresses() != 6 || addNew.Len() != 3 {
		t.Errorf("AddNew: %d addresses in %d networks, want 6 in 3", addNew.Addresses(), addNew.Len())
	}
}
