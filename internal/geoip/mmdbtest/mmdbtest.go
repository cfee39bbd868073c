// Package mmdbtest writes small MaxMind-format databases in the layout of
// GeoLite2-ASN and GeoLite2-Country, for tests and for the demo databases
// embedded in package geoip. It links the database writer, so only tests
// and the generator under internal/geoip/gen import it, never a product
// binary.
package mmdbtest

import (
	"bytes"
	"fmt"
	"net"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// Entry is what a database says of one network: an ASN record when ASN is
// not 0, a country record when Country is not "".
type Entry struct {
	Network     string // CIDR: "192.0.2.0/24"
	ASN         uint32
	Org         string
	Country     string // ISO 3166-1 alpha-2
	CountryName string // in English
}

// BuildEpoch is the build time written into every database, so that the
// same entries always give the same bytes (2026-01-01 UTC).
const BuildEpoch = 1767225600

// ASN returns a database of type GeoLite2-ASN holding the ASN records of
// entries.
func ASN(description string, entries []Entry) ([]byte, error) {
	return build("GeoLite2-ASN", description, entries, func(e Entry) mmdbtype.DataType {
		if e.ASN == 0 {
			return nil
		}
		return mmdbtype.Map{
			"autonomous_system_number":       mmdbtype.Uint32(e.ASN),
			"autonomous_system_organization": mmdbtype.String(e.Org),
		}
	})
}

// Country returns a database of type GeoLite2-Country holding the country
// records of entries.
func Country(description string, entries []Entry) ([]byte, error) {
	return build("GeoLite2-Country", description, entries, func(e Entry) mmdbtype.DataType {
		if e.Country == "" {
			return nil
		}
		c := mmdbtype.Map{
			"iso_code": mmdbtype.String(e.Country),
			"names":    mmdbtype.Map{"en": mmdbtype.String(e.CountryName)},
		}
		return mmdbtype.Map{"country": c, "registered_country": c}
	})
}

func build(dbType, description string, entries []Entry, record func(Entry) mmdbtype.DataType) ([]byte, error) {
	w, err := mmdbwriter.New(mmdbwriter.Options{
		DatabaseType:            dbType,
		Description:             map[string]string{"en": description},
		Languages:               []string{"en"},
		RecordSize:              24,
		BuildEpoch:              BuildEpoch,
		IncludeReservedNetworks: true, // the documentation ranges are reserved
	})
	if err != nil {
		return nil, fmt.Errorf("new %s database: %w", dbType, err)
	}
	for _, e := range entries {
		r := record(e)
		if r == nil {
			continue
		}
		_, n, err := net.ParseCIDR(e.Network)
		if err != nil {
			return nil, fmt.Errorf("%s database: %w", dbType, err)
		}
		if err := w.Insert(n, r); err != nil {
			return nil, fmt.Errorf("%s database: insert %s: %w", dbType, e.Network, err)
		}
	}
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("write %s database: %w", dbType, err)
	}
	return b.Bytes(), nil
}

// DemoDescription is the description in the demo databases' metadata.
const DemoDescription = "f2b-notify demo data: documentation address ranges and AS numbers with made-up providers; not real"

// Demo is what the demo databases say: the documentation ranges
// (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) with the
// documentation AS numbers (64496 to 64511), made-up provider names, and
// countries picked to show a few.
var Demo = []Entry{
	{"192.0.2.0/25", 64496, "Example Hosting (demo data)", "NL", "Netherlands"},
	{"192.0.2.128/25", 64497, "Sample Broadband (demo data)", "DE", "Germany"},
	{"198.51.100.0/24", 64498, "Documentation Cloud (demo data)", "US", "United States"},
	{"203.0.113.0/24", 64499, "Test-Net Telecom (demo data)", "BR", "Brazil"},
	{"2001:db8::/32", 64500, "IPv6 Example Networks (demo data)", "FR", "France"},
	{"2001:db8:beef::/48", 64501, "Placeholder Datacenter (demo data)", "JP", "Japan"},
}

// DemoASN and DemoCountry return the demo databases.
func DemoASN() ([]byte, error)     { return ASN(DemoDescription, Demo) }
func DemoCountry() ([]byte, error) { return Country(DemoDescription, Demo) }
