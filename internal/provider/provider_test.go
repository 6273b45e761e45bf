package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/echoprovider"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

var _ = resource.UnitTest
var _ = echoprovider.NewProviderServer
var _ testing.T
var _ = providerserver.NewProtocol6WithError
var _ tfprotov6.ProviderServer
