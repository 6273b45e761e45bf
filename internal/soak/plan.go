package soak

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Choices are what one run's directory, client and resource are.
type Choices struct {
	// Rotating directories issue a new refresh token on every renewal and
	// revoke the grant when a rotated-away one comes back.
	Rotating bool
	// Lifetime is the access tokens' lifetime: short, so that renewals
	// happen.
	Lifetime time.Duration
	// Public clients send code_verifier and no secret.
	Public bool
	// Alongside is another token in the configuration: "", a data source
	// ("data scim", "data client_credentials") or an ephemeral resource
	// ("ephemeral scim").
	Alongside    string
	RenewInPlan  bool
	MinRemaining string
}

func (c Choices) String() string {
	client := "confidential"
	if c.Public {
		client = "public (PKCE)"
	}
	along := c.Alongside
	if along == "" {
		along = "nothing"
	}
	return fmt.Sprintf("rotating=%t lifetime=%s client=%s alongside=%s renew_in_plan=%t min_remaining=%s",
		c.Rotating, c.Lifetime, client, along, c.RenewInPlan, c.MinRemaining)
}

// FaultKind is a misbehaviour of the directory, queued for one request.
type FaultKind string

// The fault kinds a step may queue.
const (
	Fault500       FaultKind = "500"
	Fault503       FaultKind = "503"
	Fault429       FaultKind = "429 Retry-After: 1"
	FaultReset     FaultKind = "reset before acting"
	FaultLost      FaultKind = "answer lost after acting"
	FaultSlowLost  FaultKind = "answer after request_timeout"
	FaultSlow      FaultKind = "slow past request_timeout before acting"
	FaultHTML      FaultKind = "HTML body"
	FaultTruncated FaultKind = "truncated body"
)

// FaultKinds are all the kinds, in a fixed order (the draws depend on it).
var FaultKinds = []FaultKind{Fault500, Fault503, Fault429, FaultReset, FaultLost, FaultSlowLost, FaultSlow, FaultHTML, FaultTruncated}

// LostAfterActing reports whether a fault of this kind lets the directory
// act and loses its answer.
func (k FaultKind) LostAfterActing() bool { return k == FaultLost || k == FaultSlowLost }

// Step is one step of a run, with everything it needs drawn in advance.
type Step struct {
	Op string
	// Wait is how long time passes (in "time passes", and between a saved
	// plan and its apply); for "Ctrl-C", how long after the start the
	// interrupt comes.
	Wait time.Duration
	// Command is the terraform command of "Ctrl-C" and "directory down".
	Command string
	// MinRemaining is the new setting of "min_remaining".
	MinRemaining string
	// TokenFaults are queued for the token endpoint, RevokeFaults for the
	// revocation endpoint, before the step.
	TokenFaults, RevokeFaults []FaultKind
	// Pick chooses among runtime candidates ("a code already sent").
	Pick int
}

func (s Step) String() string {
	var b strings.Builder
	b.WriteString(s.Op)
	switch s.Op {
	case OpTimePasses, OpSavedPlan:
		fmt.Fprintf(&b, " (%s)", s.Wait)
	case OpInterrupt:
		fmt.Fprintf(&b, " %s after %s", s.Command, s.Wait)
	case OpDown:
		fmt.Fprintf(&b, " during %s", s.Command)
	case OpMinRemaining:
		fmt.Fprintf(&b, " = %s", s.MinRemaining)
	}
	if len(s.TokenFaults) > 0 {
		fmt.Fprintf(&b, " [token: %s]", joinKinds(s.TokenFaults))
	}
	if len(s.RevokeFaults) > 0 {
		fmt.Fprintf(&b, " [revoke: %s]", joinKinds(s.RevokeFaults))
	}
	return b.String()
}

func joinKinds(ks []FaultKind) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// The operations of a step.
const (
	OpPlan         = "plan (thrown away)"
	OpApply        = "apply"
	OpSavedPlan    = "plan -out, apply later"
	OpRefreshFalse = "apply -refresh=false"
	OpRefreshOnly  = "apply -refresh-only"
	OpMinRemaining = "min_remaining"
	OpRenewInPlan  = "renew_in_plan toggles"
	OpInterrupt    = "Ctrl-C"
	OpRecreate     = "destroy, then a new code"
	OpDown         = "directory down"
	OpTimePasses   = "time passes"
	OpAdminRevokes = "an administrator revokes the grant"
	OpSentCode     = "the user sets a code already sent"
)

// weights are how often each operation is drawn, in a fixed order.
var weights = []struct {
	op     string
	weight int
}{
	{OpPlan, 4}, {OpApply, 6}, {OpSavedPlan, 3}, {OpRefreshFalse, 2}, {OpRefreshOnly, 2},
	{OpMinRemaining, 2}, {OpRenewInPlan, 1}, {OpInterrupt, 3}, {OpRecreate, 1}, {OpDown, 2},
	{OpTimePasses, 3}, {OpAdminRevokes, 1}, {OpSentCode, 1},
}

var minRemainings = []string{"1s", "3s", "6s", "30s"}

// Draw returns the run of seed: its choices and steps steps.
func Draw(seed uint64, steps int) (Choices, []Step) {
	rng := rand.New(rand.NewPCG(seed, 0x50a4))
	c := Choices{
		Rotating:     rng.IntN(2) == 0,
		Lifetime:     []time.Duration{5 * time.Second, 8 * time.Second, 15 * time.Second}[rng.IntN(3)],
		Public:       rng.IntN(3) == 0,
		RenewInPlan:  rng.IntN(2) == 0,
		MinRemaining: minRemainings[rng.IntN(len(minRemainings))],
	}
	along := []string{"", "data scim", "ephemeral scim", "data client_credentials"}
	if c.Public {
		along = along[:3] // a public client has no secret for client credentials
	}
	c.Alongside = along[rng.IntN(len(along))]
	total := 0
	for _, w := range weights {
		total += w.weight
	}
	out := make([]Step, steps)
	for i := range out {
		out[i] = drawStep(rng, c, total)
	}
	return c, out
}

func drawStep(rng *rand.Rand, c Choices, total int) Step {
	var s Step
	pick := rng.IntN(total)
	for _, w := range weights {
		if pick -= w.weight; pick < 0 {
			s.Op = w.op
			break
		}
	}
	s.Pick = rng.IntN(1000)
	switch s.Op {
	case OpTimePasses, OpSavedPlan:
		s.Wait = time.Duration(rng.Int64N(int64(c.Lifetime)))
	case OpInterrupt:
		s.Wait = 200*time.Millisecond + time.Duration(rng.Int64N(int64(2500*time.Millisecond)))
		s.Command = []string{"plan", "apply", "destroy"}[rng.IntN(3)]
	case OpDown:
		s.Command = []string{"plan", "apply"}[rng.IntN(2)]
	case OpMinRemaining:
		s.MinRemaining = minRemainings[rng.IntN(len(minRemainings))]
	}
	if rng.IntN(100) < 35 {
		for range 1 + rng.IntN(2) {
			s.TokenFaults = append(s.TokenFaults, FaultKinds[rng.IntN(len(FaultKinds))])
		}
	}
	if rng.IntN(100) < 8 {
		s.RevokeFaults = append(s.RevokeFaults, FaultKinds[rng.IntN(len(FaultKinds))])
	}
	return s
}
