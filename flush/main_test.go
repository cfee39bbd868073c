package flush_test

import (
	"os"
	"testing"

	"github.com/f2b-notify/f2b-notify/internal/testenv"
)

// TestMain runs the tests through testenv.Main: no flush of a test reaches
// the machine's default buffer folder.
func TestMain(m *testing.M) { os.Exit(testenv.Main(m.Run)) }
