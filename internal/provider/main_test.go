package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestMain gives the package's tests their own ledger of sent codes (the
// provider's default is in the user's cache directory); a test that needs
// one of its own sets CIAM_CODE_LEDGER itself.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ciam-provider-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv(envCodeLedger, filepath.Join(dir, "sent-codes"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
