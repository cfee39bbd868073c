package gendocs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/f2b-notify/f2b-notify/internal/gendocs"
)

// tree is a command line shaped like f2b-notify's: a root with --config and
// a ban subcommand whose texts hold what Markdown would eat.
func tree() *cobra.Command {
	root := &cobra.Command{Use: "f2b-notify", Short: "Buffer fail2ban bans", Long: "f2b-notify is a fail2ban action."}
	root.PersistentFlags().String("config", "", "configuration file (default $F2B_NOTIFY_CONFIG)")
	ban := &cobra.Command{
		Use:   "ban --jail NAME --ip ADDR [flags]",
		Short: "Record a ban (run by fail2ban's actionban)",
		Long:  "Only buffer.dir, buffer_fsync and *flag* are read; output goes to BUFFER_DIR/last-flush.log.",
		Run:   func(*cobra.Command, []string) {},
	}
	ban.Flags().String("jail", "", "jail name (<name>)")
	flush := &cobra.Command{Use: "flush", Short: "Send the report now", Run: func(*cobra.Command, []string) {}}
	root.AddCommand(ban, flush)
	return root
}

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestWritePagesAndCompletions(t *testing.T) {
	dir := t.TempDir()
	date := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	if err := gendocs.Write(tree(), dir, "1.2.3", date); err != nil {
		t.Fatal(err)
	}
	man := filepath.Join(dir, gendocs.ManDir)

	root := read(t, filepath.Join(man, "f2b-notify.1"))
	if !strings.HasPrefix(root, ".nh\n.TH \"F2B-NOTIFY\" \"1\" \"Nov 2026\" \"f2b-notify 1.2.3\" \"f2b-notify manual\"\n") {
		t.Errorf("f2b-notify.1: header with the version and the given date expected:\n%.300s", root)
	}
	for _, want := range []string{"f2b-notify-ban(1)", "f2b-notify-flush(1)", "f2b-notify-completion(1)"} {
		if !strings.Contains(root, want) {
			t.Errorf("f2b-notify.1 does not refer to %s:\n%s", want, root)
		}
	}
	if strings.Contains(root, "Auto generated") {
		t.Errorf("f2b-notify.1 has cobra's generated-on tag:\n%s", root)
	}

	// The lean binary's page takes the name f2b-notify-ban(1), with its own
	// flags: --config and those of banpath, whose "(<name>)" survives.
	lean := read(t, filepath.Join(man, "f2b-notify-ban.1"))
	for _, want := range []string{
		`.TH "F2B-NOTIFY-BAN" "1"`,
		"f2b-notify-ban [--config FILE] ban|unban --jail NAME --ip ADDR",
		"jail name (<name>)",
		"user name the filter captured (<F-USER>)",
		"configuration file (default $F2B_NOTIFY_CONFIG)",
		"f2b-notify ban",
	} {
		if !strings.Contains(lean, want) {
			t.Errorf("f2b-notify-ban.1 lacks %q:\n%s", want, lean)
		}
	}

	// Every command has its page, the completion command added by cobra too.
	for _, name := range []string{"f2b-notify-flush.1", "f2b-notify-completion-bash.1"} {
		if _, err := os.Stat(filepath.Join(man, name)); err != nil {
			t.Error(err)
		}
	}

	for path, want := range map[string]string{
		gendocs.Bash: "__start_f2b-notify",
		gendocs.Zsh:  "#compdef f2b-notify",
		gendocs.Fish: "complete -c f2b-notify",
	} {
		if got := read(t, filepath.Join(dir, path)); !strings.Contains(got, want) {
			t.Errorf("%s lacks %q", path, want)
		}
	}
}

// TestHelpTextStaysPlain: a description with characters Markdown reads as
// emphasis or tags comes out as written.
func TestHelpTextStaysPlain(t *testing.T) {
	root := &cobra.Command{Use: "f2b-notify", Short: "x"}
	sub := &cobra.Command{
		Use:   "status",
		Short: "Show *pending* bans",
		Long:  "Reads BUFFER_DIR/pending.jsonl and <ledger>; see `status`.",
		Run:   func(*cobra.Command, []string) {},
	}
	root.AddCommand(sub)
	dir := t.TempDir()
	if err := gendocs.Write(root, dir, "1", time.Unix(0, 0)); err != nil {
		t.Fatal(err)
	}
	page := read(t, filepath.Join(dir, gendocs.ManDir, "f2b-notify-status.1"))
	for _, want := range []string{"Show *pending* bans", "BUFFER_DIR/pending.jsonl", "<ledger>", "`status`"} {
		if !strings.Contains(strings.ReplaceAll(page, `\*`, "*"), want) {
			t.Errorf("f2b-notify-status.1 lacks %q:\n%s", want, page)
		}
	}
}
