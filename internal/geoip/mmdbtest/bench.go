package mmdbtest

import "fmt"

// Bench returns the entries of the benchmark databases: the addresses that
// `benchtool gen` writes (10.0.0.0/8 and 11.0.0.0/8 by /24, 2001:db8::/32
// by /48), held by 2,000 providers in 50 countries, so that a look-up goes
// as deep into the tree as in a real database.
func Bench() []Entry {
	var e []Entry
	for k := range 100_000 {
		c := k % 50
		e = append(e, Entry{Network: fmt.Sprintf("%d.%d.%d.0/24", 10+k>>16, k>>8&255, k&255), ASN: uint32(64000 + k%2000),
			Org: fmt.Sprintf("Provider %d", k%2000), Country: string(rune('A'+c/26)) + string(rune('A'+c%26)), CountryName: fmt.Sprintf("Country %d", c)})
	}
	for k := range 4096 {
		e = append(e, Entry{Network: fmt.Sprintf("2001:db8:%x::/48", k), ASN: uint32(64000 + k%2000), Org: fmt.Sprintf("Provider %d", k%2000), Country: "NL", CountryName: "Netherlands"})
	}
	return e
}
