// Command service-registry registers an instance under the session, lists
// and watches the group, and prints joins and leaves (docs/service-discovery.md;
// the same program is in Python, Node and Java).
//
//	go build -o /tmp/service-registry ./examples/service-registry
//	/tmp/service-registry SERVICE [INSTANCE ADDRESS]
//
// Built, not run with `go run`: a signal to `go run` (kill, a supervisor's
// stop) does not reach the program it compiled, which then stays registered.
//
// With INSTANCE and ADDRESS it registers services/SERVICE/INSTANCE = ADDRESS,
// attached to its session, so the entry goes when the process dies (after the
// session's TTL: HOLDFAST_TTL_MS, default 10000). It prints "member I A" per
// instance listed, "ready", then "join I A" and "leave I CAUSE" as the group
// changes, until killed. HOLDFAST_MEMBERS: the servers' HTTP addresses.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	holdfast "github.com/holdfast-io/holdfast/clients/go"
)

func main() {
	args := os.Args[1:]
	if len(args) != 1 && len(args) != 3 {
		log.Fatal("usage: service-registry SERVICE [INSTANCE ADDRESS]")
	}
	members := os.Getenv("HOLDFAST_MEMBERS")
	if members == "" {
		members = "http://127.0.0.1:4655"
	}
	ttl, err := strconv.Atoi(os.Getenv("HOLDFAST_TTL_MS"))
	if err != nil {
		ttl = 10000
	}
	ctx := context.Background()
	c, err := holdfast.New(ctx, holdfast.Config{Members: strings.Split(members, ","), ClientName: "service-registry",
		SessionTTL: time.Duration(ttl) * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	group := c.Keys().Group("services/" + args[0]) // keys services/SERVICE/<instance>
	if len(args) == 3 {
		if _, err := group.Join(ctx, args[1], []byte(args[2])); err != nil { // attached: gone with the session
			log.Fatal(err)
		}
	}
	listed, err := group.Members(ctx) // the listing
	if err != nil {
		log.Fatal(err)
	}
	known := map[string]string{}
	for _, instance := range sortedKeys(listed) {
		known[instance] = string(listed[instance])
		fmt.Println("member", instance, known[instance])
	}
	fmt.Println("ready")
	w, err := group.Watch(ctx) // state, then every change
	if err != nil {
		log.Fatal(err)
	}
	for ev := range w.Events() {
		instance := group.Member(ev.Name)
		switch ev.Type {
		case holdfast.WatchState: // first, and after a gap
			now := map[string][]byte{}
			for _, k := range ev.Keys {
				now[group.Member(k.Key)] = k.Value
			}
			for _, gone := range sortedKeys(known) {
				if _, ok := now[gone]; !ok {
					fmt.Println("leave", gone, "unknown")
					delete(known, gone)
				}
			}
			for _, added := range sortedKeys(now) {
				if _, ok := known[added]; !ok {
					known[added] = string(now[added])
					fmt.Println("join", added, known[added])
				}
			}
		case holdfast.WatchRegisterSet:
			if _, ok := known[instance]; !ok {
				known[instance] = string(ev.Value)
				fmt.Println("join", instance, known[instance])
			}
		case holdfast.WatchRegisterDeleted:
			if _, ok := known[instance]; ok {
				delete(known, instance)
				cause := ev.Cause
				if cause == "" {
					cause = "deleted"
				}
				fmt.Println("leave", instance, cause)
			}
		}
	}
	log.Fatal(w.Err())
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
