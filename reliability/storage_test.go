//go:build integration

package reliability

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mountTmpfs mounts a tmpfs of the given size on dir (root only) and
// unmounts it when the test ends, also when it fails.
func mountTmpfs(t *testing.T, dir, size string) error {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0755"); err != nil {
		return fmt.Errorf("mount tmpfs on %s: %w", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			// Busy (a process still in it): detach, so nothing is left mounted.
			if err2 := syscall.Unmount(dir, syscall.MNT_DETACH); err2 != nil {
				t.Errorf("unmount %s: %v, then %v", dir, err, err2)
			}
		}
	})
	return nil
}

// remount makes the tmpfs on dir read-only or writable again.
func remount(t *testing.T, dir, size string, readOnly bool) {
	t.Helper()
	flags := uintptr(syscall.MS_REMOUNT)
	if readOnly {
		flags |= syscall.MS_RDONLY
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", flags, "size="+size); err != nil {
		t.Fatalf("remount %s (read-only %v): %v", dir, readOnly, err)
	}
}

// nobody is the credential of the unprivileged user the tests run bans as.
var nobody = &syscall.Credential{Uid: 65534, Gid: 65534}

// oneLineError checks the shape of a refused ban: a non-zero exit, nothing on
// standard output, and one line on standard error that names what.
func oneLineError(t *testing.T, what string, r result, mustName ...string) {
	t.Helper()
	line := strings.TrimSuffix(r.Err, "\n")
	switch {
	case r.Code <= 0:
		t.Errorf("%s: exit %d, want non-zero: %v", what, r.Code, r)
	case r.Out != "":
		t.Errorf("%s: wrote to standard output: %v", what, r)
	case line == "" || strings.Contains(line, "\n"):
		t.Errorf("%s: want exactly one line on standard error: %v", what, r)
	}
	for _, s := range mustName {
		if !strings.Contains(line, s) {
			t.Errorf("%s: the error does not name %q: %q", what, s, line)
		}
	}
}

// storageCase is one storage fault: set it up, check the ban is refused and
// nothing stored changes, clear it, check the next ban is stored.
type storageCase struct {
	name   string
	wantOK bool // the fault does not concern the ban path: the ban succeeds
	setup  func(t *testing.T, s *site) (cred *syscall.Credential, clear func())
	// names are substrings the one-line error must hold
	names func(s *site) []string
	// matches is the --matches of the faulty ban
	matches string
	// fresh: the fault is a missing folder, so no record is there before
	fresh bool
}

func TestStorageFaults(t *testing.T) {
	root := os.Geteuid() == 0
	bigMatch := strings.Repeat("Nov 25 17:36:52 vm sshd[1001]: Invalid user x from 203.0.113.9 port 22 ", 200) // ~16 KiB
	cases := []storageCase{
		{
			name:   "folder-missing",
			wantOK: true,
			fresh:  true,
			setup: func(t *testing.T, s *site) (*syscall.Credential, func()) {
				if err := os.RemoveAll(s.buf); err != nil {
					t.Fatal(err)
				}
				return nil, func() {}
			},
		},
		{
			name: "read-only-filesystem",
			setup: func(t *testing.T, s *site) (*syscall.Credential, func()) {
				if !root {
					return chmodReadOnly(t, s)
				}
				remount(t, filepath.Dir(s.buf), "1m", true)
				return nil, func() { remount(t, filepath.Dir(s.buf), "1m", false) }
			},
			names: func(s *site) []string { return []string{s.buf} },
		},
		{
			name: "folder-not-writable-for-user",
			setup: func(t *testing.T, s *site) (*syscall.Credential, func()) {
				return chmodReadOnly(t, s)
			},
			names: func(s *site) []string { return []string{s.buf} },
		},
		{
			name:    "filesystem-full",
			matches: bigMatch,
			setup: func(t *testing.T, s *site) (*syscall.Credential, func()) {
				if !root {
					t.Fatalf("the full-filesystem case needs root to mount a small tmpfs")
				}
				clear := fillUp(t, filepath.Dir(s.buf), 0)
				return nil, clear
			},
			names: func(s *site) []string { return []string{filepath.Join(s.buf, "pending.jsonl")} },
		},
		{
			// One page left: the kernel takes part of the record, then
			// refuses the rest. The buffer must be cut back.
			name:    "filesystem-full-part-way",
			matches: bigMatch,
			setup: func(t *testing.T, s *site) (*syscall.Credential, func()) {
				if !root {
					t.Fatalf("the full-filesystem case needs root to mount a small tmpfs")
				}
				clear := fillUp(t, filepath.Dir(s.buf), 1)
				return nil, clear
			},
			names: func(s *site) []string { return []string{filepath.Join(s.buf, "pending.jsonl")} },
		},
		{
			// The ban path only looks at the flag: a flag in a folder it
			// cannot write, or under a file, costs no ban.
			name:   "flag-path-unwritable",
			wantOK: true,
			setup: func(t *testing.T, s *site) (*syscall.Credential, func()) {
				notDir := filepath.Join(s.dir, "not-a-folder")
				if err := os.WriteFile(notDir, nil, 0o600); err != nil {
					t.Fatal(err)
				}
				s.rewriteFlag(filepath.Join(notDir, "mail.flag"))
				return nil, func() { s.rewriteFlag(s.flag) }
			},
		},
	}
	tried, lost := 0, 0
	for _, c := range cases {
		for prog, path := range banBinaries() {
			t.Run(c.name+"/"+prog, func(t *testing.T) {
				s := newStorageSite(t, root)
				// Records stored before the fault.
				for i := range 2 {
					if r := s.ban(path, "--jail", "sshd", "--ip", ipN(i+1)); r.Code != 0 {
						t.Fatalf("ban before the fault: %v", r)
					}
				}
				tried += 2
				before := s.pendingBytes()
				cred, clear := c.setup(t, s)
				args := []string{path, "--config", s.cfg, "ban", "--jail", "sshd", "--ip", ipN(100), "--failures", "4"}
				if c.matches != "" {
					args = append(args, "--matches", c.matches)
				}
				r := run(t, proc{argv: args, cred: cred})
				tried++
				if c.wantOK {
					if r.Code != 0 || r.Out != "" || r.Err != "" {
						t.Errorf("ban with the fault %s: %v", c.name, r)
					}
				} else {
					var names []string
					if c.names != nil {
						names = c.names(s)
					}
					oneLineError(t, "ban with the fault "+c.name, r, append(names, ipN(100))...)
					t.Logf("the refused ban said: %s", strings.TrimSpace(r.Err))
					lost++ // refused, as it must be: fail2ban logs it
				}
				clear()
				if after := s.pendingBytes(); !c.wantOK && !bytes.Equal(before, after) {
					t.Errorf("the refused ban changed pending.jsonl from %d to %d bytes", len(before), len(after))
				}
				// The fault is gone: the next ban is stored.
				if r := s.ban(path, "--jail", "sshd", "--ip", ipN(200), "--failures", "5"); r.Code != 0 {
					t.Errorf("ban after the fault cleared: %v", r)
				}
				tried++
				recs, st := s.records()
				want := map[string]bool{ipN(200): true}
				if !c.fresh {
					want[ipN(1)], want[ipN(2)] = true, true
				}
				if c.wantOK {
					want[ipN(100)] = true
				}
				got := map[string]bool{}
				for _, r := range recs {
					got[r.IP] = true
				}
				for ip := range want {
					if !got[ip] {
						t.Errorf("record %s missing after the fault cleared", ip)
					}
				}
				if st.Torn != 0 {
					t.Errorf("%d damaged lines in the buffer after the fault", st.Torn)
				}
				if !c.wantOK && got[ipN(100)] {
					t.Errorf("the refused ban was stored after all")
				}
			})
		}
	}
	// lost counts refused bans: fail2ban logged each; none was silently lost.
	figures(t, "storage", tried, 0, 0, 0, fmt.Sprintf("cases=%d", len(cases)), fmt.Sprintf("refused_with_error=%d", lost),
		fmt.Sprintf("as_root=%v", root))
}

