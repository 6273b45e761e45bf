//go:build unix

package provider

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ciam-oss/terraform-provider-ciam/internal/ciam"
	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

func mustHave(t *testing.T, l *codeLedger, code string) bool {
	t.Helper()
	ok, err := l.has(code)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// The ledger claims a code once, across any number of claimants at once
// (two provider processes), remembers it in the file, forgets a released
// one, and drops expired and foreign lines.
func TestCodeLedger(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dir", "sent-codes")
	t.Setenv(envCodeLedger, path)
	now := time.Now()
	l := openCodeLedger(func() time.Time { return now })
	if l == nil || mustHave(t, l, "c1") {
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
	if wins.Load() != 1 || !mustHave(t, l, "c1") {
		t.Fatalf("%d claims of one code succeeded, want 1", wins.Load())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), ledgerHeader+"\n") || strings.Contains(string(b), "c1 ") {
		t.Errorf("the ledger file lacks its header, or holds the code, not its mark: %q", b)
	}
	if ok, _ := l.claim("c2"); !ok {
		t.Fatal("a second code was refused")
	}
	if err := l.release("c2"); err != nil || mustHave(t, l, "c2") {
		t.Errorf("a released code is still held (%v)", err)
	}
	if err := os.WriteFile(path, append(b, []byte("not a ledger line\n")...), 0o600); err != nil {
		t.Fatal(err)
	}
	later := openCodeLedger(func() time.Time { return now.Add(codeLedgerTTL + time.Minute) })
	if !mustHave(t, l, "c1") || mustHave(t, later, "c1") {
		t.Error("a code is not held within the TTL, or still held after it")
	}

	t.Setenv(envCodeLedger, "off")
	if off := openCodeLedger(nil); off != nil {
		t.Error("CIAM_CODE_LEDGER=off still opens a ledger")
	}
	if ok, err := (*codeLedger)(nil).claim("c1"); !ok || err != nil {
		t.Error("no ledger refused a claim")
	}
}

// A path the ledger cannot use is an error, never a hang and never a file
// it rewrites: a file that is not a ledger, a directory, a FIFO, a path
// through a file, no cache directory at all.
func TestCodeLedgerRefusesWhatIsNotALedger(t *testing.T) {
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte("my notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{notes, dir, fifo, filepath.Join(notes, "sub", "ledger")} {
		t.Setenv(envCodeLedger, path)
		l := openCodeLedger(nil)
		if _, err := l.has("c1"); err == nil {
			t.Errorf("%s: has gave no error", path)
		}
		if _, err := l.claim("c1"); err == nil {
			t.Errorf("%s: claim gave no error", path)
		}
	}
	if b, _ := os.ReadFile(notes); string(b) != "my notes\n" {
		t.Errorf("a file that is not a ledger was rewritten: %q", b)
	}
	t.Setenv(envCodeLedger, "")
	t.Setenv("HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	if _, err := openCodeLedger(nil).claim("c1"); err == nil || !strings.Contains(err.Error(), envCodeLedger) {
		t.Errorf("no cache directory: %v", err)
	}
}

// CIAM_CODE_LEDGER is off in any case, or an absolute path: any other value
// ("false", "0", "none", " off", a relative path) would make a ledger file
// in each configuration's directory, where it may be committed, while the
// user thinks the record is off. It is refused, and says how to set it;
// nothing is written.
func TestCodeLedgerSetting(t *testing.T) {
	for _, off := range []string{"off", "OFF", "Off"} {
		t.Setenv(envCodeLedger, off)
		if l := openCodeLedger(nil); l != nil {
			t.Errorf("CIAM_CODE_LEDGER=%q still opens a ledger", off)
		}
	}
	t.Chdir(t.TempDir())
	for _, bad := range []string{"false", "0", "none", "disabled", " off", "off ", "ledger", "./sent-codes", "sub/sent-codes"} {
		t.Setenv(envCodeLedger, bad)
		_, err := openCodeLedger(nil).claim("c1")
		if err == nil || !strings.Contains(err.Error(), "absolute path") || !strings.Contains(err.Error(), "off") {
			t.Errorf("CIAM_CODE_LEDGER=%q: %v", bad, err)
		}
	}
	if entries, _ := os.ReadDir("."); len(entries) != 0 {
		t.Errorf("a relative CIAM_CODE_LEDGER wrote %d files in the working directory", len(entries))
	}
}

// The lock is the operating system's: a lock file left behind by a
// process that ended is no lock, and one held now makes a claim wait, then
// fail as busy.
func TestCodeLedgerLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sent-codes")
	t.Setenv(envCodeLedger, path)
	l := openCodeLedger(nil)
	if err := os.WriteFile(path+".lock", nil, 0o600); err != nil { // left behind
		t.Fatal(err)
	}
	if ok, err := l.claim("c1"); !ok || err != nil {
		t.Fatalf("a lock file nobody holds blocked a claim: %t %v", ok, err)
	}
	l.wait = 200 * time.Millisecond
	f, err := os.OpenFile(path+".lock", os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if ok, err := tryLock(f); !ok || err != nil {
		t.Fatalf("taking the lock: %t %v", ok, err)
	}
	// flock locks belong to the open file, so this process's second open
	// waits like another process.
	if _, err := l.claim("c2"); !errors.Is(err, errLedgerBusy) {
		t.Errorf("a claim under a held lock: %v, want busy", err)
	}
}

// Two provider configurations (two processes, each with its own memory)
// exchange one code: the ledger lets the first send it and refuses the
// second unsent, whatever their order of planning.
func TestTwoProvidersShareTheLedger(t *testing.T) {
	t.Setenv(envCodeLedger, filepath.Join(t.TempDir(), "sent-codes"))
	srv := localciam.StartTest(t, localciam.Options{})
	code, err := srv.IssueCode(localciam.AuthorizeRequest{ClientID: localciam.DemoClientID, RedirectURI: localciam.DemoRedirectURI, Scope: "openid"})
	if err != nil {
		t.Fatal(err)
	}
	base, err := ciam.ParseAuthDomain(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	client, err := ciam.New(ciam.Config{BaseURL: base})
	if err != nil {
		t.Fatal(err)
	}
	exchange := func() (string, bool, diag.Diagnostics) {
		r := &authorizationCodeTokenResource{data: &providerData{
			client: client, secrets: newSecretSet(), ledger: openCodeLedger(nil),
			app: credentialSource{id: localciam.DemoClientID, secret: localciam.DemoClientSecret, idAttr: "client_id", secretAttr: "client_secret"},
		}}
		m := authorizationCodeTokenModel{Code: types.StringValue(code), RedirectURI: types.StringValue(localciam.DemoRedirectURI)}
		var diags diag.Diagnostics
		_, _, refused, ok := r.exchange(context.Background(), &m, &diags)
		return refused, ok, diags
	}
	if _, ok, diags := exchange(); !ok {
		t.Fatalf("the first exchange failed: %v", diags)
	}
	refused, ok, diags := exchange()
	if ok || refused != lostCodeInLedger || !strings.Contains(diagText(diags), "from this machine") {
		t.Errorf("the second provider's exchange: ok %t, refused %q, %v", ok, refused, diags)
	}
	if n := srv.Presented(code); n != 1 {
		t.Errorf("the code reached the directory %d times, want 1", n)
	}
}

func diagText(diags diag.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(d.Summary() + ": " + d.Detail() + "\n")
	}
	return b.String()
}
