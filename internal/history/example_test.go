package history_test

import (
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/f2b-notify/f2b-notify/internal/history"
)

func Example() {
	dir, _ := os.MkdirTemp("", "history")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "history.bin")

	// Each report: load, compare, record, prune, save.
	start := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	for day, addrs := range [][]string{{"203.0.113.45", "198.51.100.23"}, {"203.0.113.45"}} {
		h, err := history.Load(path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			fmt.Println("note:", err) // a report with no history, never a failed one
		}
		now := start.AddDate(0, 0, day)
		var list []netip.Addr
		for _, a := range addrs {
			list = append(list, netip.MustParseAddr(a))
			if first, _, count, ok := h.Lookup(netip.MustParseAddr(a)); ok {
				fmt.Printf("%s: reported %d times since %s\n", a, count, first.UTC().Format("Jan 2"))
			} else {
				fmt.Printf("%s: new\n", a)
			}
		}
		if prev, ok := h.Previous(); ok {
			fmt.Printf("previous report: %d bans in sshd\n", prev.Jails[0].Bans)
		}
		h.Record(now, slices.Values(list), []history.JailTotal{{Jail: "sshd", Bans: 2 * len(list), Addresses: len(list)}})
		h.Prune(now, 90*24*time.Hour, 1_000_000)
		if err := h.Save(path, true); err != nil {
			fmt.Println(err)
		}
	}
	// Output:
	// 203.0.113.45: new
	// 198.51.100.23: new
	// 203.0.113.45: reported 1 times since Mar 1
	// previous report: 4 bans in sshd
}
