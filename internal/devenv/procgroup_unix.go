//go:build unix

package devenv

import (
	"os/exec"
	"syscall"
)

// OwnProcessGroup starts cmd in a process group of its own, so that
// InterruptGroup and KillGroup reach it and its children (terraform's
// providers) together, and a terminal's Ctrl-C does not reach it directly.
func OwnProcessGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// InterruptGroup sends Ctrl-C (SIGINT) to cmd's process group, as a terminal
// does.
func InterruptGroup(cmd *exec.Cmd) error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) }

// KillGroup kills cmd's process group.
func KillGroup(cmd *exec.Cmd) error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
