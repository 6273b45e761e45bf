// Command local-ciam runs the local CIAM standalone on a loopback port, for
// trying the provider by hand:
//
//	go run ./internal/cmd/local-ciam -addr 127.0.0.1:8943
//
// It prints the auth_domain to use and the demo credentials, then serves
// until interrupted.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ciam-oss/terraform-provider-ciam/internal/localciam"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "loopback address to listen on (port 0 picks a free port)")
	latency := flag.Duration("latency", 0, "latency added to every response, e.g. 50ms")
	flag.Parse()

	srv, err := localciam.New(localciam.Options{Latency: *latency})
	if err != nil {
		fmt.Fprintln(os.Stderr, "local-ciam:", err)
		os.Exit(1)
	}
	if err := srv.Start(*addr); err != nil {
		fmt.Fprintln(os.Stderr, "local-ciam:", err)
		os.Exit(1)
	}
	fmt.Printf("local CIAM listening on %s\n\n", srv.URL())
	fmt.Printf("  export CIAM_AUTH_DOMAIN=%s\n", srv.URL())
	fmt.Printf("  export CIAM_CLIENT_ID=%s CIAM_CLIENT_SECRET='%s'\n", localciam.DemoClientID, localciam.DemoClientSecret)
	fmt.Printf("  export CIAM_SCIM_CLIENT_ID=%s CIAM_SCIM_CLIENT_SECRET='%s'\n\n", localciam.DemoSCIMClientID, localciam.DemoSCIMClientSecret)
	fmt.Println("These demo credentials exist only on this loopback server. Ctrl-C stops it.")

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	_ = srv.Close()
	fmt.Printf("served %d requests; stopped at %s\n", srv.Requests(""), time.Now().UTC().Format(time.RFC3339))
}