// newStorageSite is a site whose buffer folder lies on a 1 MiB tmpfs of its
// own (mounted on the buffer's parent) when running as root, in a folder that
// the unprivileged user can reach.
func newStorageSite(t *testing.T, root bool) *site {
	t.Helper()
	dir, err := os.MkdirTemp("", "f2bn-storage-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	mnt := filepath.Join(dir, "mnt")
	s := &site{t: t, dir: dir, buf: filepath.Join(mnt, "buf"), cfg: filepath.Join(dir, "config.yaml"), flag: filepath.Join(dir, "mail.flag")}
	s.writeConfig(siteOptions{fsync: true, channels: "  log:\n    type: file\n    path: {DIR}/reports.txt\n"})
	if err := os.Chmod(s.cfg, 0o644); err != nil { // readable by nobody; it holds no secret
		t.Fatal(err)
	}
	if root {
		if err := mountTmpfs(t, mnt, "1m"); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// rewriteFlag points the site's configuration at another flag file.
func (s *site) rewriteFlag(flag string) {
	s.t.Helper()
	b, err := os.ReadFile(s.cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "flag: ") {
			l = "flag: " + flag
		}
		out = append(out, l)
	}
	if err := os.WriteFile(s.cfg, []byte(strings.Join(out, "\n")), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// chmodReadOnly makes the buffer folder and its files read-only for the user
// who bans: as root the ban then runs as nobody (root ignores modes).
func chmodReadOnly(t *testing.T, s *site) (*syscall.Credential, func()) {
	t.Helper()
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		cred = nobody
	}
	files, _ := filepath.Glob(filepath.Join(s.buf, "*"))
	for _, f := range files {
		if err := os.Chmod(f, 0o400); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(s.buf, 0o555); err != nil {
		t.Fatal(err)
	}
	return cred, func() {
		if err := os.Chmod(s.buf, 0o750); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if err := os.Chmod(f, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// fillUp fills the filesystem of dir with 4 KiB files until it is full, then
// frees `free` of them. It returns a function that removes the filling.
func fillUp(t *testing.T, dir string, free int) func() {
	t.Helper()
	fill := filepath.Join(dir, "filling")
	if err := os.Mkdir(fill, 0o700); err != nil {
		t.Fatal(err)
	}
	page := bytes.Repeat([]byte{'f'}, 4096)
	var names []string
	for i := 0; ; i++ {
		name := filepath.Join(fill, strconv.Itoa(i))
		err := os.WriteFile(name, page, 0o600)
		if err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling %s: %v", dir, err)
			}
			os.Remove(name)
			break
		}
		names = append(names, name)
		if i > 100000 {
			t.Fatalf("%s never filled up", dir)
		}
	}
	for i := 0; i < free && len(names) > 0; i++ {
		os.Remove(names[len(names)-1])
		names = names[:len(names)-1]
	}
	time.Sleep(10 * time.Millisecond)
	return func() {
		if err := os.RemoveAll(fill); err != nil {
			t.Fatal(err)
		}
	}
}
