// Command conformance-driver is the Go client's driver for the conformance
// suite (clients/CONFORMANCE.md): it reads JSON commands, one per line, on
// standard input, performs each concurrently with the holdfast library, and
// writes one JSON line per answer, plus a line per lost lease and per event
// of a watch, on standard output. Logs go to standard error.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"sync"
	"time"

	holdfast "github.com/holdfast-io/holdfast/clients/go"
)

type command struct {
	ID              json.RawMessage `json:"id"`
	Op              string          `json:"op"`
	Client          string          `json:"client"`
	Members         []string        `json:"members"`
	TTLMillis       int64           `json:"ttlMillis"`
	ClientName      string          `json:"clientName"`
	RenewSessions   *bool           `json:"renewSessions"`
	SessionEvents   bool            `json:"sessionEvents"`
	Handle          string          `json:"handle"`
	Name            string          `json:"name"`
	Names           []string        `json:"names"`
	Mode            string          `json:"mode"`
	Permits         *int64          `json:"permits"`
	MaxPermits      *int64          `json:"maxPermits"`
	WaitMillis      int64           `json:"waitMillis"`
	LeaseMillis     int64           `json:"leaseMillis"`
	Owner           int64           `json:"owner"`
	Key             string          `json:"key"`
	ExpectedVersion *int64          `json:"expectedVersion"`
	Value           *string         `json:"value"`
	FenceHandle     string          `json:"fenceHandle"`
	Token           int64           `json:"token"`
	Watch           string          `json:"watch"`
	Lock            *string         `json:"lock"`
	Prefix          *string         `json:"prefix"`
	Register        *string         `json:"register"`
	Keys            *string         `json:"keys"`
	Attach          bool            `json:"attach"`
	KeyLease        *string         `json:"lease"`
	Delta           int64           `json:"delta"`
	After           string          `json:"after"`
	Limit           int             `json:"limit"`
	Group           string          `json:"group"`
	Member          string          `json:"member"`
	Compares        []txnPart       `json:"compares"`
	Then            []txnPart       `json:"then"`
	Otherwise       []txnPart       `json:"otherwise"`
}

// driver holds the clients and leases named by the suite.
type driver struct {
	outMu sync.Mutex
	out   *os.File

	mu          sync.Mutex
	clients     map[string]*holdfast.Client
	handles     map[string]holdfast.Leases
	leaderships map[string]*holdfast.Leadership
	watches     map[string]*holdfast.Watch
	wg          sync.WaitGroup
}

func main() {
	log.SetFlags(log.Lmicroseconds)
	log.SetPrefix("go-driver ")
	d := &driver{out: os.Stdout, clients: map[string]*holdfast.Client{}, handles: map[string]holdfast.Leases{},
		leaderships: map[string]*holdfast.Leadership{}, watches: map[string]*holdfast.Watch{}}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64*1024), 16*1024*1024)
	for in.Scan() {
		line := in.Bytes()
		if len(trimSpace(line)) == 0 {
			continue
		}
		var cmd command
		if err := json.Unmarshal(line, &cmd); err != nil {
			d.write(map[string]any{"id": nil, "ok": false, "error": holdfast.CodeInvalidArgument,
				"message": "cannot read the command: " + err.Error()})
			continue
		}
		if cmd.Op == "exit" {
			d.shutdown()
			d.answer(cmd, map[string]any{})
			os.Exit(0)
		}
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.run(cmd)
		}()
	}
	if err := in.Err(); err != nil {
		log.Printf("reading stdin: %v", err)
	}
	d.shutdown()
	os.Exit(0)
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	return b
}

// write prints one line and flushes it (os.Stdout is unbuffered), atomically.
func (d *driver) write(v map[string]any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf) // one line, ending in a newline
	enc.SetEscapeHTML(false)
	var b []byte
	if err := enc.Encode(v); err != nil {
		b = []byte(`{"id":null,"ok":false,"error":"INVALID_ARGUMENT","message":"cannot encode the answer"}` + "\n")
	} else {
		b = buf.Bytes()
	}
	d.outMu.Lock()
	defer d.outMu.Unlock()
	if _, err := d.out.Write(b); err != nil {
		log.Printf("writing stdout: %v", err)
	}
}

func (d *driver) answer(cmd command, fields map[string]any) {
	fields["id"] = idOf(cmd)
	fields["ok"] = true
	d.write(fields)
}

