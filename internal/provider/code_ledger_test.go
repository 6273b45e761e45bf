package provider

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The ledger claims a code once, across any number of claimants at once
// (two provider processes), remembers it in the file, forgets a released
// one, and drops expired and foreign lines.
func TestCodeLedger(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dir", "sent-codes")
	t.Setenv(envCodeLedger, path)
	now := time.Now()
	l := openCodeLedger(func() time.Time { return now })
	if l == nil || l.has("c1") {
		t.Fatal("a new ledger holds a code")
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			other := openCodeLedger(func() time.Time { return now }) // another process
			if ok, err := other.claim("c1"); err != nil {
				t.Error(err)
			} else if ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || !l.has("c1") {
		t.Fatalf("%d claims of one code succeeded, want 1; held %t", wins.Load(), l.has("c1"))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 || strings.Contains(string(b), "c1 ") {
		t.Errorf("the ledger file holds the code, not its mark: %q", b)
	}
	if ok, _ := l.claim("c2"); !ok {
		t.Fatal("a second code was refused")
	}
	if err := l.release("c2"); err != nil || l.has("c2") {
		t.Errorf("a released code is still held (%v)", err)
	}
	if err := os.WriteFile(path, append(b, []byte("not a ledger line\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	later := openCodeLedger(func() time.Time { return now.Add(codeLedgerTTL + time.Minute) })
	if !l.has("c1") || later.has("c1") {
		t.Errorf("held now %t (want true), held after the TTL %t (want false)", l.has("c1"), later.has("c1"))
	}

	t.Setenv(envCodeLedger, "off")
	if off := openCodeLedger(nil); off != nil || off.has("c1") {
		t.Error("CIAM_CODE_LEDGER=off still opens a ledger")
	}
	if ok, err := (*codeLedger)(nil).claim("c1"); !ok || err != nil {
		t.Error("no ledger refused a claim")
	}
}

// A lock left by a crashed process is taken over after a minute; one held
// now makes a claim wait, then fail with an error that refuses nothing.
func TestCodeLedgerLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sent-codes")
	t.Setenv(envCodeLedger, path)
	l := openCodeLedger(nil)
	if err := os.WriteFile(path+".lock", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-2 * time.Minute)
	if err := os.Chtimes(path+".lock", old, old); err != nil {
		t.Fatal(err)
	}
	if ok, err := l.claim("c1"); !ok || err != nil {
		t.Fatalf("a stale lock was not taken over: %t %v", ok, err)
	}
}
