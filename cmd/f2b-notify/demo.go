package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/f2b-notify/f2b-notify/buffer"
	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/flush"
	"github.com/f2b-notify/f2b-notify/internal/geoip"
	"github.com/f2b-notify/f2b-notify/internal/sample"
	"github.com/f2b-notify/f2b-notify/internal/textutil"
	"github.com/f2b-notify/f2b-notify/render"
	"github.com/f2b-notify/f2b-notify/templates"
)

func newDemoCmd(g *Globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole pipeline on embedded sample bans and print the report",
		Long: `Record an embedded sample of realistic bans (several jails, IPv4 and IPv6, repeat
offenders, a retried command, a restored ban, unbans) into a buffer in a temporary folder,
touch the flag file, flush to the console, and remove the folder. The report's providers and
countries come from small demo GeoIP databases (documentation address ranges, made-up
providers), and its returning addresses and trend from a sample history of two earlier
reports. No configuration is read and nothing is sent anywhere.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			f := templates.Format(format)
			if _, err := templates.Lookup(f); err != nil {
				return fmt.Errorf("--format: %w", err)
			}
			return demoRun(g, f)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "report format to print: text, html, markdown, or a channel's: telegram, matrix, slack, discord, teams, json, sms")
	return cmd
}

func demoRun(g *Globals, f templates.Format) error {
	dir, err := os.MkdirTemp("", "f2b-notify-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer os.RemoveAll(dir)
	cfg, err := config.Defaults()
	if err != nil {
		return err
	}
	cfg.Buffer = config.Buffer{Dir: filepath.Join(dir, "buffer"), Fsync: false}
	cfg.Flag = filepath.Join(dir, "mail.flag")
	cfg.Host = "demo.example.org"
	cfg.Report.Timezone = "UTC"
	cfg.Channels = map[string]config.Channel{"console": {Type: "file"}}

	// Providers and countries, through the same keys as a real setup.
	if cfg.GeoIP.ASNDB, cfg.GeoIP.CountryDB, err = geoip.DemoDatabases(dir); err != nil {
		return fmt.Errorf("demo: %w", err)
	}

	// What fail2ban does: one ban command per ban.
	buf := buffer.New(cfg.Buffer.Dir, cfg.Buffer.Fsync)
	now := time.Now()
	recs := sample.Records(now)
	for _, r := range recs {
		if err := buf.Append(r); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
	}
	// Earlier reports, for returning addresses and a trend.
	if err := sample.History(now).Save(cfg.HistoryFile(), false); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	// What cron does, the sendmail-cron way.
	if err := os.WriteFile(cfg.Flag, nil, 0o600); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(g.IO.Err, "demo: recorded %s in %s, flag set; flushing to the console as %s\n\n", textutil.Count(len(recs), "sample event", "sample events"), cfg.Buffer.Dir, f)

	loc, _ := cfg.Location()
	t, err := render.NewTarget(&formatted{channels.NewFile("console", g.IO.Out), f}, cfg.Channels["console"], loc)
	if err != nil {
		return err
	}
	res, err := flush.Run(context.Background(), cfg, []*render.Target{t}, flush.Options{IfFlag: true})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if failed := res.Failed(); len(failed) > 0 {
		return fmt.Errorf("demo: %w", failed[0].Err)
	}
	left, _ := buf.Batches()
	_, flagErr := os.Stat(cfg.Flag)
	fmt.Fprintf(g.IO.Err, "demo: delivered; batches left in the spool: %d; flag removed: %v\n", len(left), os.IsNotExist(flagErr))
	return nil
}

// formatted makes the console channel print another format than text.
type formatted struct {
	*channels.File
	format templates.Format
}

func (c *formatted) Formats() []channels.Format { return []channels.Format{c.format} }

func newVersionCmd(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Fprintln(g.IO.Out, "f2b-notify "+Version())
		},
	}
}

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

// Version is the build's version: the one set at link time, else the module's.
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
