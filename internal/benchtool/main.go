// Command benchtool makes the data and the floors of scripts/bench:
//
//	benchtool gen -n RECORDS -ips DISTINCT -o FILE   write a realistic buffer file
//	benchtool floor FILE                              decode FILE with encoding/json, nothing else
//	benchtool writers -dir DIR -w 8 -n 10000          8 processes' worth of concurrent appends, timed
//	benchtool check FILE N                            every line intact, N unique records
//
// Each subcommand prints one line of results; peak memory is read by the
// caller (GNU time).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/f2b-notify/f2b-notify/buffer"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchtool gen|floor|writers|check ...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "floor":
		err = floor(os.Args[2:])
	case "writers":
		err = writers(os.Args[2:])
	case "check":
		err = check(os.Args[2:])
	default:
		err = fmt.Errorf("unknown subcommand %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtool:", err)
		os.Exit(1)
	}
}

var jails = []string{"sshd", "sshd", "sshd", "postfix-sasl", "nginx-http-auth", "dovecot", "recidive"}
var users = []string{"root", "admin", "ubuntu", "oracle", "git", "test", "pi", "postgres", "user", "guest"}

// gen writes n records from ips distinct addresses (a quarter IPv6), with
// user names and two log lines each, as `ban` would have.
func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	n := fs.Int("n", 100000, "records")
	ips := fs.Int("ips", 10000, "distinct addresses")
	out := fs.String("o", "", "output file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := float64(time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC).Unix())
	for i := range *n {
		k := rng.IntN(*ips)
		ip := fmt.Sprintf("%d.%d.%d.%d", 10+k>>16&0x3f, k>>8&255, k&255, 1+k%250)
		if k%4 == 0 {
			ip = fmt.Sprintf("2001:db8:%x::%x", k>>16, k&0xffff)
		}
		u := users[rng.IntN(len(users))]
		t := t0 + float64(i)*0.08
		r := buffer.Record{V: 1, Action: "ban", Jail: jails[k%len(jails)], IP: ip, Time: t, At: int64(t) + 1,
			Failures: 2 + rng.IntN(5), Bantime: 600, User: u, Matches: []string{
				fmt.Sprintf("Nov 24 %02d:%02d:%02d vm sshd[%d]: Invalid user %s from %s port %d", i/3600%24, i/60%60, i%60, 1000+i%60000, u, ip, 20000+i%40000),
				fmt.Sprintf("Nov 24 %02d:%02d:%02d vm sshd[%d]: Connection closed by invalid user %s %s port %d [preauth]", i/3600%24, i/60%60, i%60, 1000+i%60000, u, ip, 20000+i%40000),
			}}
		line, err := r.Marshal()
		if err != nil {
			return err
		}
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// floor decodes every line of FILE into a buffer.Record with encoding/json:
// the least any reader of the buffer must do.
func floor(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("floor FILE")
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 256<<10), buffer.MaxLine)
	n := 0
	for sc.Scan() {
		var r buffer.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return err
		}
		n++
	}
	fmt.Printf("decoded %d records\n", n)
	return sc.Err()
}

// writers runs w child processes of this program that each append n/w
// records through buffer.Append (flock, one write, fsync as configured), and
// prints bans per second.
func writers(args []string) error {
	fs := flag.NewFlagSet("writers", flag.ContinueOnError)
	dir := fs.String("dir", "", "buffer folder")
	w := fs.Int("w", 8, "writer processes")
	n := fs.Int("n", 10000, "records in all")
	bin := fs.String("ban", "", "if set, exec this f2b-notify(-ban) binary once per ban instead of appending in-process")
	child := fs.Int("child", -1, "internal: be writer number CHILD")
	fsync := fs.Bool("fsync", true, "fsync each append")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *child >= 0 {
		b := buffer.New(*dir, *fsync)
		for i := range *n / *w {
			r := &buffer.Record{V: 1, Action: "ban", Jail: "sshd", IP: fmt.Sprintf("10.%d.%d.%d", *child, i>>8, i&255), Time: float64(1795600000 + i), Failures: 3,
				Matches: []string{"Nov 25 17:36:52 vm sshd[1001]: Invalid user root from 10.0.0.1 port 22"}}
			if *bin != "" {
				cmd := exec.Command(*bin, "ban", "--jail", r.Jail, "--ip", r.IP, "--time", strconv.FormatFloat(r.Time, 'f', -1, 64), "--failures", "3", "--matches", r.Matches[0])
				cmd.Env = append(os.Environ(), "F2B_NOTIFY_CONFIG="+benchConfig(*dir))
				if out, err := cmd.CombinedOutput(); err != nil {
					return fmt.Errorf("%s: %v %s", *bin, err, out)
				}
				continue
			}
			if err := b.Append(r); err != nil {
				return err
			}
		}
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if *bin != "" {
		// The ban binaries read a configuration file; a missing one is an error.
		body := fmt.Sprintf("buffer:\n  dir: %s\n  fsync: %t\nflag: \"\"\n", *dir, *fsync)
		if err := os.MkdirAll(*dir, 0o750); err != nil {
			return err
		}
		if err := os.WriteFile(benchConfig(*dir), []byte(body), 0o600); err != nil {
			return err
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, *w)
	for c := range *w {
		wg.Go(func() {
			cmd := exec.Command(self, "writers", "-dir", *dir, "-w", strconv.Itoa(*w), "-n", strconv.Itoa(*n), "-child", strconv.Itoa(c), "-fsync="+strconv.FormatBool(*fsync), "-ban", *bin)
			if out, err := cmd.CombinedOutput(); err != nil {
				errs <- fmt.Errorf("writer %d: %v %s", c, err, out)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return err
	}
	el := time.Since(start)
	fmt.Printf("writers=%d records=%d seconds=%.2f bans_per_second=%.0f\n", *w, *n, el.Seconds(), float64(*n)/el.Seconds())
	return nil
}

// benchConfig is the configuration file the ban binaries read, in the
// buffer folder itself.
func benchConfig(dir string) string { return filepath.Join(dir, "bench-config.yaml") }

// check verifies that FILE holds exactly N records, all intact and unique.
func check(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("check FILE N")
	}
	want, err := strconv.Atoi(args[1])
	if err != nil {
		return err
	}
	f, err := os.Open(args[0])
	if err != nil {
		return err
	}
	defer f.Close()
	seen := map[string]bool{}
	dups := 0
	st, err := buffer.Scan(f, func(r *buffer.Record) error {
		k := r.IP + "|" + strconv.FormatFloat(r.Time, 'f', -1, 64)
		if seen[k] {
			dups++
		}
		seen[k] = true
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Printf("records=%d torn=%d duplicates=%d unique=%d\n", st.Records, st.Torn, dups, len(seen))
	if st.Records != want || st.Torn != 0 || dups != 0 {
		return fmt.Errorf("want %d intact unique records", want)
	}
	return nil
}
