// Command bench is `make bench`: it measures `terraform plan` with N token
// data sources against the local CIAM with injected latency, with token
// reuse on and off, and against the floor (N data sources of a provider that
// does no I/O, built from internal/cmd/bench-floor), in the same run.
//
// For every run it reports the wall time (median of -repeat runs), the peak
// resident memory of terraform (from its rusage) and of the provider process
// (VmHWM, sampled every 10 ms), and the token requests the CIAM received.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/devenv"
	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

const (
	benchClientID     = "bench-app"
	benchClientSecret = "bench-app-secret-4c1e"
	distinctScopeSets = 100
)

var onlyScenarios string

type scenario struct {
	name     string
	provider string // "ciam" or "floor"
	n        int
	reuse    bool
	distinct bool // every block its own scope set
}

type measurement struct {
	scenario
	wall          time.Duration
	terraformPeak int64 // KiB
	providerPeak  int64 // KiB
	requests      int64 // per run
}

func main() {
	counts := flag.String("n", "1,100,1000", "comma-separated numbers of data sources")
	latency := flag.Duration("latency", 50*time.Millisecond, "latency the local CIAM adds to every response")
	repeat := flag.Int("repeat", 3, "runs per scenario; the median wall time is reported")
	only := flag.String("only", "", "run only scenarios whose name contains this text (the floor always runs)")
	flag.Parse()
	if *repeat < 1 {
		*repeat = 1
	}
	onlyScenarios = *only
	if err := run(*counts, *latency, *repeat); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(countsFlag string, latency time.Duration, repeat int) error {
	ctx := context.Background()
	var ns []int
	for _, f := range strings.Split(countsFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return fmt.Errorf("bad -n value %q", f)
		}
		ns = append(ns, n)
	}
	env, err := devenv.NewEnv("ciam-bench-")
	if err != nil {
		return err
	}
	defer env.Close()
	tfBin, root, tmp := env.Terraform, env.Root, env.Dir

	// Both providers, built here; dev_overrides maps each address to its dir.
	ciamDir, floorDir := filepath.Join(tmp, "ciam"), filepath.Join(tmp, "floor")
	if _, err := devenv.BuildProvider(ctx, root, ciamDir, "0.0.0-bench"); err != nil {
		return err
	}
	floorBin := filepath.Join(floorDir, "terraform-provider-floor")
	if out, err := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", floorBin, "./internal/cmd/bench-floor").CombinedOutput(); err != nil {
		return fmt.Errorf("building the floor provider: %v\n%s", err, out)
	}
	rc := filepath.Join(tmp, "terraform.rc")
	cli := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    %q = %q\n    %q = %q\n  }\n  direct {}\n}\n",
		devenv.ProviderAddress(), ciamDir, "registry.terraform.io/bench/floor", floorDir)
	if err := os.WriteFile(rc, []byte(cli), 0o600); err != nil {
		return err
	}

	scopes := make([]string, 0, distinctScopeSets+1)
	for i := 0; i < distinctScopeSets; i++ {
		scopes = append(scopes, fmt.Sprintf("scope-%03d", i))
	}
	srv, err := localciam.New(localciam.Options{
		Latency: latency,
		Clients: []localciam.Client{{ID: benchClientID, Secret: benchClientSecret, Scopes: append(scopes, "identity_proofing")}},
	})
	if err != nil {
		return err
	}
	if err := srv.Start("127.0.0.1:0"); err != nil {
		return err
	}
	defer srv.Close()

	var scenarios []scenario
	for _, n := range ns {
		scenarios = append(scenarios,
			scenario{name: "floor (no I/O)", provider: "floor", n: n},
			scenario{name: "ciam, reuse on", provider: "ciam", n: n, reuse: true},
			scenario{name: "ciam, reuse off", provider: "ciam", n: n},
		)
	}
	scenarios = append(scenarios,
		scenario{name: "floor (no I/O)", provider: "floor", n: distinctScopeSets, distinct: true},
		scenario{name: "ciam, reuse on, distinct scope sets", provider: "ciam", n: distinctScopeSets, reuse: true, distinct: true},
		scenario{name: "ciam, reuse off, distinct scope sets", provider: "ciam", n: distinctScopeSets, distinct: true},
	)

	scenarios = slices.DeleteFunc(scenarios, func(sc scenario) bool {
		return sc.provider != "floor" && !strings.Contains(sc.name, onlyScenarios)
	})
	fmt.Printf("terraform plan, local CIAM with %v latency, median of %d runs, parallelism 10 (terraform's default)\n\n", latency, repeat)
	// Rounds: every scenario runs once per round, so that drift in the
	// machine's speed affects all of them alike; the median is reported.
	results := make([]measurement, len(scenarios))
	walls := make([][]time.Duration, len(scenarios))
	for i, sc := range scenarios {
		results[i] = measurement{scenario: sc}
	}
	dirs := make([]string, len(scenarios))
	for round := 0; round < repeat; round++ {
		for i, sc := range scenarios {
			if dirs[i] == "" {
				if dirs[i], err = workDir(tmp, sc); err != nil {
					return err
				}
			}
			if err := measureOnce(ctx, tfBin, rc, dirs[i], srv, &results[i]); err != nil {
				return fmt.Errorf("%s, N=%d: %w", sc.name, sc.n, err)
			}
			walls[i] = append(walls[i], results[i].wall)
		}
		fmt.Fprintf(os.Stderr, "  round %d/%d done\n", round+1, repeat)
	}
	for i := range results {
		slices.Sort(walls[i])
		results[i].wall = walls[i][len(walls[i])/2]
		results[i].requests /= int64(repeat)
	}
	report(results, latency)
	return nil
}

