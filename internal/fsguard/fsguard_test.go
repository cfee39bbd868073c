package fsguard

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const nobody = 65534

func TestOpenRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "secret")
	if err := os.WriteFile(target, []byte("root only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{link: "a symbolic link", dir: "a folder", fifo: "a named pipe"} {
		// O_RDONLY on a pipe would block for ever without a writer.
		for _, flag := range []int{os.O_RDONLY, os.O_WRONLY | os.O_APPEND | os.O_CREATE | os.O_TRUNC} {
			f, err := Open(name, flag, 0o600)
			if err == nil {
				f.Close()
				t.Errorf("Open(%s, %#x) succeeded", name, flag)
				continue
			}
			// Opening a folder to write fails with EISDIR, a pipe without
			// a reader with ENXIO: refused all the same.
			if !errors.Is(err, ErrNotRegular) && !(name == dir && errors.Is(err, syscall.EISDIR)) && !(name == fifo && errors.Is(err, syscall.ENXIO)) {
				t.Errorf("Open(%s, %#x): %v, want ErrNotRegular", name, flag, err)
			}
			if flag == os.O_RDONLY && !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), name) {
				t.Errorf("Open(%s): %q does not say %q and name the file", name, err, want)
			}
		}
	}
	if b, _ := os.ReadFile(target); string(b) != "root only\n" {
		t.Errorf("the link's target changed: %q", b)
	}
	f, err := Open(filepath.Join(dir, "new"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatalf("Open a new regular file: %v", err)
	}
	if _, err := f.WriteString("x\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if b, err := ReadFile(filepath.Join(dir, "new")); err != nil || string(b) != "x\n" {
		t.Errorf("ReadFile = %q, %v", b, err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFile of a missing file: %v, want ErrNotExist", err)
	}
}

// TestCheck runs Check on paths any user can set up.
func TestCheck(t *testing.T) {
	checkCases(t, []checkCase{
		{"file 0644 in a 0755 folder", func(t *testing.T, d string) string { return mk(t, d+"/f", 0o644, false) }, "", ""},
		{"missing file in a safe folder", func(t *testing.T, d string) string { return d + "/a/b/c" }, "", ""},
		{"file 0666", func(t *testing.T, d string) string { return mk(t, d+"/f", 0o666, false) }, "/f", "writable by every user (mode 0666)"},
		{"file 0664", func(t *testing.T, d string) string { return mk(t, d+"/f", 0o664, false) }, "/f", "writable by its group"},
		{"folder above 0777", func(t *testing.T, d string) string {
			mk(t, d+"/open", 0o777, true)
			return mk(t, d+"/open/f", 0o600, false)
		}, "/open", "writable by every user (mode 0777)"},
		{"missing file in a 0777 folder", func(t *testing.T, d string) string {
			mk(t, d+"/open", 0o777, true)
			return d + "/open/new/f"
		}, "/open", "writable by every user"},
		{"the checked folder itself 1777", func(t *testing.T, d string) string { return mk(t, d+"/tmp", os.ModeSticky|0o777, true) }, "/tmp", "writable by every user (mode 1777)"},
		{"link to a 0666 file", func(t *testing.T, d string) string {
			mk(t, d+"/f", 0o666, false)
			if err := os.Symlink(d+"/f", d+"/link"); err != nil {
				t.Fatal(err)
			}
			return d + "/link"
		}, "/f", "writable by every user"},
		{"link in a 0777 folder to a safe file", func(t *testing.T, d string) string {
			mk(t, d+"/open", 0o777, true)
			mk(t, d+"/f", 0o600, false)
			if err := os.Symlink(d+"/f", d+"/open/link"); err != nil {
				t.Fatal(err)
			}
			return d + "/open/link"
		}, "/open", "writable by every user"},
	})
}

// checkCase is a path set up in a fresh folder and what Check says of it.
type checkCase struct {
	name  string
	setup func(t *testing.T, dir string) string // returns the path to check
	fault string                                // "" when safe; else the path named at fault
	says  string
}

// mk creates the file or folder p with mode and returns p.
func mk(t *testing.T, p string, mode os.FileMode, dir bool) string {
	t.Helper()
	var err error
	if dir {
		err = os.Mkdir(p, 0o700)
	} else {
		err = os.WriteFile(p, []byte("x"), 0o600)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkCases runs Check on each case's path.
func checkCases(t *testing.T, cases []checkCase) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			p := c.setup(t, dir)
			err := Check(p)
			if c.fault == "" {
				if err != nil {
					t.Errorf("Check(%s): %v, want nil", p, err)
				}
				return
			}
			var ue *UnsafeError
			if !errors.As(err, &ue) {
				t.Fatalf("Check(%s): %v, want an *UnsafeError", p, err)
			}
			if ue.Path != dir+c.fault || !strings.Contains(err.Error(), c.says) || !strings.HasPrefix(err.Error(), p) {
				t.Errorf("Check(%s) = %q, want it to start with the path, blame %s and say %q", p, err, dir+c.fault, c.says)
			}
		})
	}
}

func TestCheckAsTheOwner(t *testing.T) {
	// A user's own files are safe for that user, as root's are for root.
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if err := os.Chown(dir, nobody, nobody); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, nobody, nobody); err != nil {
			t.Fatal(err)
		}
		euid = func() int { return nobody }
		t.Cleanup(func() { euid = os.Geteuid })
	}
	if err := Check(p); err != nil {
		t.Errorf("Check of the user's own file: %v", err)
	}
}

func TestOpenWritable(t *testing.T) {
	dir := t.TempDir()
	for mode, want := range map[os.FileMode]string{0o755: "", os.ModeSticky | 0o777: "", 0o777: "writable by every user (mode 0777) without the sticky bit", 0o775: "writable by its group"} {
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
		got := OpenWritable(dir)
		if want == "" && got != "" || !strings.Contains(got, want) {
			t.Errorf("OpenWritable(mode %o) = %q, want %q", mode, got, want)
		}
	}
}
