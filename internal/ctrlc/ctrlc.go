// Package ctrlc makes the provider's process ignore Ctrl-C (SIGINT) from
// the moment its packages are initialized. Import it for its side effect,
// first, from main.
//
// A Ctrl-C in a terminal reaches Terraform and the providers it started
// alike (one process group). Terraform stops its providers itself, over
// RPC, and go-plugin's Serve ignores SIGINT, but only once it has started
// (after it makes its TLS certificate), so a Ctrl-C in the first moments of
// a provider process killed it before its handshake, and Terraform reported
// "Unrecognized remote plugin message" with notes about architectures.
// Ignoring it in this package's init, which has no dependencies but
// os/signal and so runs before those of the heavy packages (gRPC,
// protobuf, the framework), leaves only the start of the Go runtime
// itself. With -debug the provider still stops on Ctrl-C: the debug server
// asks for SIGINT again (signal.Notify undoes Ignore).
package ctrlc

import (
	"os"
	"os/signal"
)

func init() {
	signal.Ignore(os.Interrupt)
}
