package soak

import (
	"fmt"
	"slices"
	"strings"
)

// Stats are a campaign's figures.
type Stats struct {
	Runs, Steps int
	// Faults counts the faults the directory used, by kind.
	Faults map[FaultKind]int
	// Grants counts the grants a new code's exchange put in state.
	Grants int
	// Interrupts counts Ctrl-C steps, Down the steps with the directory down.
	Interrupts, Down int
	// LostAnswers counts the refresh tokens (from a code exchange or a
	// rotation) that only an answer lost after the directory acted carried;
	// Reuses the presentations of a rotated-away refresh token.
	LostAnswers, Reuses int
	// Choices counts the runs by each choice.
	Choices    map[string]int
	Violations int
	// Renewals and Exchanges are the directory's counts of refresh and code
	// grants it issued.
	Renewals, Exchanges int64
}

// NewStats returns empty figures.
func NewStats() *Stats { return &Stats{Faults: map[FaultKind]int{}, Choices: map[string]int{}} }

func (s *Stats) choice(c Choices) {
	s.Choices[fmt.Sprintf("rotating=%t", c.Rotating)]++
	s.Choices[fmt.Sprintf("public=%t", c.Public)]++
	s.Choices[fmt.Sprintf("renew_in_plan=%t", c.RenewInPlan)]++
	s.Choices["alongside="+orNothing(c.Alongside)]++
	s.Choices["lifetime="+c.Lifetime.String()]++
}

func orNothing(s string) string {
	if s == "" {
		return "nothing"
	}
	return strings.ReplaceAll(s, " ", "_")
}

// Summary is the one-line report of a campaign.
func (s *Stats) Summary() string {
	var faults []string
	total := 0
	for _, k := range FaultKinds {
		total += s.Faults[k]
		faults = append(faults, fmt.Sprintf("%s: %d", k, s.Faults[k]))
	}
	var choices []string
	for k, n := range s.Choices {
		choices = append(choices, fmt.Sprintf("%s: %d", k, n))
	}
	slices.Sort(choices)
	return fmt.Sprintf("soak: %d runs, %d steps, %d faults injected (%s), %d grants created, %d code exchanges and %d renewals at the directory, "+
		"%d Ctrl-C, %d steps with the directory down, %d lost-answer cases, %d refresh tokens back after a lost rotation, %d violations; runs by choice: %s",
		s.Runs, s.Steps, total, strings.Join(faults, ", "), s.Grants, s.Exchanges, s.Renewals,
		s.Interrupts, s.Down, s.LostAnswers, s.Reuses, s.Violations, strings.Join(choices, ", "))
}
