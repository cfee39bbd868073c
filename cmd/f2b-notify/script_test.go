package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gofrs/flock"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/f2b-notify/f2b-notify/internal/testenv"
)

// TestMain makes the test binary double as f2b-notify: testscript puts a copy
// named f2b-notify on the scripts' PATH and runs Main when argv[0] is that
// name. The detached flush that `ban` starts re-executes os.Executable() with
// the same argv[0], so it runs as f2b-notify too. The tests themselves run
// through testenv.Main, which keeps them away from the machine's default
// buffer folder.
func TestMain(m *testing.M) {
	testscript.Main(guarded{m}, map[string]func(){
		"f2b-notify": func() { os.Exit(Main()) },
	})
}

// guarded runs the tests of m through testenv.Main.
type guarded struct{ m *testing.M }

func (g guarded) Run() int { return testenv.Main(g.m.Run) }

// TestScripts runs testdata/script/*.txtar. Every script writes its buffer,
// flag and reports under $WORK: the defaults (/var/lib/f2b-notify,
// /var/run/fail2ban/mail.flag) must never be reached from a test. The
// configuration takes absolute paths only, so "$WORK" in the scripts' YAML
// files is replaced by the script's folder before the script runs.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, "home")
			if err := os.MkdirAll(home, 0o755); err != nil {
				return err
			}
			// Only the script decides which F2B_NOTIFY_* variables exist.
			vars := env.Vars[:0]
			for _, kv := range env.Vars {
				if !strings.HasPrefix(kv, "F2B_NOTIFY_") {
					vars = append(vars, kv)
				}
			}
			env.Vars = vars
			// Where a ban goes when its configuration cannot be used.
			env.Setenv("F2B_NOTIFY_CONFIG", testenv.DefaultConfig())
			env.Setenv("DEFAULTBUF", testenv.DefaultBufferDir())
			if err := expandWork(env.WorkDir); err != nil {
				return err
			}
			env.Setenv("HOME", home)
			env.Setenv("NL", "\n")
			env.Setenv("TZ", "UTC")
			// Under -race, f2b-notify is the race-enabled test binary, which
			// sleeps 1 s at exit unless told otherwise.
			if gorace := env.Getenv("GORACE"); !strings.Contains(gorace, "atexit_sleep_ms") {
				env.Setenv("GORACE", strings.TrimSpace(gorace+" atexit_sleep_ms=0"))
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":    cmdExits,
			"waitfile": cmdWaitFile,
			"record":   cmdRecord,
			"holdlock": cmdHoldLock,
			"lines":    cmdLines,
			"glob":     cmdGlob,
			"nobody":   cmdNobody,
		},
	})
}

// expandWork replaces "$WORK" by dir in the YAML files of dir.
func expandWork(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		st, err := os.Stat(f)
		if err != nil {
			return err
		}
		if err := os.WriteFile(f, []byte(strings.ReplaceAll(string(data), "$WORK", dir)), st.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}

// exits N PROG ARGS...: run PROG like exec and require exit status N; its
// stdout and stderr are kept for the stdout and stderr commands.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	want := wantStatus(ts, "exits", neg, args)
	checkStatus(ts, "exits", want, ts.Exec(args[1], args[2:]...))
}

// wantStatus is the N of the command name's "N program [args...]".
func wantStatus(ts *testscript.TestScript, name string, neg bool, args []string) int {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: %s N program [args...]", name)
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("%s: bad status %q", name, args[0])
	}
	return want
}

