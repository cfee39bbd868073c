package geoip_test

import (
	"fmt"
	"net/netip"

	"github.com/f2b-notify/f2b-notify/internal/geoip"
)

func ExampleDemo() {
	r := geoip.Demo() // in production: geoip.OpenResolver(asnPath, countryPath)
	defer r.Close()
	for _, a := range []string{"203.0.113.45", "2001:db8:4::17"} {
		info, err := r.Lookup(netip.MustParseAddr(a))
		if err != nil {
			fmt.Println(err)
			continue
		}
		// Org and CountryName are data from a file: escape them like attacker text.
		fmt.Printf("%s: AS%d %s, %s (%s)\n", a, info.ASN, info.Org, info.CountryName, info.Country)
	}
	// Output:
	// 203.0.113.45: AS64499 Test-Net Telecom (demo data), Brazil (BR)
	// 2001:db8:4::17: AS64500 IPv6 Example Networks (demo data), France (FR)
}
