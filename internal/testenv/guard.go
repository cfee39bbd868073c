package testenv

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/f2b-notify/f2b-notify/internal/defaults"
)

// defaultConfig is the default configuration of the programs under test,
// written by Main; "" outside it.
var defaultConfig string

// Main runs the tests of a package that runs f2b-notify (run is m.Run, or
// what the package's TestMain does around it) so that no test reaches the
// machine's default buffer folder, /var/lib/f2b-notify. A ban whose
// configuration cannot be used stores its record in the folder of the
// default configuration, so Main points $F2B_NOTIFY_CONFIG at a file of its
// own whose buffer.dir is in a temporary folder (see DefaultConfig), after
// removing every F2B_NOTIFY_* variable of the environment: only the files
// the tests write decide. It fails the run, saying what is there, when the
// default folder was created or changed all the same (a test that pointed
// $F2B_NOTIFY_CONFIG at a file that cannot be used either). It returns the
// status for os.Exit.
func Main(run func() int) int {
	return guard(defaults.BufferDir, os.Stderr, run)
}

// guard is Main, keeping watch on the folder guarded and saying what went
// wrong on w.
func guard(guarded string, w io.Writer, run func() int) int {
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, defaults.EnvPrefix+"_") {
			os.Unsetenv(k)
		}
	}
	dir, err := os.MkdirTemp("", "f2bn-default-")
	if err != nil {
		fmt.Fprintf(w, "testenv: folder for the default configuration: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	defaultConfig = filepath.Join(dir, "config.yaml")
	defer func() { defaultConfig = "" }()
	body := "# written by internal/testenv: where a test's ban goes when its configuration cannot be used\n" +
		"buffer:\n  dir: " + filepath.Join(dir, "buffer") + "\n  fsync: false\n" +
		"flag: " + filepath.Join(dir, "mail.flag") + "\n"
	if err := os.WriteFile(defaultConfig, []byte(body), 0o600); err != nil {
		fmt.Fprintf(w, "testenv: write the default configuration: %v\n", err)
		return 1
	}
	os.Setenv(defaults.EnvConfig, defaultConfig)
	defer os.Unsetenv(defaults.EnvConfig)

	before := snapshot(guarded)
	code := run()
	if after := snapshot(guarded); after != before {
		what := "created"
		if before != "" {
			what = "changed"
		}
		fmt.Fprintf(w, "testenv: FAIL: %s, the default buffer folder, was %s while these tests ran (by them, or by others running at the same time); no test may write there.\n"+
			"A ban whose configuration cannot be used goes there when $%s names a file that cannot be used either, or when the program runs without it: run programs with testenv.Env.\n"+
			"Its records name the file that failed in their \"config\" field. Look, then remove what the tests left. Now there:\n%s",
			guarded, what, defaults.EnvConfig, after)
		return 1
	}
	return code
}

// snapshot says what is in the folder dir, a line a file: its path, size
// and modification time; "" when there is no such folder.
func snapshot(dir string) string {
	var b strings.Builder
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path != dir || !errors.Is(err, fs.ErrNotExist) {
				fmt.Fprintf(&b, "  %s: %v\n", path, err)
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			fmt.Fprintf(&b, "  %s: %v\n", path, err)
			return nil
		}
		fmt.Fprintf(&b, "  %s %s %d bytes %s\n", path, info.Mode(), info.Size(), info.ModTime().UTC().Format(time.RFC3339Nano))
		return nil
	})
	return b.String()
}

// DefaultConfig is the default configuration ($F2B_NOTIFY_CONFIG) that Main
// gives the programs under test. Its buffer.dir, DefaultBufferDir, is where a
// ban whose configuration cannot be used is stored. It panics outside Main:
// a package that runs f2b-notify runs its tests through Main.
func DefaultConfig() string {
	if defaultConfig == "" {
		panic("testenv: the package's TestMain does not run its tests through testenv.Main")
	}
	return defaultConfig
}

// DefaultBufferDir is the buffer folder of DefaultConfig.
func DefaultBufferDir() string {
	return filepath.Join(filepath.Dir(DefaultConfig()), "buffer")
}

// Env is the environment of a program under test: this process's, without
// any F2B_NOTIFY_* variable but $F2B_NOTIFY_CONFIG naming DefaultConfig, then
// extra (KEY=VALUE; a later one wins).
func Env(extra ...string) []string {
	env := []string{defaults.EnvConfig + "=" + DefaultConfig()}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, defaults.EnvPrefix+"_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}
