package flush_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// maxFuncLines bounds the functions of the flush and of rendering: each
// stage of the at-least-once procedure stays short enough to read whole.
const maxFuncLines = 60

// TestFunctionsAreShort fails on any function of flush/ or render/ (tests
// aside) longer than maxFuncLines, from its func line to its closing brace.
func TestFunctionsAreShort(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	for _, dir := range []string{".", "../render"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no Go file in %s: %v", dir, err)
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(fset, name, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok {
					continue
				}
				checked++
				from, to := fset.Position(fd.Pos()), fset.Position(fd.End())
				if n := to.Line - from.Line + 1; n > maxFuncLines {
					t.Errorf("%s:%d: func %s is %d lines, more than %d: split it into steps", name, from.Line, fd.Name.Name, n, maxFuncLines)
				}
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d functions checked", checked)
	}
}
