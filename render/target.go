// Package render turns a digest into what one channel is sent: the report
// in every format the channel wants, from its templates, fitted to its size
// limit (fewer rows and "and N more", or several messages for a channel
// that splits). A Target is a channel ready for that: built, its templates
// parsed, its program and template files checked.
package render

import (
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/f2b-notify/f2b-notify/channels"
	"github.com/f2b-notify/f2b-notify/config"
	"github.com/f2b-notify/f2b-notify/internal/fsguard"
	"github.com/f2b-notify/f2b-notify/report"
	"github.com/f2b-notify/f2b-notify/templates"
)

// Target is a channel ready to receive a report: built, with its templates
// parsed. Err is set instead when the channel's configuration is broken; the
// flush then treats the channel as failed and keeps its bans. Err, and the
// errors of Render, have been through Redactor: safe to print and to store.
type Target struct {
	Name     string
	Config   config.Channel
	Channel  channels.Channel
	Bodies   map[templates.Format]*templates.Template
	Subject  string // text template
	Location *time.Location
	Err      error
	// Redactor knows every secret of every channel of the configuration;
	// the jobs sent to the channel take it.
	Redactor *channels.Redactor
}

// Prepare builds a target for every enabled channel of the configuration, in
// name order. Each target's problems are its own: see Target.Err.
func Prepare(cfg *config.Config) ([]*Target, error) {
	return PrepareNamed(cfg, cfg.EnabledChannels())
}

// PrepareNamed builds a target for each named channel of the configuration,
// enabled or not (check looks at disabled ones too).
func PrepareNamed(cfg *config.Config, names []string) ([]*Target, error) {
	loc, err := cfg.Location()
	if err != nil {
		return nil, err
	}
	red := channels.NewRedactor(cfg.Secrets())
	var out []*Target
	for _, name := range names {
		cc := cfg.Channels[name]
		ch, err := channels.New(name, cc.Type, cc.Settings)
		t := &Target{Name: name, Config: cc, Channel: ch, Location: loc, Redactor: red}
		if err == nil {
			err = checkProgram(name, ch)
		}
		if err == nil {
			err = t.parse(cfg)
		}
		t.Err = red.Error(err)
		out = append(out, t)
	}
	return out, nil
}

// checkProgram refuses a channel whose program (sendmail) a user other than
// root or the one running f2b-notify could change: the flush would run it.
// A program that is not found is left to fail when it is run.
func checkProgram(name string, ch channels.Channel) error {
	r, ok := ch.(channels.Runner)
	if !ok {
		return nil
	}
	path, key := r.Program()
	if path == "" {
		return nil
	}
	if found, err := exec.LookPath(path); err == nil {
		path = found
	}
	if err := fsguard.Check(path); err != nil {
		return fmt.Errorf("channel %q: key %s: program %w", name, key, err)
	}
	return nil
}

// NewTarget wraps an already built channel with the default templates.
func NewTarget(ch channels.Channel, cc config.Channel, loc *time.Location) (*Target, error) {
	t := &Target{Name: ch.Name(), Config: cc, Channel: ch, Location: loc}
	if err := t.parse(&config.Config{}); err != nil {
		return nil, err
	}
	return t, nil
}

// parse loads the target's templates: the channel's own files where it names
// them, the embedded defaults otherwise.
func (t *Target) parse(cfg *config.Config) error {
	opt := templates.Options{Location: t.Location}
	t.Bodies = map[templates.Format]*templates.Template{}
	for _, f := range t.Channel.Formats() {
		var (
			tmpl *templates.Template
			err  error
		)
		if path := t.Config.Templates[string(f)]; path != "" {
			if err := fsguard.Check(path); err != nil {
				return fmt.Errorf("channel %q: key templates.%s: template %w", t.Name, f, err)
			}
			tmpl, err = templates.Load(path, f, opt)
		} else {
			var src string
			if src, err = templates.Default(f); err == nil {
				tmpl, err = templates.New("default "+string(f)+" report", f, src, opt)
			}
		}
		if err != nil {
			return fmt.Errorf("channel %q: %w", t.Name, err)
		}
		t.Bodies[f] = tmpl
	}
	t.Subject = t.Config.Subject
	if t.Subject == "" {
		t.Subject = cfg.Report.Subject
	}
	if t.Subject == "" {
		t.Subject = templates.DefaultSubject()
	}
	// Fail now, not at send time, when the subject template does not parse.
	if _, err := templates.Subject(t.Subject, &report.Digest{}, opt); err != nil {
		return fmt.Errorf("channel %q: subject: %w", t.Name, err)
	}
	return nil
}

