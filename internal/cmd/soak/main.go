// Command soak runs the randomized fault campaign of
// ciam_authorization_code_token (internal/soak) with the built provider
// and the terraform on PATH, or OpenTofu when CIAM_TOFU names its binary:
//
//	make soak                          # SOAK_STEPS=2000, a random seed
//	SOAK_SEED=42 make soak             # replays seed 42's runs, step for step
//	SOAK_SEED=42 SOAK_KEEP=0,3,7 make soak   # replays only those steps of run 42
//
// SOAK_STEPS and SOAK_TIME (a Go duration) bound the campaign, SOAK_RUN_STEPS
// is each run's length, SOAK_SHRINK_TIME bounds the search for a shorter
// failing sequence. It prints the seed first, a line per run, and a summary;
// a violation prints the seed, the steps, the faults and the local CIAM's
// records, and exits 1.
package main

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/soak"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	cfg, err := config()
	if err != nil {
		return err
	}
	fmt.Printf("soak: seed %d: runs of %d steps from seed %d on, until %d steps or %s have passed (a run in progress finishes)\n",
		cfg.Seed, cfg.RunSteps, cfg.Seed, cfg.Steps, cfg.Time)
	if cfg.Keep != nil {
		fmt.Printf("soak: replaying steps %s of run %d only\n", soak.FormatKeep(cfg.Keep), cfg.Seed)
	}
	fmt.Printf("soak: replay this campaign: %s\n", replay(cfg, cfg.Seed, cfg.Steps, cfg.Keep))
	env, cleanup, err := soak.Prepare(ctx, os.Getenv("CIAM_TOFU"))
	if err != nil {
		return err
	}
	defer cleanup()
	cfg.Env = env
	fmt.Printf("soak: with %s\n", env.Terraform)
	start := time.Now()
	res, err := soak.Campaign(ctx, cfg)
	fmt.Println(res.Stats.Summary())
	fmt.Printf("soak: %s\n", time.Since(start).Round(time.Second))
	if v := res.Violation; v != nil {
		fmt.Printf("soak: VIOLATION\n%s\n", v.Error())
		fmt.Printf("soak: replay the run: %s\n", replay(cfg, v.Seed, 1, cfg.Keep))
		if res.Shrunk != nil {
			keep := res.Shrunk
			if cfg.Keep != nil {
				keep = remap(cfg.Keep, keep)
			}
			fmt.Printf("soak: a shorter sequence that still fails (%d steps): %s\n", len(keep), replay(cfg, v.Seed, 1, keep))
		}
		return fmt.Errorf("an invariant was broken (seed %d)", v.Seed)
	}
	return err
}

// replay is the command that replays runs from seed: the same run length
// and tool, the given budget of steps and the kept steps.
func replay(cfg soak.Config, seed uint64, steps int, keep []int) string {
	cmd := fmt.Sprintf("SOAK_SEED=%d SOAK_STEPS=%d SOAK_RUN_STEPS=%d", seed, steps, cfg.RunSteps)
	if keep != nil {
		cmd += " SOAK_KEEP=" + soak.FormatKeep(keep)
	}
	if tofu := os.Getenv("CIAM_TOFU"); tofu != "" {
		cmd += " CIAM_TOFU=" + tofu
	}
	return cmd + " make soak"
}

// remap turns indexes into a kept subsequence into indexes into the run.
func remap(kept, idx []int) []int {
	out := make([]int, 0, len(idx))
	for _, i := range idx {
		out = append(out, kept[i])
	}
	return out
}

func config() (soak.Config, error) {
	cfg := soak.Config{Steps: 2000, Time: 3 * time.Hour, RunSteps: 30, ShrinkTime: 10 * time.Minute, Log: os.Stdout}
	var b [8]byte
	_, _ = rand.Read(b[:])
	cfg.Seed = binary.LittleEndian.Uint64(b[:]) % 1_000_000
	ints := map[string]struct {
		p   *int
		max int
	}{"SOAK_STEPS": {&cfg.Steps, 10_000_000}, "SOAK_RUN_STEPS": {&cfg.RunSteps, 1000}}
	for name, b := range ints {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > b.max {
				return cfg, fmt.Errorf("%s must be a whole number from 1 to %d, not %q", name, b.max, v)
			}
			*b.p = n
		}
	}
	if v := os.Getenv("SOAK_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return cfg, fmt.Errorf("SOAK_SEED must be a whole number, not %q", v)
		}
		cfg.Seed = n
	}
	durations := map[string]*time.Duration{"SOAK_TIME": &cfg.Time, "SOAK_SHRINK_TIME": &cfg.ShrinkTime}
	for name, p := range durations {
		if v := os.Getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			switch {
			case err != nil:
				return cfg, fmt.Errorf("%s must be a duration such as 30m, not %q", name, v)
			case d < 0:
				return cfg, fmt.Errorf("%s must not be negative, not %q", name, v)
			}
			*p = d
		}
	}
	keep, err := soak.ParseKeep(os.Getenv("SOAK_KEEP"))
	for _, k := range keep {
		if k >= cfg.RunSteps {
			return cfg, fmt.Errorf("SOAK_KEEP names step %d, and a run has %d (0 to %d; SOAK_RUN_STEPS sets it)", k, cfg.RunSteps, cfg.RunSteps-1)
		}
	}
	cfg.Keep = keep
	return cfg, err
}
