//go:build !unix

package soak

import (
	"os"
	"os/exec"
)

// The campaign runs on Unix; elsewhere Ctrl-C goes to terraform alone.
func ownProcessGroup(*exec.Cmd) {}

func interruptGroup(cmd *exec.Cmd) error { return cmd.Process.Signal(os.Interrupt) }

func killGroup(cmd *exec.Cmd) error { return cmd.Process.Kill() }
