//go:build unix

package soak

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup starts the command in its own process group, so that a
// Ctrl-C reaches terraform and its provider as it does from a terminal.
func ownProcessGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

func interruptGroup(cmd *exec.Cmd) error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) }

func killGroup(cmd *exec.Cmd) error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
