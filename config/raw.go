package config

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/f2b-notify/f2b-notify/internal/bankeys"
)

// Document parses a configuration file's YAML into nested maps, keys as
// written and unchecked: what the full command's ban path reads its keys
// from (see package bankeys).
func Document(data []byte) (map[string]any, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, atLine(data, err)
	}
	return doc, nil
}

// yamlLine is how the YAML parser begins a syntax error.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// atLine makes a YAML syntax error name the line at fault. The parser names
// the line where the block it was reading began: a key indented one space
// short on line 6 is "line 3: did not find expected key", line 3 being the
// block's first key. The line at fault is the first one at which the file,
// read up to it, fails with the same problem.
func atLine(data []byte, err error) error {
	m := yamlLine.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > 10000 {
		return err // a configuration is not that long; not worth the time
	}
	for k := 1; k <= len(lines); k++ {
		var n yaml.Node
		e := yaml.Unmarshal(bytes.Join(lines[:k], nil), &n)
		if e == nil {
			continue
		}
		if mk := yamlLine.FindStringSubmatch(e.Error()); mk != nil && mk[2] == m[2] {
			if strconv.Itoa(k) == m[1] {
				return err
			}
			return fmt.Errorf("yaml: line %d: %s", k, m[2])
		}
	}
	return err
}

// parseRaw parses the file's YAML and checks its keys as written, before
// viper, which folds every key to lower case and so would read "Buffer:" as
// "buffer:" where the ban path does not: keys are case-sensitive and lower
// case, and no key is given twice in one block, in any case. It returns the
// document as nested maps, for the keys the ban path reads.
func parseRaw(data []byte) (map[string]any, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, atLine(data, err)
	}
	if len(root.Content) == 0 {
		return nil, nil // an empty file, or only comments
	}
	if err := checkKeys(root.Content[0], ""); err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := root.Content[0].Decode(&doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// checkKeys walks the mappings under n; path is n's key path.
func checkKeys(n *yaml.Node, path string) error {
	switch n.Kind {
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if err := checkKeys(c, path); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		seen := map[string]int{} // lower-cased key -> line
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				continue // a complex key: decoding refuses it
			}
			key := join(path, k.Value)
			if line, dup := seen[strings.ToLower(k.Value)]; dup {
				return fmt.Errorf("key %s: given twice (lines %d and %d); keep one", key, line, k.Line)
			}
			seen[strings.ToLower(k.Value)] = k.Line
			if k.Value != strings.ToLower(k.Value) && !anyCase(path) {
				return bankeys.UpperCaseKey(key)
			}
			if err := checkKeys(v, key); err != nil {
				return err
			}
		}
	}
	return nil
}

// anyCase reports whether the keys of the block at path are names of the
// outside world rather than configuration keys: the HTTP header names of a
// channel (channels.NAME.headers), which HTTP compares without case.
func anyCase(path string) bool {
	parts := strings.Split(path, ".")
	return len(parts) == 3 && parts[0] == "channels" && parts[2] == "headers"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
