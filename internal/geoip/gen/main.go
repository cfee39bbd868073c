// Command gen writes the demo databases that package geoip embeds:
//
//	go run ./internal/geoip/gen
//
// (run from the module's root; go generate in internal/geoip runs it too).
// A test in package geoip fails when the files are not what gen writes.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/f2b-notify/f2b-notify/internal/geoip/mmdbtest"
)

func main() {
	dir := "internal/geoip"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	for name, build := range map[string]func() ([]byte, error){
		"demo-asn.mmdb":     mmdbtest.DemoASN,
		"demo-country.mmdb": mmdbtest.DemoCountry,
	} {
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
