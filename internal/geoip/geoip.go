// Package geoip tells which provider (autonomous system) and country an
// address belongs to, from MaxMind-format databases that the admin points
// at: GeoLite2-ASN and GeoLite2-Country (or GeoLite2-City), DB-IP's free
// "lite" databases in the same layout, or IPinfo's free Lite (or Country
// ASN) database, which holds both in a layout of its own.
//
// The organisation and country names it returns are data from a file that
// someone else wrote: callers must escape them for each channel's markup
// exactly like text from an attacker.
//
// A database that is missing or damaged gives an error that names its file,
// for `check` to show and for a report to carry as a note; the report goes
// on without what that file would have told. The demo databases embedded
// here (Demo, DemoDatabases) cover only the documentation address ranges.
package geoip

//go:generate go run ./gen .

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/oschwald/maxminddb-golang/v2"

	"github.com/f2b-notify/f2b-notify/internal/fsguard"
)

// Info is what the databases know of one address; a field the databases do
// not know stays zero.
type Info struct {
	ASN         uint32 // autonomous system number: 64496
	Org         string // the organisation that holds it: "Example Hosting"
	Country     string // ISO 3166-1 alpha-2 code: "NL"
	CountryName string // the country's English name: "Netherlands"
}

// DB is one open database. Lookups are safe for concurrent use.
type DB struct {
	path string
	r    *maxminddb.Reader
	flat bool // IPinfo's layout
}

// record is the part of a GeoLite2-ASN, -Country or -City record (and of
// DB-IP's lite ones) that Info holds. Decoding into named struct fields
// skips the names in the other languages.
type record struct {
	ASN     uint32  `maxminddb:"autonomous_system_number"`
	Org     string  `maxminddb:"autonomous_system_organization"`
	Country country `maxminddb:"country"`
	// registered_country: where the network is registered, when the
	// database does not say where it is used.
	Registered country `maxminddb:"registered_country"`
}

// flatRecord is the layout of IPinfo's free databases: Lite (country is
// the name, country_code the ISO code) and the older Country ASN (country
// is the ISO code, country_name the name); asn reads "AS64496".
type flatRecord struct {
	Country     string `maxminddb:"country"`
	CountryCode string `maxminddb:"country_code"`
	CountryName string `maxminddb:"country_name"`
	ASN         string `maxminddb:"asn"`
	ASName      string `maxminddb:"as_name"`
}

func (f flatRecord) info() Info {
	info := Info{Org: f.ASName, Country: f.Country, CountryName: f.CountryName}
	if f.CountryCode != "" {
		info.Country, info.CountryName = f.CountryCode, f.Country
	}
	if n, err := strconv.ParseUint(strings.TrimPrefix(strings.ToUpper(f.ASN), "AS"), 10, 32); err == nil {
		info.ASN = uint32(n)
	}
	if info.ASN == 0 {
		info.Org = ""
	}
	return info
}

type country struct {
	ISO   string `maxminddb:"iso_code"`
	Names struct {
		En string `maxminddb:"en"`
	} `maxminddb:"names"`
}

// Open reads the database at path, without following a symbolic link. It
// holds the whole file in memory (GeoLite2-ASN and -Country are under 10
// MB), so a database replaced while it is open does not change under it.
func Open(path string) (*DB, error) {
	b, err := fsguard.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("open GeoIP database: %w", err)
	}
	return openBytes(path, b)
}

func openBytes(path string, b []byte) (*DB, error) {
	r, err := maxminddb.OpenBytes(b)
	if err != nil {
		return nil, fmt.Errorf("open GeoIP database %s: not a MaxMind-format database: %w", path, err)
	}
	flat := strings.HasPrefix(strings.ToLower(r.Metadata.DatabaseType), "ipinfo")
	return &DB{path: path, r: r, flat: flat}, nil
}

// Path returns the file the database was read from.
func (db *DB) Path() string { return db.path }

// Type returns the type the database says it is: "GeoLite2-ASN",
// "GeoLite2-Country", "DBIP-Country-Lite", ...
func (db *DB) Type() string { return db.r.Metadata.DatabaseType }

// Verify checks the whole database, not only its header, by reading every
// record: for `check`, not for every report.
func (db *DB) Verify() error {
	if err := db.r.Verify(); err != nil {
		return fmt.Errorf("GeoIP database %s is damaged: %w", db.path, err)
	}
	return nil
}

// Lookup returns what the database knows of addr; an address it does not
// cover gives a zero Info and no error.
func (db *DB) Lookup(addr netip.Addr) (Info, error) {
	res := db.r.Lookup(addr.Unmap().WithZone(""))
	if db.flat {
		var rec flatRecord
		if err := res.Decode(&rec); err != nil {
			return Info{}, fmt.Errorf("look up %s in GeoIP database %s: %w", addr, db.path, err)
		}
		return rec.info(), nil
	}
	var rec record
	if err := res.Decode(&rec); err != nil {
		return Info{}, fmt.Errorf("look up %s in GeoIP database %s: %w", addr, db.path, err)
	}
	info := Info{ASN: rec.ASN, Org: rec.Org, Country: rec.Country.ISO, CountryName: rec.Country.Names.En}
	if info.Country == "" {
		info.Country, info.CountryName = rec.Registered.ISO, rec.Registered.Names.En
	}
	return info, nil
}

// Close releases the database.
func (db *DB) Close() error { return db.r.Close() }

// Resolver looks addresses up in several databases (typically one for
// providers and one for countries) and merges what they say. The zero
// Resolver knows nothing and is ready to use.
type Resolver struct {
	dbs []*DB
}

// OpenResolver opens each of paths ("" is skipped) and returns a Resolver
// of those that opened, along with one error per file that did not (joined
// by errors.Join, each naming its file): the caller can say so and carry on
// with what it has.
func OpenResolver(paths ...string) (*Resolver, error) {
	r := &Resolver{}
	var errs []error
	for _, p := range paths {
		if p == "" {
			continue
		}
		db, err := Open(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.dbs = append(r.dbs, db)
	}
	return r, errors.Join(errs...)
}

// DBs returns the databases of r, in the order they were given.
func (r *Resolver) DBs() []*DB { return r.dbs }

// Lookup returns what the databases know of addr: each field from the
// first database that knows it. A database that fails gives its error (all
// such errors joined) and the others still answer.
func (r *Resolver) Lookup(addr netip.Addr) (Info, error) {
	var info Info
	var errs []error
	for _, db := range r.dbs {
		in, err := db.Lookup(addr)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if info.ASN == 0 && in.ASN != 0 {
			info.ASN, info.Org = in.ASN, in.Org
		}
		if info.Country == "" && in.Country != "" {
			info.Country, info.CountryName = in.Country, in.CountryName
		}
	}
	return info, errors.Join(errs...)
}

// Close closes every database of r.
func (r *Resolver) Close() error {
	var errs []error
	for _, db := range r.dbs {
		errs = append(errs, db.Close())
	}
	return errors.Join(errs...)
}

// String names the databases of r for a note: "GeoLite2-ASN
// (/var/lib/GeoIP/GeoLite2-ASN.mmdb), ...".
func (r *Resolver) String() string {
	var parts []string
	for _, db := range r.dbs {
		parts = append(parts, db.Type()+" ("+db.path+")")
	}
	return strings.Join(parts, ", ")
}
