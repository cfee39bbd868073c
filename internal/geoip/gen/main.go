// Command gen writes the demo databases that package geoip embeds:
//
//	go run ./internal/geoip/gen
//
// (run from the module's root; go generate in internal/geoip runs it too).
// A test in package geoip fails when the files are not what gen writes.
//
//	go run ./internal/geoip/gen -bench DIR
//
// writes instead, as DIR/bench-asn.mmdb and DIR/bench-country.mmdb, the
// larger databases of scripts/bench (see mmdbtest.Bench).
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/f2b-notify/f2b-notify/internal/geoip/mmdbtest"
)

func main() {
	dir := "internal/geoip"
	dbs := map[string]func() ([]byte, error){
		"demo-asn.mmdb":     mmdbtest.DemoASN,
		"demo-country.mmdb": mmdbtest.DemoCountry,
	}
	switch {
	case len(os.Args) > 2 && os.Args[1] == "-bench":
		dir = os.Args[2]
		dbs = map[string]func() ([]byte, error){
			"bench-asn.mmdb":     func() ([]byte, error) { return mmdbtest.ASN("f2b-notify benchmark data", mmdbtest.Bench()) },
			"bench-country.mmdb": func() ([]byte, error) { return mmdbtest.Country("f2b-notify benchmark data", mmdbtest.Bench()) },
		}
	case len(os.Args) > 1:
		dir = os.Args[1]
	}
	for name, build := range dbs {
		b, err := build()
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), b, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}
