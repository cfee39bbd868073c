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

// TestAddNewInAnyOrder: AddNew's records are counted when the rollup is
// asked for; adding more, to the same networks, with AddNew or Add, after
// Len or Top has been asked, and with a jail beyond the first 64, gives
// what Add of each alone gives.
func TestAddNewInAnyOrder(t *testing.T) {
	var many []string // 70 jails: the last ones are beyond the jail bits
	for i := range 70 {
		many = append(many, "jail"+string(rune('A'+i/26))+string(rune('a'+i%26)))
	}
	type step struct {
		ip    string
		jails []string
		bans  int
		add   bool // through Add (once per jail) rather than AddNew
		ask   bool // then ask Len, which counts what is pending
	}
	steps := []step{
		{ip: "192.0.2.1", jails: []string{"sshd"}, bans: 3},
		{ip: "2001:db8::1", jails: []string{"sshd"}, bans: 2, ask: true},
		{ip: "192.0.2.2", jails: []string{"nginx"}, bans: 1},
		{ip: "192.0.2.3", jails: []string{"sshd"}, bans: 4, add: true},
		{ip: "2001:db8::2", jails: []string{"dovecot"}, bans: 5, ask: true},
		{ip: "198.51.100.9", jails: many, bans: 7},
		{ip: "198.51.100.10", jails: []string{"sshd"}, bans: 1},
	}
	ref, got := netgroup.New(24, 64), netgroup.New(24, 64)
	for _, s := range steps {
		a := netip.MustParseAddr(s.ip)
		for k, j := range s.jails {
			n := s.bans
			if k > 0 {
				n = 0
			}
			ref.Add(a, j, n)
			if s.add {
				got.Add(a, j, n)
			}
		}
		if !s.add {
			got.AddNew(a, s.jails, s.bans)
		}
		if s.ask {
			got.Len()
		}
	}
	if g, w := got.Top(-1), ref.Top(-1); !reflect.DeepEqual(g, w) {
		t.Errorf("in steps: %+v\nAdd alone: %+v", g, w)
	}
	if got.Len() != ref.Len() || got.Addresses() != ref.Addresses() {
		t.Errorf("in steps: %d addresses in %d networks; Add alone: %d in %d", got.Addresses(), got.Len(), ref.Addresses(), ref.Len())
	}
}
