package geoip

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/f2b-notify/f2b-notify/internal/geoip/mmdbtest"
)

func TestDemoUpToDate(t *testing.T) {
	for _, tt := range []struct {
		file     string
		embedded []byte
		build    func() ([]byte, error)
	}{{DemoASNFile, demoASN, mmdbtest.DemoASN}, {DemoCountryFile, demoCountry, mmdbtest.DemoCountry}} {
		want, err := tt.build()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(tt.embedded, want) {
			t.Errorf("%s is not what internal/geoip/gen writes: run go generate ./internal/geoip", tt.file)
		}
	}
}

func TestDemoLookup(t *testing.T) {
	r := Demo()
	defer r.Close()
	tests := []struct {
		addr string
		want Info
	}{
		{"192.0.2.9", Info{64496, "Example Hosting (demo data)", "NL", "Netherlands"}},
		{"192.0.2.150", Info{64497, "Sample Broadband (demo data)", "DE", "Germany"}},
		{"::ffff:198.51.100.23", Info{64498, "Documentation Cloud (demo data)", "US", "United States"}},
		{"203.0.113.45", Info{64499, "Test-Net Telecom (demo data)", "BR", "Brazil"}},
		{"2001:db8:4::17", Info{64500, "IPv6 Example Networks (demo data)", "FR", "France"}},
		{"2001:db8:beef::2%eth0", Info{64501, "Placeholder Datacenter (demo data)", "JP", "Japan"}},
		{"10.1.2.3", Info{}},
		{"2001:db9::1", Info{}},
	}
	for _, tt := range tests {
		got, err := r.Lookup(netip.MustParseAddr(tt.addr))
		if err != nil || got != tt.want {
			t.Errorf("Lookup(%s) = %+v, %v; want %+v", tt.addr, got, err, tt.want)
		}
	}
	if s := r.String(); s != "GeoLite2-ASN (demo-asn.mmdb), GeoLite2-Country (demo-country.mmdb)" {
		t.Errorf("String() = %q", s)
	}
	for _, db := range r.DBs() {
		if err := db.Verify(); err != nil {
			t.Error(err)
		}
	}
}

// writeDB writes a database of type dbType holding recs (network →
// record) and returns its path.
func writeDB(t *testing.T, dbType string, recs map[string]mmdbtype.Map) string {
	t.Helper()
	w, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, IncludeReservedNetworks: true})
	if err != nil {
		t.Fatal(err)
	}
	for network, rec := range recs {
		_, n, err := net.ParseCIDR(network)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Insert(n, rec); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), strings.ReplaceAll(dbType, " ", "-")+".mmdb")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLayouts: the layouts of other databases than GeoLite2's.