func (d *driver) fail(cmd command, err error) {
	code := holdfast.CodeUnavailable
	var he *holdfast.Error
	if errors.As(err, &he) {
		code = he.Code
	}
	d.write(map[string]any{"id": idOf(cmd), "ok": false, "error": code, "message": err.Error()})
}

func idOf(cmd command) any {
	if len(cmd.ID) == 0 {
		return nil
	}
	return cmd.ID
}

func invalid(format string, args ...any) error {
	return &holdfast.Error{Code: holdfast.CodeInvalidArgument, Message: fmt.Sprintf(format, args...)}
}

// take removes the entry key from one of the driver's tables and returns it
// (nil if there was none).
func take[V any](d *driver, table map[string]*V, key string) *V {
	d.mu.Lock()
	defer d.mu.Unlock()
	v := table[key]
	delete(table, key)
	return v
}

// done answers a command whose only result is whether it succeeded.
func done(err error) (map[string]any, error) {
	if err != nil {
		return nil, err
	}
	return map[string]any{}, nil
}

func (d *driver) run(cmd command) {
	fields, err := d.perform(cmd)
	if err != nil {
		d.fail(cmd, err)
		return
	}
	d.answer(cmd, fields)
}

func (d *driver) client(name string) (*holdfast.Client, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.clients[name]
	if c == nil {
		return nil, invalid("no client %q is open", name)
	}
	return c, nil
}

