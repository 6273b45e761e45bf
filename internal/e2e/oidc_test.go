package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

// 100 identical blocks of ciam_openid_configuration and of ciam_jwks cost one
// request each per plan: the documents hold no secret and are shared.
func TestE2E_oidcDocumentsAreFetchedOncePerPlan(t *testing.T) {
	srv := startCIAM(t)
	var b strings.Builder
	b.WriteString(header + fmt.Sprintf("provider \"ciam\" {\n  auth_domain = %q\n}\n", srv.URL()))
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&b, "data \"ciam_openid_configuration\" \"c%d\" {}\ndata \"ciam_jwks\" \"k%d\" {}\n", i, i)
	}
	b.WriteString("output \"kid\" {\n  value = data.ciam_jwks.k99.keys[0].kid\n}\n")
	tf := workspace(t, b.String())
	res, err := tf.Run(context.Background(), "plan", "-input=false", "-no-color")
	if err != nil {
		t.Fatal(err)
	}
	if d, j := srv.Requests(localciam.DiscoveryPath), srv.Requests(localciam.JWKSPath); d != 1 || j != 1 {
		t.Errorf("one plan with 100 blocks of each: %d discovery and %d JWKS requests, want 1 and 1", d, j)
	}
	if !strings.Contains(res.Stdout, "kid") {
		t.Errorf("plan output:\n%s", res.Stdout)
	}
}