func TestLayouts(t *testing.T) {
	str := func(s string) mmdbtype.String { return mmdbtype.String(s) }
	tests := []struct {
		name   string
		dbType string
		recs   map[string]mmdbtype.Map
		want   map[string]Info
	}{
		{
			// A record without a country (an anycast network, say) falls
			// back to where the network is registered; other languages'
			// names are skipped.
			name: "DB-IP lite, registered country only", dbType: "DBIP-Country-Lite",
			recs: map[string]mmdbtype.Map{"192.0.2.0/24": {"registered_country": mmdbtype.Map{
				"iso_code": str("SE"), "names": mmdbtype.Map{"en": str("Sweden"), "de": str("Schweden")}}}},
			want: map[string]Info{"192.0.2.1": {Country: "SE", CountryName: "Sweden"}},
		},
		{
			name: "IPinfo Lite", dbType: "ipinfo lite.mmdb",
			recs: map[string]mmdbtype.Map{
				"192.0.2.0/24": {"country": str("Canada"), "country_code": str("CA"), "continent": str("North America"),
					"continent_code": str("NA"), "asn": str("AS64496"), "as_name": str("Example Cable"), "as_domain": str("example.net")},
				"198.51.100.0/24": {"country": str("Chile"), "country_code": str("CL"), "asn": str(""), "as_name": str("")},
			},
			want: map[string]Info{
				"192.0.2.1":    {64496, "Example Cable", "CA", "Canada"},
				"198.51.100.1": {Country: "CL", CountryName: "Chile"},
				"203.0.113.1":  {},
			},
		},
		{
			name: "IPinfo Country ASN", dbType: "ipinfo country_asn.mmdb",
			recs: map[string]mmdbtype.Map{"2001:db8::/32": {"country": str("KE"), "country_name": str("Kenya"),
				"continent": str("AF"), "continent_name": str("Africa"), "asn": str("AS64511"), "as_name": str("Example Mobile")}},
			want: map[string]Info{"2001:db8::1": {64511, "Example Mobile", "KE", "Kenya"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeDB(t, tt.dbType, tt.recs)
			db, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if db.Type() != tt.dbType || db.Path() != path {
				t.Errorf("Type, Path = %q, %q", db.Type(), db.Path())
			}
			for addr, want := range tt.want {
				got, err := db.Lookup(netip.MustParseAddr(addr))
				if err != nil || got != want {
					t.Errorf("Lookup(%s) = %+v, %v; want %+v", addr, got, err, want)
				}
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	asn, country, err := DemoDatabases(dir)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	link := filepath.Join(dir, "link.mmdb")
	if err := os.Symlink(asn, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		is   error
		says string
	}{
		{"missing", filepath.Join(dir, "GeoLite2-ASN.mmdb"), fs.ErrNotExist, "no such file"},
		{"empty", write("empty.mmdb", nil), nil, "not a MaxMind-format database"},
		{"a CSV", write("asn.csv", []byte("network,asn,org\n192.0.2.0/24,64496,x\n")), nil, "not a MaxMind-format database"},
		{"symbolic link", link, nil, "symbolic link"},
		{"a folder", dir, nil, "folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(tt.path)
			if err == nil {
				db.Close()
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.path) || !strings.Contains(err.Error(), tt.says) || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Errorf("error %q: want it to name %s, say %q and wrap %v", err, tt.path, tt.says, tt.is)
			}
		})
	}

	// One bad file of two: the other still answers.
	bad := tests[2].path
	r, err := OpenResolver(bad, "", country)
	if err == nil || !strings.Contains(err.Error(), bad) || strings.Contains(err.Error(), country) {
		t.Errorf("OpenResolver error %v: want one naming %s only", err, bad)
	}
	defer r.Close()
	got, err := r.Lookup(netip.MustParseAddr("203.0.113.45"))
	if want := (Info{Country: "BR", CountryName: "Brazil"}); err != nil || got != want {
		t.Errorf("Lookup with the country database only = %+v, %v; want %+v", got, err, want)
	}
}

func TestVerifyDamaged(t *testing.T) {
	b := bytes.Clone(demoASN)
	for i := range 64 { // the search tree: nodes that point nowhere
		b[i] = 0xff
	}
	path := filepath.Join(t.TempDir(), "damaged.mmdb")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v (the header is intact: want Verify to find the damage)", err)
	}
	defer db.Close()
	if err := db.Verify(); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Verify() = %v, want an error naming %s", err, path)
	}
}

func BenchmarkLookup(b *testing.B) {
	// 65,536 IPv4 networks and 4,096 IPv6 ones, as a real database holds
	// hundreds of thousands: the lookup walks as deep a tree.
	var entries []mmdbtest.Entry
	for i := range 1 << 16 {
		entries = append(entries, mmdbtest.Entry{Network: fmt.Sprintf("%d.%d.%d.0/24", 11+i>>14, (i>>8)&63, i&255), ASN: uint32(i + 1), Org: fmt.Sprintf("Provider %d", i%500)})
	}
	for i := range 1 << 12 {
		entries = append(entries, mmdbtest.Entry{Network: fmt.Sprintf("2001:db8:%x::/48", i), ASN: uint32(i + 1), Org: "v6"})
	}
	data, err := mmdbtest.ASN("benchmark", entries)
	if err != nil {
		b.Fatal(err)
	}
	db, err := openBytes("benchmark.mmdb", data)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	addrs := []netip.Addr{netip.MustParseAddr("11.3.7.9"), netip.MustParseAddr("14.60.200.1"), netip.MustParseAddr("2001:db8:fff::1"), netip.MustParseAddr("192.0.2.1")}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := db.Lookup(addrs[i%len(addrs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
