// Command terraform-provider-ciam is the Terraform provider for Tencent CIAM
// tokens.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	// First: Ctrl-C is ignored from here on (see the package).
	_ "github.com/ciam-oss/terraform-provider-ciam/internal/ctrlc"
	"github.com/ciam-oss/terraform-provider-ciam/internal/provider"
)

// version is set at build time by goreleaser and the GNUmakefile:
// -ldflags "-X main.version=1.2.3".
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/ciam-oss/ciam",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}
