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
//     directory acted (or the command was interrupted while it rotated);
//     and a refresh token that comes back so is reported as needing a new
//     code;
//  3. while the grant lives at the directory, state holds a refresh token
//     that the directory accepts, unless the sequence did something no
//     provider can undo (Run.lossAllowed says what);
//  4. every destroy ends with the grant revoked, or with a warning that
//     says it was not;
//  5. no 8-character window of a secret is in any output, TF_LOG=trace
//     log, plan or state file, except in the attributes documented to hold
//     it, and no ephemeral value is in a plan or state file at all;
//  6. no command ends in a panic, an inconsistent result or a provider bug,
//     nor fails with an error the documentation does not list.
//
// Also: one command sends at most one refresh request (a run renews at most
// once), and an apply that succeeds does not keep a token that expired
// before it started without saying so.
//
// A run is fully determined by its seed: the directory's and the client's
// settings and every step, with its faults, are drawn before the first
// command. A violation stops the campaign; Shrink then looks for a shorter
// sequence of the same run's steps that still fails. `make soak` runs a
// long campaign (internal/cmd/soak); every `make test` runs a short one
// (soak_test.go).
package soak
