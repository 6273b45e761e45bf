package soak

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/leaktest"
)

// shortCampaignSeed is the fixed run of every make test: a rotating
// directory, a public client, an ephemeral token alongside.
const shortCampaignSeed = 22

// The short campaign of make test: the fixed seed and one random seed, 40
// steps each, with the terraform on PATH (TF_ACC_TERRAFORM_PATH). A
// violation names the seed to replay with make soak.
func TestSoak_shortCampaign(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	env, cleanup, err := Prepare(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	var b [8]byte
	_, _ = rand.Read(b[:])
	random := binary.LittleEndian.Uint64(b[:]) % 1_000_000
	for _, seed := range []uint64{shortCampaignSeed, random} {
		res, err := Campaign(ctx, Config{Env: env, Seed: seed, Steps: 1, RunSteps: 40, Log: testLog{t}})
		if err != nil {
			t.Fatalf("seed %d: the campaign failed: %v", seed, err)
		}
		t.Log(res.Stats.Summary())
		if v := res.Violation; v != nil {
			t.Fatalf("%s\nreplay: SOAK_SEED=%d SOAK_STEPS=1 SOAK_RUN_STEPS=40 make soak", v.Error(), seed)
		}
		if res.Stats.Steps != 40 {
			t.Errorf("seed %d ran %d steps, want 40", seed, res.Stats.Steps)
		}
	}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// A run is its seed: the same seed draws the same choices and steps, and
// another seed others.
func TestDraw_isReproducible(t *testing.T) {
	c1, s1 := Draw(7, 50)
	c2, s2 := Draw(7, 50)
	if !reflect.DeepEqual(c1, c2) || !reflect.DeepEqual(s1, s2) {
		t.Fatal("seed 7 drew two different runs")
	}
	if _, s3 := Draw(8, 50); reflect.DeepEqual(s1, s3) {
		t.Fatal("seeds 7 and 8 drew the same steps")
	}
	// Over many seeds every choice and every operation and fault is drawn.
	seen := map[string]bool{}
	for seed := range uint64(200) {
		c, steps := Draw(seed, 30)
		seen[c.String()] = true
		seen["rotating"] = seen["rotating"] || c.Rotating
		seen["public"] = seen["public"] || c.Public
		seen["alongside "+c.Alongside] = true
		for _, s := range steps {
			seen[s.Op] = true
			for _, k := range append(s.TokenFaults, s.RevokeFaults...) {
				seen[string(k)] = true
			}
		}
	}
	for _, want := range []string{"rotating", "public", "alongside ", "alongside data scim", "alongside ephemeral scim", "alongside data client_credentials"} {
		if !seen[want] {
			t.Errorf("200 seeds never drew %q", want)
		}
	}
	for _, w := range weights {
		if !seen[w.op] {
			t.Errorf("200 seeds never drew the operation %q", w.op)
		}
	}
	for _, k := range FaultKinds {
		if !seen[string(k)] {
			t.Errorf("200 seeds never drew the fault %q", k)
		}
	}
}

// The state check finds a secret outside the documented attributes, also
// in private state nested in base64, and not one inside them.
func TestStateWithoutDocumented(t *testing.T) {
	const secret = "Rt7vN2pL9sK4mR8tW1yZ3bC6"
	x := leaktest.NewIndex(leaktest.ClientID, map[string]string{"the refresh token": secret})
	nested := "eyJncmFudCI6ImV5SnpaVzUwWDJOdlpHVnpJanBiSWxKME4zWk9NbkJNT1hOTE5HMVNPSFJYTVhsYU0ySkROaUpkZlE9PSJ9" // {"grant":base64({"sent_codes":[secret]})}
	for _, tc := range []struct {
		name, state string
		leaks       bool
	}{
		{"documented", `{"resources":[{"type":"ciam_authorization_code_token","instances":[{"attributes":{"refresh_token":"` + secret + `"}}]}]}`, false},
		{"another attribute", `{"resources":[{"type":"ciam_authorization_code_token","instances":[{"attributes":{"id":"` + secret + `"}}]}]}`, true},
		{"another type", `{"resources":[{"type":"ciam_jwks","instances":[{"attributes":{"refresh_token":"` + secret + `"}}]}]}`, true},
		{"private, nested", `{"resources":[{"type":"ciam_authorization_code_token","instances":[{"private":"` + nested + `"}]}]}`, true},
		{"an output", `{"outputs":{"o":{"value":"` + secret + `"}}}`, true},
	} {
		if _, got := x.Find(stateWithoutDocumented([]byte(tc.state))); got != tc.leaks {
			t.Errorf("%s: leak found %t, want %t", tc.name, got, tc.leaks)
		}
	}
}

// SOAK_KEEP's form reads back.
func TestKeep(t *testing.T) {
	keep, err := ParseKeep(FormatKeep([]int{0, 3, 17}))
	if err != nil || !reflect.DeepEqual(keep, []int{0, 3, 17}) {
		t.Fatalf("ParseKeep(FormatKeep) = %v, %v", keep, err)
	}
	if _, err := ParseKeep("1,x"); err == nil {
		t.Error("ParseKeep accepted 1,x")
	}
	// A violation shrunk to no step replays no step, not every step.
	if keep, err := ParseKeep(FormatKeep(nil)); err != nil || keep == nil || len(keep) != 0 {
		t.Errorf("ParseKeep(FormatKeep(nil)) = %#v, %v; want an empty, non-nil list", keep, err)
	}
	// A step the run does not have is refused, not dropped.
	if _, err := Campaign(context.Background(), Config{Seed: 1, Steps: 1, RunSteps: 20, Keep: []int{3, 20}, Log: io.Discard}); err == nil || !strings.Contains(err.Error(), "names step 20") {
		t.Errorf("Campaign with SOAK_KEEP=3,20 of 20 steps: %v", err)
	}
}
