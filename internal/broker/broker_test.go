package broker

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/shiplens/shiplens/internal/kafkaadmin"
	"github.com/shiplens/shiplens/schemas"
)

func TestEmbeddedSeedsTopics(t *testing.T) {
	e, err := Start(Options{Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, topic := range []string{schemas.EventsTopic, schemas.DLQTopic, schemas.AlertsTopic, schemas.NotificationsTopic} {
		parts, err := kafkaadmin.Partitions(ctx, e.Addrs(), topic)
		if err != nil || len(parts) != 3 {
			t.Fatalf("partitions of %s = %v, %v; want 3", topic, parts, err)
		}
	}
}

// TestProductionLinksNoKfake keeps the test broker out of the production
// packages: only tests and the demo command may link kfake.
func TestProductionLinksNoKfake(t *testing.T) {
	pkgs := []string{"./processor", "./ingest/...", "./store", "./dlq", "./api", "./analytics/...", "./schemas/...", "./notify", "./internal/kafkaadmin", "./internal/retry"}
	cmd := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...)
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "kfake") || strings.HasSuffix(dep, "/internal/broker") {
			t.Errorf("a production package depends on %s (go list -deps %s)", dep, strings.Join(pkgs, " "))
		}
	}
}
