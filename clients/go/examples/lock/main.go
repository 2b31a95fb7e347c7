// Command lock is the README's example: it takes a lock, writes a register
// fenced by the lease, reads it back and lets go. It expects
// `./holdfast server` on localhost (HTTP port 4655); HOLDFAST_MEMBERS
// overrides the addresses (comma-separated).
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
	members := os.Getenv("HOLDFAST_MEMBERS")
	if members == "" {
		members = "http://127.0.0.1:4655"
	}
	ctx := context.Background()
	c, err := holdfast.New(ctx, holdfast.Config{Members: []string{members}, ClientName: "example"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	lease, err := c.Lock(ctx, "examples/nightly", holdfast.Wait(10*time.Second),
		holdfast.OnLost(func(l *holdfast.Lease, reason holdfast.LossReason) {
			log.Printf("lost %s: %s", l.Name(), reason)
		}))
	if err != nil {
		log.Fatal(err)
	}
	defer lease.Release()
	fmt.Printf("holding %s with fencing token %d\n", lease.Name(), lease.FencingToken())

	// Write a register only while the lease is current (checked by the cluster).
	reg := c.Register("examples/last-run")
	version, _, err := reg.Get(ctx)
	if err != nil {
		log.Fatal(err)
	}
	stamp := time.Now().UTC().Format(time.RFC3339)
	version, err = reg.CompareAndSet(ctx, version, []byte(stamp), holdfast.FencedBy(lease))
	if err != nil {
		log.Fatal(err) // errors.Is(err, holdfast.ErrConflict): someone wrote first
	}
	_, value, err := reg.Get(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("examples/last-run is at version %d: %s\n", version, value)
}
