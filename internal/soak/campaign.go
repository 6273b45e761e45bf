package soak

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config bounds a campaign.
type Config struct {
	Env
	// Seed is the first run's seed; run i has Seed+i.
	Seed uint64
	// Steps and Time bound the campaign: no run starts once either is
	// spent (a run in progress finishes its steps).
	Steps int
	Time  time.Duration
	// RunSteps is each run's length (default 30).
	RunSteps int
	// Keep, when not nil, replays only these steps of the first run (the
	// indexes a shrunk violation prints).
	Keep []int
	// ShrinkTime bounds the search for a shorter failing sequence (0: no
	// search).
	ShrinkTime time.Duration
	// Log gets a line per run and the summary.
	Log io.Writer
}

// Outcome is what a campaign found.
type Outcome struct {
	Stats     *Stats
	Violation *Violation
	// Shrunk is the shortest failing subsequence found, as indexes into
	// the violation's steps (nil without a search).
	Shrunk []int
}

// Campaign runs runs from cfg.Seed on until the budget is spent or an
// invariant is broken.
func Campaign(ctx context.Context, cfg Config) (Outcome, error) {
	if cfg.RunSteps == 0 {
		cfg.RunSteps = 30
	}
	res := Outcome{Stats: NewStats()}
	for _, k := range cfg.Keep {
		if k >= cfg.RunSteps {
			return res, fmt.Errorf("SOAK_KEEP names step %d, and a run has %d (0 to %d; SOAK_RUN_STEPS sets it)", k, cfg.RunSteps, cfg.RunSteps-1)
		}
	}
	start := time.Now()
	for i := uint64(0); ; i++ {
		if ctx.Err() != nil || (i > 0 && (res.Stats.Steps >= cfg.Steps || time.Since(start) >= cfg.Time)) {
			break
		}
		seed := cfg.Seed + i
		choices, steps := Draw(seed, cfg.RunSteps)
		if cfg.Keep != nil {
			steps = pick(steps, cfg.Keep)
		}
		fmt.Fprintf(cfg.Log, "soak: run seed %d, %d steps: %s\n", seed, len(steps), choices)
		v, err := Execute(ctx, cfg.Env, seed, choices, steps, res.Stats)
		if err != nil {
			return res, err
		}
		if v != nil {
			res.Stats.Violations++
			res.Violation = v
			if cfg.ShrinkTime > 0 {
				res.Shrunk = Shrink(ctx, cfg.Env, v, cfg.ShrinkTime, cfg.Log)
			}
			break
		}
		if cfg.Keep != nil {
			break
		}
	}
	return res, ctx.Err()
}

// Shrink looks for a shorter subsequence of v's steps that still breaks
// an invariant (any), removing ever smaller chunks while the time lasts,
// and returns its indexes.
func Shrink(ctx context.Context, env Env, v *Violation, budget time.Duration, log io.Writer) []int {
	keep := make([]int, len(v.Steps))
	for i := range keep {
		keep[i] = i
	}
	// Steps after the one that failed do not matter.
	if n := failedAt(v); n >= 0 && n+1 < len(keep) {
		keep = keep[:n+1]
	}
	deadline := time.Now().Add(budget)
	for chunk := max(len(keep)/2, 1); ; chunk /= 2 {
		for at := 0; at < len(keep) && time.Now().Before(deadline) && ctx.Err() == nil; {
			try := slices.Delete(slices.Clone(keep), at, min(at+chunk, len(keep)))
			found, err := Execute(ctx, env, v.Seed, v.Choices, pick(v.Steps, try), NewStats())
			fmt.Fprintf(log, "soak: shrinking: %d steps %s\n", len(try), map[bool]string{true: "still fail", false: "pass"}[found != nil && err == nil])
			if err == nil && found != nil {
				keep = try
				continue
			}
			at += chunk
		}
		if chunk == 1 || time.Now().After(deadline) || ctx.Err() != nil {
			return keep
		}
	}
}

// failedAt returns the index of the step the violation happened in (-1
// when it happened before the first).
func failedAt(v *Violation) int {
	n := -1
	for _, h := range v.History {
		if rest, ok := strings.CutPrefix(h, "step "); ok {
			if i, err := strconv.Atoi(strings.SplitN(rest, ":", 2)[0]); err == nil {
				n = i
			}
		}
	}
	return n
}

func pick(steps []Step, keep []int) []Step {
	out := make([]Step, 0, len(keep))
	for _, i := range keep {
		if i >= 0 && i < len(steps) {
			out = append(out, steps[i])
		}
	}
	return out
}

// FormatKeep writes indexes as SOAK_KEEP takes them: "0,3,5", or "none"
// for no step (the violation happens in the first apply or the last
// destroy).
func FormatKeep(keep []int) string {
	if len(keep) == 0 {
		return "none"
	}
	s := make([]string, len(keep))
	for i, k := range keep {
		s[i] = strconv.Itoa(k)
	}
	return strings.Join(s, ",")
}

// ParseKeep reads SOAK_KEEP: nil when it is empty (every step), an empty
// list for "none".
func ParseKeep(s string) ([]int, error) {
	switch s {
	case "":
		return nil, nil
	case "none":
		return []int{}, nil
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		i, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || i < 0 {
			return nil, fmt.Errorf("SOAK_KEEP must be step indexes such as 0,3,5 (or none), not %q", s)
		}
		out = append(out, i)
	}
	return out, nil
}
