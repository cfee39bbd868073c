package templates

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	texttemplate "text/template"
	"text/template/parse"
)

// Dialect is a format a channel can ask for: how its templates are parsed,
// how values are escaped in them, and its default report template. The
// formats text, html and markdown are built in; channel kinds register their
// own (Slack's mrkdwn, Telegram's subset of HTML, ...).
type Dialect struct {
	Format Format
	// HTML templates are parsed with html/template, which escapes every value
	// for its context.
	HTML bool
	// Escape, for the others, is applied to every value an action prints, in
	// every template, users' included: escaping by construction. A value
	// passed through the template function safe is printed as it is.
	Escape func(string) string
	// Code escapes text for a code span or block (the template function code).
	// Nil means: replace backticks by U+02CB, which looks alike but closes
	// nothing.
	Code func(string) string
	// Default is the source of the default report template.
	Default string
}

var (
	dialectsMu sync.RWMutex
	dialects   = map[Format]*Dialect{}
)

// Register makes a dialect available. It panics if the format is taken, so
// call it from an init function.
func Register(d Dialect) {
	dialectsMu.Lock()
	defer dialectsMu.Unlock()
	if _, dup := dialects[d.Format]; dup {
		panic("templates: format registered twice: " + string(d.Format))
	}
	dialects[d.Format] = &d
}

// Formats lists the registered formats, sorted.
func Formats() []Format {
	dialectsMu.RLock()
	defer dialectsMu.RUnlock()
	out := make([]Format, 0, len(dialects))
	for f := range dialects {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Lookup returns the dialect of a format.
func Lookup(f Format) (*Dialect, error) {
	dialectsMu.RLock()
	defer dialectsMu.RUnlock()
	d, ok := dialects[f]
	if !ok {
		var known []string
		for k := range dialects {
			known = append(known, string(k))
		}
		sort.Strings(known)
		return nil, fmt.Errorf("unknown format %q (known: %s)", string(f), strings.Join(known, ", "))
	}
	return d, nil
}

func init() {
	for _, f := range []Format{Text, HTML, Markdown} {
		src, err := defaults.ReadFile("default/report." + string(f) + ".tmpl")
		if err != nil {
			panic(err) // embedded at build time
		}
		d := Dialect{Format: f, Default: string(src)}
		switch f {
		case HTML:
			d.HTML = true
		case Markdown:
			d.Escape = markdownEscape
		}
		Register(d)
	}
}

// Safe is text a template author vouches for: the escaping of a dialect
// leaves it as it is.
type Safe string

// escapeFunc is the name of the function autoEscape appends to every action.
const escapeFunc = "_escape"

// escaper returns the function autoEscape calls for each printed value.
func escaper(escape func(string) string) func(any) Safe {
	return func(v any) Safe {
		switch v := v.(type) {
		case Safe:
			return v
		case string:
			return Safe(escape(v))
		case nil:
			return ""
		}
		return Safe(escape(fmt.Sprint(v)))
	}
}

// autoEscape appends the escape function to the pipeline of every action
// that prints, in every template t defines: what html/template does for
// HTML, done for the text dialects. Actions that only declare or assign a
// variable print nothing and are left alone.
func autoEscape(t *texttemplate.Template) {
	for _, tt := range t.Templates() {
		if tt.Tree != nil && tt.Tree.Root != nil {
			escapeNode(tt.Tree, tt.Tree.Root)
		}
	}
}

func escapeNode(tree *parse.Tree, n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			escapeNode(tree, c)
		}
	case *parse.ActionNode:
		if len(n.Pipe.Decl) > 0 {
			return
		}
		id := parse.NewIdentifier(escapeFunc).SetTree(tree).SetPos(n.Pos)
		n.Pipe.Cmds = append(n.Pipe.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: n.Pos, Args: []parse.Node{id}})
	case *parse.IfNode:
		escapeNode(tree, n.List)
		escapeNode(tree, n.ElseList)
	case *parse.RangeNode:
		escapeNode(tree, n.List)
		escapeNode(tree, n.ElseList)
	case *parse.WithNode:
		escapeNode(tree, n.List)
		escapeNode(tree, n.ElseList)
	}
}

// backtickFree replaces backticks, which would close a code span, by U+02CB.
func backtickFree(s string) string { return strings.ReplaceAll(s, "`", "\u02cb") }
