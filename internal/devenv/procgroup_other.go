//go:build !unix

package devenv

import (
	"os"
	"os/exec"
)

// The campaign and the demo run on Unix; elsewhere Ctrl-C and the kill go
// to the process alone.

// OwnProcessGroup does nothing here.
func OwnProcessGroup(*exec.Cmd) {}

// InterruptGroup sends Ctrl-C to the process.
func InterruptGroup(cmd *exec.Cmd) error { return cmd.Process.Signal(os.Interrupt) }

// KillGroup kills the process.
func KillGroup(cmd *exec.Cmd) error { return cmd.Process.Kill() }