// checkStatus fails the script unless err, what running a program
// returned, says it exited with status want.
func checkStatus(ts *testscript.TestScript, name string, want int, err error) {
	got := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", name, err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

// waitfile [-gone] PATH: wait up to 10 s for PATH to exist (or, with -gone,
// to be removed).
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	gone := len(args) == 2 && args[0] == "-gone"
	if neg || len(args) != 1 && !gone {
		ts.Fatalf("usage: waitfile [-gone] path")
	}
	path := ts.MkAbs(args[len(args)-1])
	for deadline := time.Now().Add(10 * time.Second); ; {
		_, err := os.Stat(path)
		if exists := err == nil; exists != gone {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitfile: %s still %s after 10s", args[len(args)-1], map[bool]string{true: "exists", false: "missing"}[gone])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lines FILE N: FILE holds exactly N lines, the last one complete.
func cmdLines(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: lines file n")
	}
	want, err := strconv.Atoi(args[1])
	if err != nil {
		ts.Fatalf("lines: bad count %q", args[1])
	}
	data := ts.ReadFile(args[0])
	if data != "" && !strings.HasSuffix(data, "\n") {
		ts.Fatalf("lines: %s ends in a torn line", args[0])
	}
	if got := strings.Count(data, "\n"); got != want {
		ts.Fatalf("lines: %s has %d lines, want %d", args[0], got, want)
	}
}

// glob PATTERN: some file matches PATTERN; with !, none does.
func cmdGlob(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: [!] glob pattern")
	}
	m, err := filepath.Glob(ts.MkAbs(args[0]))
	ts.Check(err)
	switch {
	case neg && len(m) > 0:
		ts.Fatalf("glob: %s matches %s", args[0], strings.Join(m, ", "))
	case !neg && len(m) == 0:
		ts.Fatalf("glob: nothing matches %s", args[0])
	}
}

// record FILE N WANT: line N (from 1) of the JSON-lines FILE is one JSON
// object equal to the one in WANT, except "at" (when it was stored), which
// must be a time within the last hour.
func cmdRecord(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: record file line want.json")
	}
	n, err := strconv.Atoi(args[1])
	if err != nil || n < 1 {
		ts.Fatalf("record: bad line number %q", args[1])
	}
	lines := strings.SplitAfter(ts.ReadFile(args[0]), "\n")
	if n > len(lines) || !strings.HasSuffix(lines[n-1], "\n") {
		ts.Fatalf("record: %s has no complete line %d", args[0], n)
	}
	var got, want map[string]any
	ts.Check(json.Unmarshal([]byte(lines[n-1]), &got))
	if err := json.Unmarshal([]byte(ts.ReadFile(args[2])), &want); err != nil {
		ts.Fatalf("record: %s: %v", args[2], err)
	}
	at, ok := got["at"].(float64)
	if now := float64(time.Now().Unix()); !ok || at > now+1 || at < now-3600 {
		ts.Fatalf("record: %s:%d: \"at\" is %v, want the time it was stored", args[0], n, got["at"])
	}
	delete(got, "at")
	if !reflect.DeepEqual(got, want) {
		ts.Fatalf("record: %s:%d:\n got %s\nwant %s", args[0], n, plainJSON(got), plainJSON(want))
	}
}

// plainJSON encodes v without escaping <, > and &, for readable failures.
func plainJSON(v any) string {
	var b strings.Builder
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	_ = e.Encode(v)
	return strings.TrimSuffix(b.String(), "\n")
}

// holdlock FILE: take an exclusive flock on FILE until the script ends, as a
// running flush holds flush.lock.
func cmdHoldLock(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: holdlock file")
	}
	l := flock.New(ts.MkAbs(args[0]))
	ok, err := l.TryLock()
	ts.Check(err)
	if !ok {
		ts.Fatalf("holdlock: %s is locked already", args[0])
	}
	ts.Defer(func() { _ = l.Unlock() })
	fmt.Fprintf(ts.Stdout(), "holding %s\n", args[0])
}

// nobody N PROG ARGS...: run PROG as the user nobody (uid and gid 65534) and
// require exit status N, its stdout and stderr kept for the stdout and
// stderr commands. PROG is copied where nobody can run it, and $WORK and the
// folders above it in the temporary folder are made searchable by others, so
// that nobody reaches the files the script gives it. It needs root.
func cmdNobody(ts *testscript.TestScript, neg bool, args []string) {
	want := wantStatus(ts, "nobody", neg, args)
	if os.Geteuid() != 0 {
		ts.Fatalf("nobody: the script runs a command as another user: run the tests as root")
	}
	work := ts.Getenv("WORK")
	for d := work; strings.HasPrefix(d, os.TempDir()+"/"); d = filepath.Dir(d) {
		st, err := os.Stat(d)
		ts.Check(err)
		ts.Check(os.Chmod(d, st.Mode().Perm()|0o011))
	}
	prog, err := exec.LookPath(args[1])
	ts.Check(err)
	bin := filepath.Join(work, ".nobody-bin")
	ts.Check(os.MkdirAll(bin, 0o755))
	ts.Check(os.Chmod(bin, 0o755))
	copied := filepath.Join(bin, filepath.Base(prog))
	if _, err := os.Stat(copied); err != nil {
		data, err := os.ReadFile(prog)
		ts.Check(err)
		ts.Check(os.WriteFile(copied, data, 0o755))
	}
	cmd := exec.Command(copied, args[2:]...)
	cmd.Args[0] = args[1]
	cmd.Dir = ts.MkAbs(".")
	for _, k := range []string{"PATH", "HOME", "TZ", "GORACE", "F2B_NOTIFY_CONFIG", "F2B_NOTIFY_BUFFER_DIR", "F2B_NOTIFY_FLAG"} {
		if v := ts.Getenv(k); v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Stdout, cmd.Stderr = ts.Stdout(), ts.Stderr()
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	checkStatus(ts, "nobody", want, cmd.Run())
}
