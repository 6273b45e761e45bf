package provider

import (
	"strings"
	"testing"
)

// The problems of a pair's two halves from the environment read as two
// sentences, not one run-on string.
func TestJoinProblemsKeepsSentencesApart(t *testing.T) {
	id := envProblem(envSCIMClientID, "scim_client_id", "demo-sync\n")
	secret := envProblem(envSCIMClientSecret, "scim_client_secret", " s3cret")
	got := joinProblems(id, secret)
	if !strings.Contains(got, "'\\n'). The "+envSCIMClientSecret) {
		t.Errorf("joined: %s", got)
	}
	if joinProblems("", secret) != secret || joinProblems("", "") != "" {
		t.Error("an empty half is not left out")
	}
}
