package provider

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// codeLedger is this machine's record of the authorization codes that the
// provider sent to a directory: their renewalMarks (a truncated SHA-256,
// never a code), one per line with the time it was recorded. A resource's
// private state remembers its own codes (grantPrivate.SentCodes), and a
// run's memory the codes of the states it read or destroyed; neither
// survives a destroy, nor reaches another provider configuration (an alias
// is another process), nor a plan with -refresh=false. The ledger does, on
// one machine: ModifyPlan refuses a code it holds, and the exchange claims
// a code in it before sending, under a lock, so that two processes never
// both send one. A code whose exchange never went out is released.
//
// It is a safety net, not the rule's only keeper: without a usable file
// (CIAM_CODE_LEDGER=off, a read-only home) the provider works as before,
// and another machine's ledger is not this one's.
type codeLedger struct {
	path string
	now  func() time.Time
}

// envCodeLedger overrides the ledger's path; "off" disables it.
const envCodeLedger = "CIAM_CODE_LEDGER"

// codeLedgerTTL is how long a code is remembered: codes live minutes.
const codeLedgerTTL = 7 * 24 * time.Hour

// openCodeLedger returns the ledger at CIAM_CODE_LEDGER, or in the user's
// cache directory; nil when it is off or there is no such directory.
func openCodeLedger(now func() time.Time) *codeLedger {
	path := os.Getenv(envCodeLedger)
	switch path {
	case "off":
		return nil
	case "":
		dir, err := os.UserCacheDir()
		if err != nil {
			return nil
		}
		path = filepath.Join(dir, "terraform-provider-ciam", "sent-codes")
	}
	if now == nil {
		now = time.Now
	}
	return &codeLedger{path: path, now: now}
}

// has reports whether the ledger holds code. A ledger it cannot read holds
// nothing.
func (l *codeLedger) has(code string) bool {
	if l == nil || code == "" {
		return false
	}
	entries, err := l.load()
	_, ok := entries[renewalMark(code)]
	return err == nil && ok
}

// claim records code and reports whether it was not recorded yet. A ledger
// it cannot use claims nothing and refuses nothing (ok true, with err).
func (l *codeLedger) claim(code string) (ok bool, err error) {
	if l == nil {
		return true, nil
	}
	err = l.update(func(marks map[string]time.Time) {
		mark := renewalMark(code)
		if _, taken := marks[mark]; taken {
			ok = false
			return
		}
		marks[mark], ok = l.now(), true
	})
	if err != nil {
		return true, err
	}
	return ok, nil
}

// release forgets code: its exchange never went out.
func (l *codeLedger) release(code string) error {
	if l == nil {
		return nil
	}
	return l.update(func(marks map[string]time.Time) { delete(marks, renewalMark(code)) })
}

// load returns the marks recorded within codeLedgerTTL, with their times.
func (l *codeLedger) load() (map[string]time.Time, error) {
	f, err := os.Open(l.path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]time.Time{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries := map[string]time.Time{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		mark, at, ok := strings.Cut(sc.Text(), " ")
		sec, err := strconv.ParseInt(at, 10, 64)
		if !ok || err != nil || len(mark) != 32 {
			continue // not a line this ledger wrote
		}
		if t := time.Unix(sec, 0); l.now().Sub(t) < codeLedgerTTL {
			entries[mark] = t
		}
	}
	return entries, sc.Err()
}

// update changes the ledger under its lock and writes it back whole
// (dropping expired marks), through a temporary file and a rename.
func (l *codeLedger) update(change func(map[string]time.Time)) error {
	if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
		return err
	}
	unlock, err := lockFile(l.path + ".lock")
	if err != nil {
		return err
	}
	defer unlock()
	entries, err := l.load()
	if err != nil {
		return err
	}
	change(entries)
	var b strings.Builder
	for mark, at := range entries {
		fmt.Fprintf(&b, "%s %d\n", mark, at.Unix())
	}
	tmp := l.path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, l.path)
}

// lockFile takes an exclusive lock by creating path, waiting up to 10 s for
// another process to drop it. A lock older than a minute is a crashed
// holder's, and is taken over. It works alike on every platform the
// provider is built for.
func lockFile(path string) (unlock func(), err error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			f.Close()
			return func() { _ = os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		if fi, serr := os.Stat(path); serr == nil && time.Since(fi.ModTime()) > time.Minute {
			_ = os.Remove(path)
			continue
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the code ledger %s is locked by another process", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
