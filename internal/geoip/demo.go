package geoip

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// The demo databases, written by ./gen: the documentation ranges
// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and 2001:db8::/32, with
// documentation AS numbers and made-up provider names.
var (
	//go:embed demo-asn.mmdb
	demoASN []byte
	//go:embed demo-country.mmdb
	demoCountry []byte
)

// Demo file names, as DemoDatabases writes them.
const (
	DemoASNFile     = "demo-asn.mmdb"
	DemoCountryFile = "demo-country.mmdb"
)

// Demo returns a Resolver of the embedded demo databases, for the demo to
// show providers and countries with no setup. Its databases' paths are the
// demo file names.
func Demo() *Resolver {
	r := &Resolver{}
	for _, f := range []struct {
		name string
		b    []byte
	}{{DemoASNFile, demoASN}, {DemoCountryFile, demoCountry}} {
		db, err := openBytes(f.name, f.b)
		if err != nil {
			panic("geoip: embedded demo database: " + err.Error()) // a test keeps this from happening
		}
		r.dbs = append(r.dbs, db)
	}
	return r
}

// DemoDatabases writes the demo databases into dir as DemoASNFile and
// DemoCountryFile (mode 0644) and returns their paths, for a demo that
// goes through the same configuration as a real setup.
func DemoDatabases(dir string) (asn, country string, err error) {
	asn, country = filepath.Join(dir, DemoASNFile), filepath.Join(dir, DemoCountryFile)
	for _, f := range []struct {
		path string
		b    []byte
	}{{asn, demoASN}, {country, demoCountry}} {
		if werr := os.WriteFile(f.path, f.b, 0o644); werr != nil {
			err = errors.Join(err, fmt.Errorf("write demo GeoIP database: %w", werr))
		}
	}
	return asn, country, err
}
