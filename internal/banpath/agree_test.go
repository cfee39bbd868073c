package banpath

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/internal/bankeys"
)

// The values a generated file may give the ban path's keys: right, wrong,
// relative, null, quoted, commented, of the wrong type.
var (
	genDirs = []string{
		"/srv/b1", "/srv/b2", "/var/lib/f2b-notify", "/srv/b1", "'/srv/it''s'", `"/srv/q"`, "/srv/c # a note", "/srv/with space", `"/srv/esc\tx"`,
		"./relbuf", "relbuf", `""`, "~", "", "123", "true", "[/a]",
	}
	genFsyncs = []string{"true", "false", "false", "true", "True", "FALSE", "yes", `"false"`, "maybe", "~", "1", ""}
	genFlags  = []string{"/run/f.flag", "/run/f.flag", "/run/h.flag", `""`, "''", "~", "", "rel.flag", "/run/g.flag # comment", `"/run/q.flag"`, "4"}
	genEnvs   = map[string][]string{
		"F2B_NOTIFY_BUFFER_DIR":   {"", "/env/dir", "/env/dir", "envrel"},
		"F2B_NOTIFY_BUFFER_FSYNC": {"", "false", "false", "maybe", "1"},
		"F2B_NOTIFY_FLAG":         {"", "/env/flag", "/env/flag", "envrel.flag"},
	}
	// Keys of the ban path, as a careless hand may write them.
	genDirKeys   = []string{"dir", "dir", "dir", "dir", "dir", "dir", "Dir", "DIR"}
	genFsyncKeys = []string{"fsync", "fsync", "fsync", "fsync", "Fsync"}
	genTopBuffer = []string{"buffer", "buffer", "buffer", "buffer", "buffer", "buffer", "Buffer"}
	genTopFlag   = []string{"flag", "flag", "flag", "flag", "flag", "Flag"}
	// Blocks the ban path must look past.
	genOthers = []string{
		"host: mail.example.net\n",
		"# buffer:\n#   dir: /commented/out\n",
		"report:\n  timezone: UTC\n  max_users: 3\n",
		"channels:\n  log:\n    type: file\n    path: /var/log/f2b.txt\n    templates:\n      text: /etc/f2b-notify/text.tmpl\n",
		"channels:\n  hook:\n    type: webhook\n    url: https://example.net/h\n    headers:\n      X-Dir: /not/this\n",
		"flush:\n  timeout: 2m\n",
		// Valid, but beyond ParsePlain: it hands them to the full parser.
		"report:\n  subject: |\n    [not: yaml {\n",
		"channels:\n  log:\n    type: file\n    path: /var/log/f2b.txt\n    jails: [sshd,\n      recidive]\n",
	}
	// Broken YAML outside the ban path's keys: the loader refuses the file.
	genBroken = []string{
		"channels: [\n",
		"host: \"unclosed\n",
		"report:\n  subject: a: b\n",
		"channels:\n  log:\n    type: file\n    to: [a, b\n",
		"channels:\n  log:\n    type: file\n  \tpath: /x\n",
		"channels:\n  log:\n    type: file\n   path: /x\n", // bad indentation: ParsePlain does not see it
	}
)

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// genConfig writes a configuration file of random shape around the keys the
// ban path reads: block and flow mappings, indentation, order, comments,
// capitals and keys given twice.
func genConfig(r *rand.Rand) string {
	var parts []string
	entries := func() []string {
		var e []string
		if r.IntN(4) > 0 {
			e = append(e, pick(r, genDirKeys)+": "+pick(r, genDirs))
		}
		if r.IntN(2) == 0 {
			e = append(e, pick(r, genFsyncKeys)+": "+pick(r, genFsyncs))
		}
		if r.IntN(3) == 0 {
			e = append(e, "max_age: 48h")
		}
		if r.IntN(15) == 0 && len(e) > 0 {
			e = append(e, e[r.IntN(len(e))]) // the same key twice
		}
		if r.IntN(15) == 0 {
			e = append(e, pick(r, genDirKeys)+": "+pick(r, genDirs))
		}
		r.Shuffle(len(e), func(i, j int) { e[i], e[j] = e[j], e[i] })
		return e
	}
	switch r.IntN(6) {
	case 0: // no buffer block
	case 1: // flow mapping
		var e []string
		for _, x := range entries() {
			if !strings.Contains(x, "#") { // a comment would end the line
				e = append(e, x)
			}
		}
		parts = append(parts, pick(r, genTopBuffer)+": {"+strings.Join(e, ", ")+"}\n")
	case 2: // an empty block
		parts = append(parts, pick(r, []string{"buffer:\n", "buffer: {}\n", "buffer: # nothing\n"}))
	default:
		indent := pick(r, []string{"  ", "    ", " "})
		var b strings.Builder
		b.WriteString(pick(r, genTopBuffer) + ":\n")
		for _, x := range entries() {
			if r.IntN(6) == 0 {
				b.WriteString(indent + "# a comment\n")
			}
			b.WriteString(indent + x + "\n")
		}
		parts = append(parts, b.String())
	}
	if r.IntN(3) > 0 {
		parts = append(parts, pick(r, genTopFlag)+": "+pick(r, genFlags)+"\n")
	}
	if r.IntN(20) == 0 {
		parts = append(parts, "flag: /run/second.flag\n")
	}
	for range r.IntN(3) {
		o := pick(r, genOthers)
		if !strings.HasPrefix(o, "channels:") || !strings.Contains(strings.Join(parts, ""), "channels:") {
			parts = append(parts, o)
		}
	}
	if r.IntN(8) == 0 {
		parts = append(parts, pick(r, genBroken))
	}
	r.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	if r.IntN(4) == 0 {
		parts = append([]string{"# f2b-notify\n"}, parts...)
	}
	return strings.Join(parts, "")
}