func config(sc scenario) string {
	var b strings.Builder
	if sc.provider == "floor" {
		b.WriteString("terraform {\n  required_providers {\n    floor = { source = \"bench/floor\" }\n  }\n}\n\n")
	} else {
		b.WriteString("terraform {\n  required_providers {\n    ciam = { source = \"ciam-oss/ciam\" }\n  }\n}\n\n")
		fmt.Fprintf(&b, "provider \"ciam\" {\n  token_reuse = %v\n}\n\n", sc.reuse)
	}
	typ := "ciam_client_credentials_token"
	if sc.provider == "floor" {
		typ = "floor_token"
	}
	for i := 0; i < sc.n; i++ {
		scope := "identity_proofing"
		if sc.distinct {
			scope = fmt.Sprintf("scope-%03d", i%distinctScopeSets)
		}
		fmt.Fprintf(&b, "data %q \"t%d\" {\n  scopes = [%q]\n}\n", typ, i, scope)
	}
	return b.String()
}

func workDir(tmp string, sc scenario) (string, error) {
	dir, err := os.MkdirTemp(tmp, "work-")
	if err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, "main.tf"), []byte(config(sc)), 0o600)
}

// measureOnce runs one terraform plan in dir and adds its figures to m:
// m.wall is set to this run's wall time, peaks and requests accumulate.
func measureOnce(ctx context.Context, tfBin, rc, dir string, srv *localciam.Server, m *measurement) error {
	before := srv.Requests(localciam.TokenPath)
	cmd := exec.CommandContext(ctx, tfBin, "plan", "-input=false", "-no-color", "-lock=false")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"TF_CLI_CONFIG_FILE="+rc, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1", "TF_LOG=",
		"CIAM_AUTH_DOMAIN="+srv.URL(), "CIAM_CLIENT_ID="+benchClientID, "CIAM_CLIENT_SECRET="+benchClientSecret,
	)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	peak := watchProviderPeak(cmd.Process.Pid)
	err := cmd.Wait()
	m.wall = time.Since(start)
	providerPeak := peak()
	if err != nil {
		return fmt.Errorf("terraform plan: %v\n%s", err, tail(out.String(), 20))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.terraformPeak = max(m.terraformPeak, ru.Maxrss)
	}
	m.providerPeak = max(m.providerPeak, providerPeak)
	m.requests += srv.Requests(localciam.TokenPath) - before
	return nil
}

// watchProviderPeak samples, every 10 ms, the VmHWM of the provider
// processes terraform starts, and returns a function that stops sampling and
// gives the highest value seen (KiB).
func watchProviderPeak(tfPid int) func() int64 {
	var mu sync.Mutex
	var peak int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			for _, pid := range childProviders(tfPid) {
				if hwm := vmHWM(pid); hwm > 0 {
					mu.Lock()
					peak = max(peak, hwm)
					mu.Unlock()
				}
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

func childProviders(ppid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(stat)
		end := strings.LastIndexByte(s, ')')
		if end < 0 || !strings.Contains(s[:end], "terraform-provi") {
			continue
		}
		fields := strings.Fields(s[end+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(ppid) {
			out = append(out, pid)
		}
	}
	return out
}

func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				v, _ := strconv.ParseInt(f[1], 10, 64)
				return v
			}
		}
	}
	return 0
}

func report(results []measurement, latency time.Duration) {
	floors := map[string]time.Duration{}
	key := func(m measurement) string { return fmt.Sprintf("%d/%v", m.n, m.distinct) }
	for _, m := range results {
		if m.provider == "floor" {
			floors[key(m)] = m.wall
		}
	}
	fmt.Println("| scenario | N | wall | vs floor | terraform peak RSS | provider peak RSS | token requests per plan |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
	for _, m := range results {
		ratio := "1.00x"
		if m.provider != "floor" {
			ratio = fmt.Sprintf("%.2fx", float64(m.wall)/float64(floors[key(m)]))
		}
		reqs := "-"
		if m.provider != "floor" {
			reqs = strconv.FormatInt(m.requests, 10)
		}
		fmt.Printf("| %s | %d | %.2f s | %s | %.0f MiB | %.0f MiB | %s |\n",
			m.name, m.n, m.wall.Seconds(), ratio, float64(m.terraformPeak)/1024, float64(m.providerPeak)/1024, reqs)
	}
	fmt.Println()
	// Without reuse, every block waits for one round trip; terraform runs 10
	// reads at a time, so the least the latency can cost is N/10 round trips.
	for _, m := range results {
		if m.provider == "ciam" && !m.reuse && !m.distinct && m.n >= 100 {
			extra := m.wall - floors[key(m)]
			ideal := time.Duration(m.n/10) * latency
			fmt.Printf("reuse off, N=%d: %.2f s above the floor; %d round trips / parallelism 10 x %v = %.2f s at the least (%.2fx of that bound)\n",
				m.n, extra.Seconds(), m.n, latency, ideal.Seconds(), extra.Seconds()/ideal.Seconds())
		}
	}
	fmt.Printf("\nmachine: %s, %d CPUs, %s\n", cpuModel(), runtime.NumCPU(), memTotal())
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "model name") {
			if _, v, ok := strings.Cut(line, ":"); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}

func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "MemTotal:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseInt(f[1], 10, 64)
				return fmt.Sprintf("%.0f GiB RAM", float64(kb)/1024/1024)
			}
		}
	}
	return "unknown RAM"
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
