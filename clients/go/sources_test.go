package holdfast

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Time and goroutines come from the client's Clock and spawner only: no file
// of the library but clock.go reads the system clock or waits on it, and none
// but background.go has a go statement (as the Java build's ArchitectureTest
// holds the recipes and watches to theirs). The check reads the sources with
// go/parser, imports resolved. Left out: the _test.go files, and cmd/ and
// examples/, programs that use the client.

// clockHome and goHome are the one file that may do each.
const (
	clockHome = "clock.go"
	goHome    = "background.go"
)

// systemClockReads lists, by package path, what reads the system clock or waits on it.
var systemClockReads = map[string][]string{
	"time":    {"Now", "Since", "Until", "After", "AfterFunc", "NewTimer", "NewTicker", "Tick", "Sleep"},
	"context": {"WithTimeout", "WithDeadline", "WithTimeoutCause", "WithDeadlineCause"},
}

// findings lists each use in src of what only clock.go and background.go
// may do, as "file:line what".
func findings(t *testing.T, file, src string) []string {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, 0)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	imported := map[string]string{} // the name a file uses -> the package's path
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		name := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		imported[name] = path
	}
	base := filepath.Base(file)
	var found []string
	report := func(n ast.Node, what string) {
		found = append(found, fmt.Sprintf("%s:%d %s", base, fset.Position(n.Pos()).Line, what))
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			if base != goHome {
				report(n, "a go statement")
			}
		case *ast.SelectorExpr:
			id, ok := n.X.(*ast.Ident)
			if !ok || base == clockHome {
				return true
			}
			path, ok := imported[id.Name]
			if !ok {
				return true
			}
			for _, name := range systemClockReads[path] {
				if n.Sel.Name == name {
					report(n, path+"."+name)
				}
			}
		}
		return true
	})
	return found
}

func librarySources(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		out[file] = string(b)
	}
	return out
}

func TestOnlyTheClockReadsTimeAndOnlyTheSpawnerStartsGoroutines(t *testing.T) {
	sources := librarySources(t)
	for _, must := range []string{"client.go", clockHome, goHome} {
		if _, ok := sources[must]; !ok {
			t.Fatalf("no %s among %d files", must, len(sources))
		}
	}
	var found []string
	for file, src := range sources {
		found = append(found, findings(t, file, src)...)
	}
	sort.Strings(found)
	if len(found) > 0 {
		t.Errorf("read time through the client's Clock (c.tr.clock) and start goroutines through its spawner (c.tr.spawn):\n%s",
			strings.Join(found, "\n"))
	}
}

func TestTheCheckSeesTheClocksAndTheSpawnersOwnUses(t *testing.T) {
	sources := librarySources(t)
	clock := strings.Join(findings(t, "elsewhere.go", sources[clockHome]), "\n")
	for _, what := range []string{"time.Now", "time.NewTimer", "context.WithTimeout"} {
		if !strings.Contains(clock, what) {
			t.Errorf("%s of clock.go not seen: %s", what, clock)
		}
	}
	if spawn := findings(t, "elsewhere.go", sources[goHome]); len(spawn) != 1 || !strings.HasSuffix(spawn[0], "a go statement") {
		t.Errorf("the go statement of background.go not seen: %v", spawn)
	}
}

func TestEachWayOfBreakingTheRuleIsCaught(t *testing.T) {
	planted := map[string]string{
		`import "time"; var x = time.Now()`:                                           "time.Now",
		`import t "time"; func f() { t.Sleep(1) }`:                                    "time.Sleep",
		`import "time"; func f() { <-time.After(1) }`:                                 "time.After",
		`import "time"; var x = time.Since(time.Time{})`:                              "time.Since",
		`import "time"; var x = time.NewTimer(1)`:                                     "time.NewTimer",
		`import "time"; var x = time.NewTicker(1)`:                                    "time.NewTicker",
		`import "time"; var x = time.AfterFunc(1, nil)`:                               "time.AfterFunc",
		`import "context"; func f() { context.WithTimeout(context.Background(), 1) }`: "context.WithTimeout",
		`import "context"; func f() { context.WithDeadline(nil, x) }`:                 "context.WithDeadline",
		`func f() { go f() }`:                                                         "a go statement",
		`func f() { go func() { println() }() }`:                                      "a go statement",
		`import "time"; var f = time.Now; var y = f()`:                                "time.Now",
	}
	for src, what := range planted {
		found := findings(t, "planted.go", "package p; "+src)
		ok := false
		for _, f := range found {
			ok = ok || strings.HasSuffix(f, what)
		}
		if !ok {
			t.Errorf("%s: %s not found in %v", src, what, found)
		}
	}
	fine := `import ("context"; "time"); var d = time.Second; var t time.Time; func f(c Clock) { c.Now(); context.WithCancel(nil); _ = t.Add(d) }`
	if found := findings(t, "fine.go", "package p; "+fine); len(found) > 0 {
		t.Errorf("a use of the client's clock is not the system's: %v", found)
	}
}