// TestBanPathReadsWhatTheLoaderReads feeds the same generated files, under
// generated environments, to the full configuration loader (check, status,
// flush) and to the ban path's reader with both of its parsers (the lean
// binary's ParsePlain and the full command's YAML): where the loader
// accepts a file, the ban path reads the same buffer.dir, buffer.fsync and
// flag without complaint; where the loader refuses it, the ban path refuses
// it too. ParsePlain may hand a file to the full command (ErrUnsupported),
// never read it differently. One exception, counted: YAML broken in a block
// the ban path skips, in a way ParsePlain's look at each line does not see
// (a bad indentation, say), is refused by the full command's ban path and
// read by ParsePlain; both read the same folder from it.
func TestBanPathReadsWhatTheLoaderReads(t *testing.T) {
	n := 4000
	if testing.Short() {
		n = 500
	}
	r := rand.New(rand.NewPCG(20261201, 1))
	dir := t.TempDir()
	var read, refused, deferred, unseen int
	for i := range n {
		src := genConfig(r)
		var envDesc []string
		for _, k := range []string{"F2B_NOTIFY_BUFFER_DIR", "F2B_NOTIFY_BUFFER_FSYNC", "F2B_NOTIFY_FLAG"} {
			if r.IntN(5) == 0 {
				v := pick(r, genEnvs[k])
				t.Setenv(k, v)
				envDesc = append(envDesc, k+"="+v)
			} else {
				t.Setenv(k, "")
				os.Unsetenv(k)
			}
		}
		p := filepath.Join(dir, fmt.Sprintf("c%d.yaml", i))
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		full, ferr := config.Load(p)
		for _, parser := range []struct {
			name  string
			parse func([]byte) (map[string]any, error)
		}{{"ParsePlain", ParsePlain}, {"YAML", config.Document}} {
			s, own, err := Program{Parse: parser.parse}.ReadSettings(p)
			if parser.name == "ParsePlain" && errors.Is(err, ErrUnsupported) {
				deferred++
				continue
			}
			if parser.name == "ParsePlain" && ferr != nil && err == nil && strings.Contains(ferr.Error(), "yaml:") {
				fs, fown, ferr2 := Program{Parse: config.Document}.ReadSettings(p)
				if ferr2 == nil || fown != own || fs != s {
					t.Errorf("%s %v:\n%s\nYAML broken elsewhere: ParsePlain reads %+v (own %v), the full ban path %+v (own %v, %v)", p, envDesc, src, s, own, fs, fown, ferr2)
				}
				unseen++
				continue
			}
			switch {
			case ferr == nil && err != nil:
				t.Errorf("%s %v:\n%s\nthe loader accepts it, the ban path (%s) refuses: %v", p, envDesc, src, parser.name, err)
			case ferr == nil && (!own || s != (bankeys.Settings{Dir: full.Buffer.Dir, Fsync: full.Buffer.Fsync, Flag: full.Flag})):
				t.Errorf("%s %v:\n%s\nthe loader reads %q %v %q, the ban path (%s) %+v (own %v)", p, envDesc, src, full.Buffer.Dir, full.Buffer.Fsync, full.Flag, parser.name, s, own)
			case ferr != nil && err == nil:
				t.Errorf("%s %v:\n%s\nthe loader refuses it (%v), the ban path (%s) reads %+v", p, envDesc, src, ferr, parser.name, s)
			}
		}
		if ferr == nil {
			read++
		} else {
			refused++
		}
	}
	t.Logf("%d generated files: %d read alike, %d refused by both; ParsePlain handed %d to the full parser and read %d whose YAML is broken where it does not look, into the same folder as the full parser", n, read, refused, deferred, unseen)
}
