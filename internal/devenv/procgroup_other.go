//go:build !unix

package devenv

import "os/exec"

// The campaign and the demo run on Unix; elsewhere Ctrl-C and the kill go
// to the process alone.

// OwnProcessGroup does nothing here.
func OwnProcessGroup(*exec.Cmd) {}

// InterruptGroup kills the process: Windows cannot send it Ctrl-C.
func InterruptGroup(cmd *exec.Cmd) error { return cmd.Process.Kill() }

// KillGroup kills the process.
func KillGroup(cmd *exec.Cmd) error { return cmd.Process.Kill() }
