package main

import (
	"os"
	"os/signal"
	"testing"
)

// The provider's process ignores Ctrl-C from its packages' init on
// (internal/ctrlc), so that a Ctrl-C while it starts does not kill it
// before its handshake; Terraform stops it over RPC.
func TestCtrlCIsIgnoredBeforeMainRuns(t *testing.T) {
	if !signal.Ignored(os.Interrupt) {
		t.Fatal("SIGINT is not ignored when main's packages are initialized")
	}
}
