package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"

	"github.com/ciam-oss/terraform-provider-ciam/internal/devenv"
)

// inProcessTerraform runs terraform commands in one working directory
// against a provider served by this test process (Terraform reattaches to
// it, as terraform-plugin-testing does), in whatever order a test chooses:
// a thrown-away plan, a saved plan applied later, apply -refresh=false. The
// provider keeps its clock between commands, so tests move time instead of
// sleeping.
type inProcessTerraform struct {
	t   *testing.T
	bin string
	dir string
	env []string
}

// fakeClock is a clock that only moves when told to.
type fakeClock struct {
	mu sync.Mutex
	at time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{at: time.Now().UTC().Truncate(time.Second)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.at
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = c.at.Add(d)
}

// newInProcessTerraform serves p for the life of the test and returns a
// working directory whose commands reach it.
func newInProcessTerraform(t *testing.T, p provider.Provider) *inProcessTerraform {
	t.Helper()
	bin, err := devenv.TerraformPath()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	reattach := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	go func() {
		err := tf6server.Serve(devenv.ProviderAddress(), providerserver.NewProtocol6(p),
			tf6server.WithDebug(ctx, reattach, closed), tf6server.WithGoPluginLogger(hclog.NewNullLogger()), tf6server.WithLoggingSink(t))
		if err != nil {
			t.Errorf("serving the provider: %v", err)
		}
	}()
	var rc *plugin.ReattachConfig
	select {
	case rc = <-reattach:
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("the provider server did not start")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
		}
	})
	info, err := json.Marshal(map[string]any{devenv.ProviderAddress(): map[string]any{
		"Protocol": string(rc.Protocol), "ProtocolVersion": rc.ProtocolVersion, "Pid": rc.Pid, "Test": true,
		"Addr": map[string]string{"Network": rc.Addr.Network(), "String": rc.Addr.String()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cli := filepath.Join(dir, ".terraformrc")
	if err := os.WriteFile(cli, []byte("disable_checkpoint = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &inProcessTerraform{t: t, bin: bin, dir: dir, env: []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir(),
		"TF_CLI_CONFIG_FILE=" + cli, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1",
		"TF_REATTACH_PROVIDERS=" + string(info),
	}}
}

// write replaces main.tf.
func (w *inProcessTerraform) write(config string) {
	w.t.Helper()
	if err := os.WriteFile(filepath.Join(w.dir, "main.tf"), []byte(config), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// run runs one command (-input=false and -no-color added where they apply)
// with extra environment variables, and returns its output with whitespace
// collapsed, so that wrapped lines match.
func (w *inProcessTerraform) run(env []string, args ...string) (string, error) {
	w.t.Helper()
	switch args[0] {
	case "init", "plan", "apply", "destroy":
		args = append([]string{args[0], "-input=false", "-no-color"}, args[1:]...)
	}
	cmd := exec.Command(w.bin, args...)
	cmd.Dir = w.dir
	cmd.Env = append(append([]string{}, w.env...), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return strings.Join(strings.Fields(out.String()), " "), err
}

// stateAttribute returns an attribute of the only resource instance in the
// local state file ("" when there is none).
func (w *inProcessTerraform) stateAttribute(name string) string {
	w.t.Helper()
	v, _ := w.instance().Attributes[name].(string)
	return v
}

type stateInstance struct {
	Attributes map[string]any `json:"attributes"`
}

// instance returns the only resource instance in the local state file (the
// zero value when there is none).
func (w *inProcessTerraform) instance() stateInstance {
	w.t.Helper()
	b, err := os.ReadFile(filepath.Join(w.dir, "terraform.tfstate"))
	if os.IsNotExist(err) {
		return stateInstance{}
	}
	if err != nil {
		w.t.Fatal(err)
	}
	var state struct {
		Resources []struct {
			Instances []stateInstance `json:"instances"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(b, &state); err != nil {
		w.t.Fatal(err)
	}
	if len(state.Resources) == 0 || len(state.Resources[0].Instances) == 0 {
		return stateInstance{}
	}
	return state.Resources[0].Instances[0]
}
