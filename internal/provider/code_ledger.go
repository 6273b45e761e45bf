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
// (CIAM_CODE_LEDGER=off, a read-only home, a file that is not a ledger) the
// provider works as before, with a warning, and another machine's ledger
// is not this one's.
type codeLedger struct {
	path string
	now  func() time.Time
	// err says why there is no usable ledger (no cache directory).
	err error
	// wait is how long a claim waits for another process's lock.
	wait time.Duration
}

// errLedgerBusy is a lock that another process held for longer than any
// ledger update takes: an exchange then sends nothing (the code stays
// good), rather than send a code the other process may be sending.
var errLedgerBusy = errors.New("another process held its lock for longer than any update takes")

// envCodeLedger overrides the ledger's path, which must be absolute; "off"
// (in any case) disables it.
const envCodeLedger = "CIAM_CODE_LEDGER"

// codeLedgerTTL is how long a code is remembered: codes live minutes.
const codeLedgerTTL = 7 * 24 * time.Hour

// openCodeLedger returns the ledger at CIAM_CODE_LEDGER, or in the user's
// cache directory; nil when it is off or there is no such directory.
func openCodeLedger(now func() time.Time) *codeLedger {
	path := os.Getenv(envCodeLedger)
	switch {
	case strings.EqualFold(path, "off"):
		return nil
	case path != "" && !filepath.IsAbs(path):
		// "false", "0", " off" or a relative path would be a ledger file
		// in each configuration's directory (Terraform runs the provider
		// there), where it may be committed, while the user thinks it off.
		return &codeLedger{err: fmt.Errorf("%s is %q, which is neither off nor an absolute path: set it to an absolute file path, or to off", envCodeLedger, path)}
	case path == "":
		dir, err := os.UserCacheDir()
		if err != nil {
			return &codeLedger{err: fmt.Errorf("no user cache directory for it (%w): set %s to an absolute path, or to off", err, envCodeLedger)}
		}
		path = filepath.Join(dir, "terraform-provider-ciam", "sent-codes")
	}
	if now == nil {
		now = time.Now
	}
	return &codeLedger{path: path, now: now, wait: 10 * time.Second}
}

// has reports whether the ledger holds code; an error when it cannot tell.
func (l *codeLedger) has(code string) (bool, error) {
	if l == nil || code == "" {
		return false, nil
	}
	if l.err != nil {
		return false, l.err
	}
	var ok bool
	err := l.locked(func() error {
		entries, err := l.load()
		_, ok = entries[renewalMark(code)]
		return err
	})
	return ok, err
}

// claim records code and reports whether it was not recorded yet; an error
// when it cannot tell (the caller decides what to send then).
func (l *codeLedger) claim(code string) (ok bool, err error) {
	if l == nil {
		return true, nil
	}
	if l.err != nil {
		return false, l.err
	}
	err = l.update(func(marks map[string]time.Time) {
		mark := renewalMark(code)
		if _, taken := marks[mark]; taken {
			return
		}
		marks[mark], ok = l.now(), true
	})
	return ok, err
}

// release forgets a code that claim recorded: its exchange never went out.
func (l *codeLedger) release(code string) error {
	switch {
	case l == nil:
		return nil
	case l.err != nil:
		return l.err // claim recorded nothing
	}
	return l.update(func(marks map[string]time.Time) { delete(marks, renewalMark(code)) })
}

// load returns the marks recorded within codeLedgerTTL, with their times.
func (l *codeLedger) load() (map[string]time.Time, error) {
	fi, err := os.Lstat(l.path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]time.Time{}, nil
	}
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		// Not one this ledger wrote: a directory, a link (a rename would
		// replace it), a FIFO (opening it would wait for a writer).
		return nil, fmt.Errorf("%s is not a regular file: set %s to another path", l.path, envCodeLedger)
	}
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	entries := map[string]time.Time{}
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return entries, sc.Err() // empty
	}
	if sc.Text() != ledgerHeader {
		return nil, fmt.Errorf("%s is not a code ledger (its first line is not the ledger's): set %s to another path", l.path, envCodeLedger)
	}
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

// ledgerHeader is the first line of a ledger file: a file without it is
// not one, and is never rewritten.
const ledgerHeader = "# terraform-provider-ciam: fingerprints of authorization codes sent (see CIAM_CODE_LEDGER)"

// update changes the ledger under its lock and writes it back whole
// (dropping expired marks), through a temporary file and a rename.
func (l *codeLedger) update(change func(map[string]time.Time)) error {
	return l.locked(func() error {
		entries, err := l.load()
		if err != nil {
			return err
		}
		change(entries)
		var b strings.Builder
		b.WriteString(ledgerHeader + "\n")
		for mark, at := range entries {
			fmt.Fprintf(&b, "%s %d\n", mark, at.Unix())
		}
		tmp, err := os.CreateTemp(filepath.Dir(l.path), filepath.Base(l.path)+".*.tmp")
		if err != nil {
			return err
		}
		defer os.Remove(tmp.Name()) // gone after the rename
		if _, err := tmp.WriteString(b.String()); err != nil {
			tmp.Close()
			return err
		}
		if err := tmp.Close(); err != nil {
			return err
		}
		return renameOver(tmp.Name(), l.path)
	})
}

// locked runs do holding the ledger's lock: an operating-system lock on
// path+".lock", which the system drops when the holder ends, so that no
// lock is ever stale. It waits up to l.wait (10 s) for another process.
func (l *codeLedger) locked(do func() error) error {
	if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(l.path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	for deadline := time.Now().Add(l.wait); ; time.Sleep(20 * time.Millisecond) {
		ok, err := tryLock(f)
		if err != nil {
			return err
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %w", l.path, errLedgerBusy)
		}
	}
	defer func() { _ = unlockFile(f) }()
	return do()
}

// renameOver renames from to to, replacing it, and retries for a moment:
// on Windows a file that another program (a virus scanner) holds open
// cannot be replaced.
func renameOver(from, to string) error {
	var err error
	for range 10 {
		if err = os.Rename(from, to); err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}
