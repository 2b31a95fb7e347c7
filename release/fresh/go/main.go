// Command fresh is release/verify.sh's Go application: it takes release/verify from
// the server at os.Args[1] and prints its fencing token.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	holdfast "github.com/holdfast-io/holdfast/clients/go"
)

func main() {
	ctx := context.Background()
	c, err := holdfast.New(ctx, holdfast.Config{Members: []string{os.Args[1]}, ClientName: "release-verify"})
	if err != nil {
		log.Fatalf("go: %v", err)
	}
	defer c.Close()
	lease, err := c.Lock(ctx, "release/verify", holdfast.Wait(30*time.Second))
	if err != nil {
		log.Fatalf("go: %v", err)
	}
	fmt.Printf("go: holding release/verify with fencing token %d\n", lease.FencingToken())
	if err := lease.Release(); err != nil {
		log.Fatalf("go: %v", err)
	}
}
