// Package e2e holds end-to-end tests that build the provider binary and run
// the real terraform binary against it through a dev_overrides CLI
// configuration, the way a user runs it. The package has no code of its own.
package e2e
