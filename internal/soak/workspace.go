package soak

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/devenv"
)

// Workspace is a terraform working directory a run drives.
type Workspace interface {
	// Write replaces main.tf.
	Write(config string) error
	// Run runs one command with extra environment variables; with
	// interruptAfter > 0 it sends Ctrl-C that long after the start, unless
	// the command ended first.
	Run(ctx context.Context, env []string, interruptAfter time.Duration, args ...string) Result
	// StateFile returns the local state file (nil when there is none).
	StateFile() ([]byte, error)
	// Dir is the working directory.
	Dir() string
}

// workspace runs terraform (or tofu) in one directory with a fixed
// environment. Every command writes a TF_LOG=trace log, which the leak
// check reads.
type workspace struct {
	bin string
	dir string
	env []string
}

// NewCommandWorkspace returns a workspace that runs bin in dir with env
// added to PATH, HOME, TMPDIR and the settings of automation (no
// checkpoint, TF_IN_AUTOMATION, TF_LOG=trace into dir).
func NewCommandWorkspace(bin, dir string, env []string) Workspace {
	base := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir(),
		"CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_LOG=trace", "TF_LOG_PATH=" + filepath.Join(dir, "trace.log"),
	}
	return &workspace{bin: bin, dir: dir, env: append(base, env...)}
}

// newWorkspace is a workspace wired to the built provider in providerDir
// through dev_overrides, with its own ledger of sent codes.
func newWorkspace(bin, providerDir, dir string, env []string) (Workspace, error) {
	rc := filepath.Join(dir, "terraform.rc")
	if err := devenv.WriteCLIConfig(rc, providerDir); err != nil {
		return nil, err
	}
	return NewCommandWorkspace(bin, dir, append([]string{"TF_CLI_CONFIG_FILE=" + rc, "CIAM_CODE_LEDGER=" + filepath.Join(dir, "sent-codes")}, env...)), nil
}

func (w *workspace) Dir() string { return w.dir }

func (w *workspace) Write(config string) error {
	return os.WriteFile(filepath.Join(w.dir, "main.tf"), []byte(config), 0o600)
}

// Result is what one command left.
type Result struct {
	Out string // standard output and error
	Log string // the TF_LOG=trace log ("" when there is none)
	Err error
	// Interrupted says a Ctrl-C was sent; Stuck says the command did not
	// end within a minute of it (and was killed).
	Interrupted, Stuck bool
}

// Run runs one command (-input=false and -no-color added where they apply,
// by CommandArgs). Ctrl-C is SIGINT to the process group, as a terminal
// sends it.
func (w *workspace) Run(ctx context.Context, env []string, interruptAfter time.Duration, args ...string) Result {
	args = CommandArgs(args)
	_ = os.Remove(filepath.Join(w.dir, "trace.log"))
	cmd := exec.Command(w.bin, args...)
	cmd.Dir = w.dir
	cmd.Env = append(append([]string{}, w.env...), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	devenv.OwnProcessGroup(cmd)
	var res Result
	if err := cmd.Start(); err != nil {
		res.Err = err
		return res
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var interrupt, stuck <-chan time.Time
	if interruptAfter > 0 {
		interrupt = time.After(interruptAfter)
	}
	for {
		select {
		case err := <-done:
			res.Err = err
			res.Out = out.String()
			log, _ := os.ReadFile(filepath.Join(w.dir, "trace.log"))
			res.Log = string(log)
			return res
		case <-interrupt:
			interrupt = nil
			res.Interrupted = true
			_ = devenv.InterruptGroup(cmd)
			stuck = time.After(time.Minute)
		case <-stuck:
			res.Stuck = true
			_ = devenv.KillGroup(cmd)
		case <-ctx.Done():
			_ = devenv.KillGroup(cmd)
			res.Err = <-done
			res.Out = out.String() + "\n(killed: " + ctx.Err().Error() + ")"
			return res
		}
	}
}

// state is the local state file, decoded ("" fields when there is none).
type state struct {
	Resources []struct {
		Mode      string `json:"mode"`
		Type      string `json:"type"`
		Instances []struct {
			Attributes map[string]any `json:"attributes"`
			Private    string         `json:"private"`
			Status     string         `json:"status"`
		} `json:"instances"`
	} `json:"resources"`
}

// CommandArgs adds -input=false and -no-color to the commands that take
// them.
func CommandArgs(args []string) []string {
	switch args[0] {
	case "init", "plan", "apply", "destroy":
		return append([]string{args[0], "-input=false", "-no-color"}, args[1:]...)
	}
	return args
}

func (w *workspace) StateFile() ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(w.dir, "terraform.tfstate"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// GrantAttribute returns an attribute of the ciam_authorization_code_token
// in ws's state, a bool as "true" or "false" ("" when there is none).
func GrantAttribute(ws Workspace, name string) string {
	b, err := ws.StateFile()
	if err != nil || b == nil {
		return ""
	}
	var st state
	if json.Unmarshal(b, &st) != nil {
		return ""
	}
	for _, r := range st.Resources {
		if r.Type == "ciam_authorization_code_token" && r.Mode == "managed" {
			for _, in := range r.Instances {
				switch v := in.Attributes[name].(type) {
				case string:
					return v
				case bool:
					return strconv.FormatBool(v)
				}
				return ""
			}
		}
	}
	return ""
}
