package main

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeDependencyTable: the README's table of dependencies is one
// table (a row after a line that is not a row falls out of it), and it has
// a row for every module go.mod requires directly.
func TestReadmeDependencyTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Dependencies, and why\n")
	if !ok {
		t.Fatal("README.md has no section \"Dependencies, and why\"")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	section, _, _ = strings.Cut(section, "\n### ") // a subsection may hold tables of its own
	var modules []string                           // the first cell of each row
	ended := false
	for _, line := range strings.Split(section, "\n") {
		switch {
		case strings.HasPrefix(line, "|") && ended:
			t.Errorf("README.md: the row %q is outside the dependency table", line)
		case strings.HasPrefix(line, "|"):
			cell, _, _ := strings.Cut(strings.TrimPrefix(line, "|"), "|")
			modules = append(modules, cell)
		case len(modules) > 0:
			ended = true
		}
	}
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	_, req, _ := strings.Cut(string(gomod), "\nrequire (\n")
	req, _, _ = strings.Cut(req, "\n)")
	for _, line := range strings.Split(req, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.Contains(line, "// indirect") {
			continue
		}
		mod, name := f[0], f[0][strings.LastIndex(f[0], "/")+1:]
		found := false
		for _, cell := range modules {
			for _, m := range strings.Split(cell, ",") {
				m = strings.TrimSpace(m)
				m, _, _ = strings.Cut(m, " ")
				if m == mod || m == name {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("README.md: no row of the dependency table names %s, which go.mod requires", mod)
		}
	}
}
