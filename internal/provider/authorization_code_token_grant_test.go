package provider

import (
	"fmt"
	"testing"
)

// SentCodes keeps the last maxSentCodes codes: a code recorded after them
// drops the oldest, and marks inherited from a replaced object leave room
// for the object's own code.
func TestSentCodesAreBounded(t *testing.T) {
	var g grantPrivate
	for i := range maxSentCodes + 5 {
		g.recordSent(fmt.Sprintf("code-%d", i))
	}
	if len(g.SentCodes) != maxSentCodes || g.sent("code-4") || !g.sent("code-5") || !g.sent(fmt.Sprintf("code-%d", maxSentCodes+4)) {
		t.Errorf("%d codes kept; code-4 kept %t, code-5 kept %t", len(g.SentCodes), g.sent("code-4"), g.sent("code-5"))
	}
	g.recordSent("code-10") // already there: nothing moves
	if len(g.SentCodes) != maxSentCodes || !g.sent("code-5") {
		t.Error("recording a code already kept dropped another")
	}

	var inherited []string
	for i := range 2 * maxSentCodes {
		inherited = append(inherited, renewalMark(fmt.Sprintf("old-%d", i)))
	}
	var n grantPrivate
	n.inheritSent(inherited)
	n.recordSent("own")
	if len(n.SentCodes) != maxSentCodes || !n.sent("own") || !n.sent("old-0") {
		t.Errorf("%d codes after inheriting; own kept %t, the first inherited kept %t", len(n.SentCodes), n.sent("own"), n.sent("old-0"))
	}
	if n.sent("") {
		t.Error("an empty code counts as sent")
	}
}
