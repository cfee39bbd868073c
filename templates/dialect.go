package templates

import (
	"fmt"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
)

// Dialect is a format a channel can ask for: how its templates are parsed,
// how values are escaped in them, and its default report template, the file
// default/report.FORMAT.tmpl.
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

// dialects are the formats, sorted by name. A channel kind names the ones it
// renders; one with a markup of its own adds its dialect here, its escaper
// in escape.go and its default report as default/report.FORMAT.tmpl.
var dialects = withDefaults([]Dialect{
	{Format: Discord, Escape: escapeDiscord},
	{Format: HTML, HTML: true},
	{Format: JSON, Escape: escapeJSON, Code: escapeJSON},
	{Format: Markdown, Escape: markdownEscape},
	// Inside <code> HTML escaping is all there is to do: backticks mean
	// nothing in HTML.
	{Format: Matrix, HTML: true, Code: verbatim},
	{Format: Slack, Escape: escapeSlack, Code: codeSlack},
	// Plain text, like text: an SMS has no markup.
	{Format: SMS},
	{Format: Teams, Escape: escapeTeams, Code: escapeTeams},
	// Inside <code> and <pre> Telegram reads entities and tags as everywhere
	// else, and html/template escapes them: code needs nothing more.
	{Format: Telegram, HTML: true, Code: verbatim},
	{Format: Text},
})

// withDefaults fills in each dialect's default report from its embedded
// file.
func withDefaults(ds []Dialect) []Dialect {
	for i := range ds {
		src, err := defaults.ReadFile("default/report." + string(ds[i].Format) + ".tmpl")
		if err != nil {
			panic(err) // embedded at build time; TestEveryDialectHasADefault
		}
		ds[i].Default = string(src)
	}
	return ds
}

func verbatim(s string) string { return s }

// Formats lists the formats, sorted.
func Formats() []Format {
	out := make([]Format, len(dialects))
	for i, d := range dialects {
		out[i] = d.Format
	}
	return out
}

// Lookup returns the dialect of a format.
func Lookup(f Format) (*Dialect, error) {
	for i := range dialects {
		if dialects[i].Format == f {
			return &dialects[i], nil
		}
	}
	var known []string
	for _, d := range dialects {
		known = append(known, string(d.Format))
	}
	return nil, fmt.Errorf("unknown format %q (known: %s)", string(f), strings.Join(known, ", "))
}

// Escape makes s inert in format f as a value its templates print: what
// the dialect's escaper does (a subject set in a message's text, say). A
// format without an escaper leaves s as it is.
func Escape(f Format, s string) string {
	if d, err := Lookup(f); err == nil && d.Escape != nil {
		return d.Escape(s)
	}
	return s
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
