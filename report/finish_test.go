package report

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/internal/history"
	"github.com/f2b-notify/f2b-notify/internal/netgroup"
)

// finishIPs are addresses in every form a buffer may hold them: canonical
// IPv4 and IPv6, the same ones written otherwise (IPv4-mapped, upper case,
// a zone), neighbours in one network, and texts that are no address.
var finishIPs = []string{
	"192.0.2.1", "192.0.2.7", "::ffff:192.0.2.9", "::ffff:192.0.2.1", "198.51.100.4", "::ffff:203.0.113.5",
	"2001:db8::1", "2001:DB8::1", "2001:db8::2", "2001:db8:0:1::5", "fe80::1%eth0", "fe80::1", "::ffff:c000:201x",
	"not-an-address", "010.1.2.3", "",
}

func finishBuilder() *Builder {
	now := time.Unix(1795600000, 0)
	h := &history.History{}
	if err := h.Record(now.Add(-time.Hour), slices.Values([]netip.Addr{netip.MustParseAddr("192.0.2.7")}), nil); err != nil {
		panic(err)
	}
	b := NewBuilder(Options{Generated: now, History: h, MaxOffenders: 5, TopNetworks: 3})
	for i, ip := range finishIPs {
		for k := range i%3 + 1 {
			b.Add(&buffer.Record{V: 1, Action: buffer.ActionBan, Jail: []string{"sshd", "nginx", "recidive"}[(i+k)%3], IP: ip,
				Time: float64(1795590000 + 10*i + k), Failures: i, User: fmt.Sprint("u", i), Matches: []string{fmt.Sprint("line ", i)}})
		}
	}
	b.Add(&buffer.Record{V: 1, Action: buffer.ActionUnban, Jail: "sshd", IP: "192.0.2.1", Time: 1795599000})
	return b
}

// TestFinishIsDigest: Finish gives the digest Digest gives, the networks
// of its addresses and every banned address for the history; it releases the builder's memory at once, and a builder used
// after it says so.
func TestFinishIsDigest(t *testing.T) {
	want := finishBuilder().Digest()
	before := mapped.Load()
	b := finishBuilder()
	if mapped.Load() <= before {
		t.Fatal("the builder maps nothing: the test cannot see Finish release it")
	}
	got := b.Finish()
	if held := mapped.Load() - before; held > 0 {
		t.Errorf("%d bytes still mapped after Finish", held)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Finish gives\n%+v\nDigest gives\n%+v", got, want)
	}

	nets := map[netip.Prefix]bool{} // the /24s and /64s of the addresses
	var addrs []netip.Addr
	for _, ip := range finishIPs {
		if a, err := netip.ParseAddr(ip); err == nil {
			a = a.Unmap().WithZone("")
			bits := netgroup.DefaultV6Bits
			if a.Is4() {
				bits = netgroup.DefaultV4Bits
			}
			p, _ := a.Prefix(bits)
			nets[p] = true
			addrs = append(addrs, a)
		}
	}
	if got.Totals.Networks != len(nets) || len(got.Networks) != 3 {
		t.Errorf("%d networks, %d listed; the addresses are in %d", got.Totals.Networks, len(got.Networks), len(nets))
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	if recorded := slices.Collect(got.Addresses()); !slices.Equal(recorded, addrs) {
		t.Errorf("addresses for the history %v, want %v", recorded, addrs)
	}

	for what, use := range map[string]func(){
		"Add":    func() { b.Add(&buffer.Record{V: 1, Action: buffer.ActionBan, Jail: "sshd", IP: "192.0.2.1"}) },
		"Digest": func() { b.Digest() },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s after Finish did not panic", what)
				}
			}()
			use()
		}()
	}
}