func (d *driver) perform(cmd command) (map[string]any, error) {
	ctx := context.Background()
	switch cmd.Op {
	case "open":
		cfg := holdfast.Config{
			Members:    cmd.Members,
			SessionTTL: time.Duration(cmd.TTLMillis) * time.Millisecond,
			ClientName: cmd.ClientName,
			Logf: func(format string, args ...any) {
				log.Printf("["+cmd.Client+"] "+format, args...)
			},
		}
		if cmd.RenewSessions != nil {
			cfg.RenewSessions = holdfast.Bool(*cmd.RenewSessions)
		}
		c, err := holdfast.New(ctx, cfg)
		if err != nil {
			return nil, err
		}
		if cmd.SessionEvents {
			name := cmd.Client
			c.OnSession(holdfast.SessionFuncs{
				OnLost: func(oldID string, cause error) {
					d.write(map[string]any{"event": "session", "client": name, "type": "lost", "sessionId": oldID, "cause": cause.Error()})
				},
				OnReestablished: func(newID string) {
					d.write(map[string]any{"event": "session", "client": name, "type": "reestablished", "sessionId": newID})
				},
			})
		}
		d.mu.Lock()
		old := d.clients[cmd.Client]
		d.clients[cmd.Client] = c
		d.mu.Unlock()
		if old != nil {
			go old.Close()
		}
		return map[string]any{"sessionId": c.SessionID()}, nil

	case "acquire", "acquireAll":
		c, err := d.client(cmd.Client)
		if err != nil {
			return nil, err
		}
		handle := cmd.Handle
		opts := []holdfast.LockOption{
			holdfast.Wait(time.Duration(cmd.WaitMillis) * time.Millisecond),
			holdfast.LeaseTimeout(time.Duration(cmd.LeaseMillis) * time.Millisecond),
			holdfast.Owner(cmd.Owner),
			holdfast.OnLost(func(l *holdfast.Lease, reason holdfast.LossReason) {
				d.write(map[string]any{"event": "lost", "handle": handle, "token": l.FencingToken(), "reason": string(reason)})
			}),
		}
		switch cmd.Mode {
		case "", "exclusive":
		case "shared":
			opts = append(opts, holdfast.Shared())
		case "permits":
			permits, max := int64(1), int64(1)
			if cmd.Permits != nil {
				permits = *cmd.Permits
			}
			if cmd.MaxPermits != nil {
				max = *cmd.MaxPermits
			}
			opts = append(opts, holdfast.Semaphore(int(permits), int(max)))
		default:
			return nil, invalid("mode is exclusive, shared or permits, not %q", cmd.Mode)
		}
		if cmd.Op == "acquire" {
			l, err := c.Lock(ctx, cmd.Name, opts...)
			if err != nil {
				return nil, err
			}
			d.setHandle(handle, holdfast.Leases{l})
			return map[string]any{"token": l.FencingToken()}, nil
		}
		ls, err := c.LockAll(ctx, cmd.Names, opts...)
		if err != nil {
			return nil, err
		}
		d.setHandle(handle, ls)
		return map[string]any{"tokens": ls.Tokens()}, nil

	case "release":
		ls, ok := d.handle(cmd.Handle)
		if !ok {
			return nil, invalid("no lease %q", cmd.Handle)
		}
		return done(ls.Release())

	case "isValid":
		ls, _ := d.handle(cmd.Handle)
		return map[string]any{"valid": ls.Valid()}, nil

	case "registerGet":
		c, err := d.client(cmd.Client)
		if err != nil {
			return nil, err
		}
		version, value, err := c.Register(cmd.Key).Get(ctx)
		if err != nil {
			return nil, err
		}
		var v any
		if version != 0 || value != nil {
			v = string(value)
		}
		return map[string]any{"version": version, "value": v}, nil

	case "registerSet":
		c, err := d.client(cmd.Client)
		if err != nil {
			return nil, err
		}
		var opts []holdfast.SetOption
		if cmd.FenceHandle != "" {
			ls, ok := d.handle(cmd.FenceHandle)
			if !ok || len(ls) == 0 {
				return nil, invalid("no lease %q to fence with", cmd.FenceHandle)
			}
			opts = append(opts, holdfast.FencedBy(ls[0]))
		}
		value := ""
		if cmd.Value != nil {
			value = *cmd.Value
		}
		version, err := c.Register(cmd.Key).CompareAndSet(ctx, expected(cmd.ExpectedVersion, 0), []byte(value), opts...)
		if err != nil {
			return nil, err
		}
		return map[string]any{"version": version}, nil

	case "fenceCheck":
		c, err := d.client(cmd.Client)
		if err != nil {
			return nil, err
		}
		current, err := c.IsCurrent(ctx, cmd.Name, cmd.Token)
		if err != nil {
			return nil, err
		}
		return map[string]any{"current": current}, nil

	case "watch":
		return d.watch(cmd)

	case "unwatch":
		w := take(d, d.watches, cmd.Watch)
		if w == nil {
			return nil, invalid("no watch %q", cmd.Watch)
		}
		w.Close()
		return map[string]any{}, nil

	case "campaign":
		c, err := d.client(cmd.Client)
		if err != nil {
			return nil, err
		}
		handle := cmd.Handle
		value := ""
		if cmd.Value != nil {
			value = *cmd.Value
		}
		l, err := c.Election(cmd.Name).Campaign(ctx, value,
			holdfast.Wait(time.Duration(cmd.WaitMillis)*time.Millisecond),
			holdfast.LeaseTimeout(time.Duration(cmd.LeaseMillis)*time.Millisecond),
			holdfast.OnLost(func(l *holdfast.Lease, reason holdfast.LossReason) {
				d.write(map[string]any{"event": "lost", "handle": handle, "token": l.FencingToken(), "reason": string(reason)})
			}))
		if err != nil {
			return nil, err
		}
		d.mu.Lock()
		d.handles[handle] = holdfast.Leases{l.Lease()}
		d.leaderships[handle] = l
		d.mu.Unlock()
		return map[string]any{"epoch": l.Epoch()}, nil

	case "resign":
		d.mu.Lock()
		l := d.leaderships[cmd.Handle]
		d.mu.Unlock()
		if l == nil {
			return nil, invalid("no leadership %q", cmd.Handle)
		}
		return done(l.Resign())

	case "leader":
		c, err := d.client(cmd.Client)
		if err != nil {
			return nil, err
		}
		l, err := c.Election(cmd.Name).Leader(ctx)
		if err != nil {
			return nil, err
		}
		if l == nil {
			return map[string]any{"epoch": 0, "value": nil}, nil
		}
		var value any
		if l.Proclaimed {
			value = l.Value
		}
		return map[string]any{"epoch": l.Epoch, "value": value}, nil

	case "close":
		c := take(d, d.clients, cmd.Client)
		if c == nil {
			return nil, invalid("no client %q is open", cmd.Client)
		}
		return done(c.Close())

	case "keyGet", "keyPut", "keyDelete", "keyAdd", "keyList", "keyDeletePrefix", "txn", "groupJoin", "groupLeave":
		c, err := d.client(cmd.Client)
		if err != nil {
			return nil, err
		}
		return d.keyOp(ctx, c, cmd)
	}
	return nil, invalid("unknown op %q", cmd.Op)
}

