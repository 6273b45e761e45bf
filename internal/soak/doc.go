// Package soak is the randomized fault campaign of
// ciam_authorization_code_token: seeded random sequences of terraform (or
// tofu) commands, settings changes, Ctrl-C and directory faults, run with
// the built provider against the local CIAM, with the grant's invariants
// checked after every step against the directory's own records (not the
// provider's word):
//
//  1. no authorization code is presented twice;
//  2. no refresh token is presented after the directory rotated it away,
//     unless the answer that carried its successor was lost after the
//     directory acted, the command was interrupted while it rotated, or a
//     plan with renew_in_plan = true on a rotating directory was thrown
//     away (the documented cost of that setting); and the first rejection
//     of such a token that reaches the provider (the directory records
//     whether a fault lost it) is reported as needing a new code;
//  3. while the grant of the code in state lives at the directory, state
//     holds its working refresh token, unless the sequence did something
//     no provider can undo (Run.lossAllowed says what: a lost answer, an
//     administrator's revocation, a destroy cut off after its revocation
//     reached the directory); after an apply that succeeds, the token in
//     state works;
//  4. every destroy ends with the grant of the code that was in state
//     revoked at the directory, or with a warning that says it was not;
//  5. no 8-character window of a secret is in any output, TF_LOG=trace
//     log, saved plan (terraform show -json's account of it, and its
//     files), state file or its backup, except in the attributes documented
//     to hold it (and a saved plan's variables, the user's values), and no
//     ephemeral value is in a plan or state file at all;
//  6. no command ends in a panic, an inconsistent result or a provider bug,
//     and each error a command fails with is documented and explained: a
//     directory error by a fault of the step or the directory down, a lost
//     grant or spent code by a loss or refusal the model allows; the first
//     apply, with nothing in its way, succeeds.
//
// Also: one command sends at most one refresh request (a run renews at most
// once), and an apply that succeeds does not keep a token that expired
// before it started without saying so.
//
// In process (Env.NewWorkspace: the provider package's tests), the
// provider's own log lines go to the test's log, not to terraform's trace
// log: only runs with the built binary (make soak, TestSoak_shortCampaign)
// check the provider's logs.
//
// A run is fully determined by its seed: the directory's and the client's
// settings and every step, with its faults, are drawn before the first
// command. A violation stops the campaign; Shrink then looks for a shorter
// sequence of the same run's steps that still fails. `make soak` runs a
// long campaign (internal/cmd/soak); every `make test` runs a short one
// (soak_test.go).
package soak
