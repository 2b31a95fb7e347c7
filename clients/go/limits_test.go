package holdfast

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestConstantsAreTheSharedLimits reads clients/vectors/limits.json, which
// the Java API's, the Python client's and the Node client's tests read too:
// this client's constants equal the limits that name it, and it has a
// constant of each of them.
func TestConstantsAreTheSharedLimits(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "vectors", "limits.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Limits []struct {
			Name    string   `json:"name"`
			Value   int64    `json:"value"`
			Clients []string `json:"clients"`
		} `json:"limits"`
	}
	if err := json.Unmarshal(raw, &file); err != nil || len(file.Limits) == 0 {
		t.Fatalf("the limits: %v", err)
	}
	shared := map[string]int64{}
	for _, l := range file.Limits {
		for _, c := range l.Clients {
			if c == "go" {
				shared[l.Name] = l.Value
			}
		}
	}
	ours := map[string]int64{
		"anyVersion":                AnyVersion,
		"maxTxnOps":                 MaxTxnOps,
		"maxPage":                   MaxPage,
		"minKeyTtlMillis":           MinKeyTTL.Milliseconds(),
		"maxKeyTtlMillis":           MaxKeyTTL.Milliseconds(),
		"maxLeaderValueBytes":       MaxLeaderValueBytes,
		"sessionRenewalFirstMillis": renewFirst.Milliseconds(),
		"sessionRenewalCapMillis":   renewCap.Milliseconds(),
		"rejoinFirstMillis":         rejoinFirst.Milliseconds(),
		"rejoinCapMillis":           rejoinCap.Milliseconds(),
	}
	if !reflect.DeepEqual(ours, shared) {
		t.Errorf("this client's limits are %v; clients/vectors/limits.json says %v", ours, shared)
	}
}