// watch starts a watch, writes its state line, answers, and then writes a
// line per event until the watch ends.
func (d *driver) watch(cmd command) (map[string]any, error) {
	c, err := d.client(cmd.Client)
	if err != nil {
		return nil, err
	}
	var targets []holdfast.WatchTarget
	if cmd.Lock != nil {
		targets = append(targets, holdfast.WatchLock(*cmd.Lock))
	}
	if cmd.Prefix != nil {
		targets = append(targets, holdfast.WatchPrefix(*cmd.Prefix))
	}
	if cmd.Register != nil {
		targets = append(targets, holdfast.WatchRegister(*cmd.Register))
	}
	if cmd.Keys != nil {
		targets = append(targets, holdfast.WatchKeys(*cmd.Keys))
	}
	if len(targets) != 1 {
		return nil, invalid("a watch names exactly one of lock, prefix, register, keys")
	}
	w, err := c.Watch(context.Background(), targets[0])
	if err != nil {
		return nil, err
	}
	select {
	case first, ok := <-w.Events():
		if !ok {
			if err := w.Err(); err != nil {
				return nil, err
			}
			return nil, invalid("the watch ended before its state")
		}
		d.write(watchLine(cmd.Watch, w, first))
	case <-time.After(30 * time.Second):
		w.Close()
		return nil, &holdfast.Error{Code: holdfast.CodeUnavailable, Message: "the watch told no state within 30 s"}
	}
	d.mu.Lock()
	if old := d.watches[cmd.Watch]; old != nil {
		old.Close()
	}
	d.watches[cmd.Watch] = w
	d.mu.Unlock()
	go func() {
		for ev := range w.Events() {
			d.write(watchLine(cmd.Watch, w, ev))
		}
		if err := w.Err(); err != nil {
			code := holdfast.CodeUnavailable
			var he *holdfast.Error
			if errors.As(err, &he) {
				code = he.Code
			}
			d.write(map[string]any{"event": "watchEnded", "watch": cmd.Watch, "error": code, "message": err.Error()})
		}
	}()
	return map[string]any{}, nil
}

func watchLine(name string, w *holdfast.Watch, e holdfast.WatchEvent) map[string]any {
	line := map[string]any{"event": "watch", "watch": name, "type": string(e.Type), "name": e.Name, "position": e.Position}
	if e.SessionID != "" {
		line["sessionId"] = e.SessionID
	}
	if e.Token != 0 {
		line["token"] = e.Token
	}
	if e.Mode != "" {
		line["mode"] = e.Mode
	}
	if e.Cause != "" {
		line["cause"] = e.Cause
	}
	switch {
	case e.Type == holdfast.WatchRegisterSet || (e.Type == holdfast.WatchState && w.Target().Kind() == "register"):
		line["version"] = e.Version
		if e.Value != nil {
			line["value"] = string(e.Value)
		} else {
			line["value"] = nil
		}
	case e.Type == holdfast.WatchRegisterDeleted:
		line["version"] = e.Version
	case e.Type == holdfast.WatchState && w.Target().Kind() == "keys":
		line["keys"] = keyLines(e.Keys)
	case e.Type == holdfast.WatchState:
		locks := []any{}
		for _, l := range e.Locks {
			holders := []int64{}
			for _, h := range l.Holders {
				holders = append(holders, h.Token)
			}
			locks = append(locks, map[string]any{"name": l.Name, "holders": holders, "waiters": len(l.Waiters)})
		}
		line["locks"] = locks
	}
	return line
}

func (d *driver) setHandle(h string, ls holdfast.Leases) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.handles[h] = ls
}

func (d *driver) handle(h string) (holdfast.Leases, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ls, ok := d.handles[h]
	return ls, ok
}

// shutdown closes every client (which ends their calls in flight) and lets
// the commands in flight answer, for at most a few seconds.
func (d *driver) shutdown() {
	d.closeAll()
	done := make(chan struct{})
	go func() {
		d.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		log.Printf("exiting with commands still in flight")
	}
}

// closeAll closes every client at once.
func (d *driver) closeAll() {
	d.mu.Lock()
	clients := d.clients
	d.clients = map[string]*holdfast.Client{}
	for _, w := range d.watches {
		w.Close()
	}
	d.watches = map[string]*holdfast.Watch{}
	d.mu.Unlock()
	var wg sync.WaitGroup
	for name, c := range clients {
		wg.Add(1)
		go func(name string, c *holdfast.Client) {
			defer wg.Done()
			if err := c.Close(); err != nil {
				log.Printf("closing %s: %v", name, err)
			}
		}(name, c)
	}
	wg.Wait()
}