// withAttachments draws the chart of d where the channel takes it, and
// returns d with notes that name the attachments the templates may mention:
// the chart, which they show (the HTML part of an e-mail inline) only when
// it goes with the message, and the full list, kept only by messages that
// leave offender rows out (see fit).
func (t *Target) withAttachments(d *report.Digest) (*report.Digest, *channels.Attachment, error) {
	var chart *channels.Attachment
	if t.takes(channels.Chart) {
		var err error
		if chart, err = t.chartOf(d); err != nil {
			return nil, nil, err
		}
	}
	if chart == nil && !t.takes(channels.FullList) {
		return d, nil, nil
	}
	noted := *d
	if chart != nil {
		noted.Notes.Chart = &report.AttachedChart{Name: chart.Name, Caption: chart.Caption, CID: channels.ContentID(*chart)}
	}
	if t.takes(channels.FullList) {
		noted.Notes.FullList = FullListCSV
		// Rows report.max_offenders cut are in no list: "all" would not be true.
		noted.Notes.FullListPartial = d.Notes.MoreOffenders > 0
	}
	return &noted, chart, nil
}

// Render renders the digest in every format the target's channel wants,
// fitting the first format to the channel's size limit (see fit).
func (t *Target) Render(d *report.Digest) (channels.Message, error) {
	m, err := t.render(d)
	return m, t.Redactor.Error(err)
}

// Job is a job that sends m to the target's channel with its timeout,
// attempts and Redactor.
func (t *Target) Job(m channels.Message) channels.Job {
	return channels.Job{Channel: t.Channel, Message: m, Timeout: t.Config.Timeout, Attempts: t.Config.Attempts(), Redactor: t.Redactor}
}

func (t *Target) render(d *report.Digest) (channels.Message, error) {
	opt := templates.Options{Location: t.Location}
	subject, err := templates.Subject(t.Subject, d, opt)
	if err != nil {
		return channels.Message{}, fmt.Errorf("channel %q: render subject: %w", t.Name, err)
	}
	m := channels.Message{Subject: subject, Bodies: map[templates.Format]string{}}
	formats := t.Channel.Formats()
	if len(formats) == 0 {
		return m, nil
	}
	// The first format is fitted to the channel's limit; the others are
	// rendered from the digest it was cut to, so that every part of the
	// message shows the same rows.
	measure := runes
	if ms, ok := t.Channel.(channels.Measurer); ok {
		measure = ms.Measure
	}
	split, maxPages := false, 0
	if sp, ok := t.Channel.(channels.Splitter); ok {
		split, maxPages = sp.Split(), sp.MaxMessages()
	}
	d, chart, err := t.withAttachments(d)
	if err != nil {
		return channels.Message{}, fmt.Errorf("channel %q: %w", t.Name, err)
	}
	primary := t.Bodies[formats[0]]
	var used *report.Digest
	pages, err := fit(d, t.Channel.Limit(), measure, split, maxPages, func(c *report.Digest) (string, error) {
		used = c
		return primary.Render(c)
	})
	if err != nil {
		return channels.Message{}, fmt.Errorf("channel %q: %w", t.Name, err)
	}
	for _, p := range pages {
		if strings.TrimSpace(p) == "" {
			// Sent, it would confirm the bans with a message that shows none.
			return channels.Message{}, fmt.Errorf("channel %q: the %s template rendered an empty report", t.Name, formats[0])
		}
	}
	m.Bodies[formats[0]] = pages[0]
	leftOut := used.Notes.FullList != "" // the last message rendered left rows out
	if len(pages) > 1 {
		m.Pages = pages
		used = d
	}
	for _, f := range formats[1:] {
		body, err := t.Bodies[f].Render(used)
		if err != nil {
			return channels.Message{}, fmt.Errorf("channel %q: %w", t.Name, err)
		}
		m.Bodies[f] = body
	}
	if m.Attachments, err = t.attachments(d, chart, leftOut); err != nil {
		return channels.Message{}, fmt.Errorf("channel %q: %w", t.Name, err)
	}
	return m, nil
}

// attachments are the files that go with the report of d where the
// channel takes them: the chart of its bans (drawn by withAttachments),
// and, when rows were cut from the message, the list of every offender.
func (t *Target) attachments(d *report.Digest, chart *channels.Attachment, leftOut bool) ([]channels.Attachment, error) {
	var out []channels.Attachment
	if chart != nil {
		out = append(out, *chart)
	}
	if leftOut && t.takes(channels.FullList) {
		a, err := fullList(d, t.Location)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, nil
}
