package geoip

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoWriterLinked: the database writer is for tests and the generator
// only; a binary that looks addresses up does not carry it.
func TestNoWriterLinked(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, d := range deps {
		if strings.HasPrefix(d, "github.com/maxmind/mmdbwriter") || strings.HasSuffix(d, "/mmdbtest") {
			t.Errorf("package geoip links %s", d)
		}
	}
	if len(deps) < 10 {
		t.Fatalf("go list -deps gave %d packages: %q", len(deps), deps)
	}
}
