package sqlstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mltrack/mltrack/internal/mlflow"
	"github.com/mltrack/mltrack/internal/store"
	"github.com/mltrack/mltrack/internal/store/sqlstore"
)

// TestWebhookClaimsTwoReplicas queues 200 events and lets two stores on one
// database (two replicas) claim them at once, in small batches: every
// event is claimed exactly once. On PostgreSQL the claim's FOR UPDATE SKIP
// LOCKED does it; on SQLite the single writer of each store and SQLite's
// database lock.
func TestWebhookClaimsTwoReplicas(t *testing.T) {
	t.Run("postgres", func(t *testing.T) {
		_, uri := registryNewPGDatabase(t)
		testClaimsTwoReplicas(t, uri)
	})
	t.Run("sqlite", func(t *testing.T) {
		testClaimsTwoReplicas(t, "sqlite:///"+filepath.Join(t.TempDir(), "mlflow.db"))
	})
}

func testClaimsTwoReplicas(t *testing.T, uri string) {
	replicas := []*sqlstore.Store{registryOpen(t, uri), registryOpen(t, uri)}
	ctx := context.Background()
	if _, err := replicas[0].CreateWebhook(ctx, store.CreateWebhook{Name: "w", URL: "https://w.example", Events: []mlflow.WebhookEvent{mlflow.EventRegisteredModelCreated}}); err != nil {
		t.Fatal(err)
	}
	const events = 200
	for i := 0; i < events; i++ {
		if _, err := replicas[i%2].CreateRegisteredModel(ctx, fmt.Sprintf("m%d", i), "", nil); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu      sync.Mutex
		claimed = map[string]int{}
		wg      sync.WaitGroup
	)
	for _, s := range replicas {
		for w := 0; w < 3; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					ds, err := s.ClaimDeliveries(ctx, time.Minute, 7)
					if err != nil {
						t.Error(err)
						return
					}
					if len(ds) == 0 {
						return
					}
					for _, d := range ds {
						mu.Lock()
						claimed[d.ID]++
						mu.Unlock()
						if ok, err := s.FinishDelivery(ctx, d, store.DeliveryAttempt{Time: time.Now(), Outcome: store.DeliveryDelivered, ResponseStatus: 200}); err != nil || !ok {
							t.Errorf("finish %s: %v %v", d.ID, ok, err)
						}
					}
				}
			}()
		}
	}
	wg.Wait()
	if len(claimed) != events {
		t.Errorf("%d events claimed, want %d", len(claimed), events)
	}
	for id, n := range claimed {
		if n != 1 {
			t.Errorf("event %s claimed %d times", id, n)
		}
	}
}
