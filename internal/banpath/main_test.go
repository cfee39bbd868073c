package banpath

import (
	"os"
	"testing"

	"github.com/f2b-notify/f2b-notify/internal/testenv"
)

// TestMain runs the tests through testenv.Main: a ban whose configuration
// cannot be used goes to the test's default folder, never the machine's.
func TestMain(m *testing.M) { os.Exit(testenv.Main(m.Run)) }
