package projector

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// While webhooks arrive faster than BurstRate, the projector pauses nine
// times as long as its last batch took; otherwise it does not pause.
func TestYieldsToWebhookBursts(t *testing.T) {
	p := New(nil, nil, slog.Default())
	ctx := context.Background()
	const worked = 50 * time.Millisecond

	p.webhookRate() // opens the rate window
	start := time.Now()
	p.yield(ctx, worked)
	if d := time.Since(start); d >= 9*worked {
		t.Fatalf("paused %s with no webhooks arriving", d)
	}

	// A burst: 1,000 webhooks within the window, well above 200/s.
	for range 1000 {
		p.Notify()
	}
	time.Sleep(300 * time.Millisecond)
	p.Notify()
	if r := p.webhookRate(); r < p.BurstRate {
		t.Fatalf("rate %.0f/s after 1,000 webhooks in 300 ms", r)
	}
	start = time.Now()
	p.yield(ctx, worked)
	if d := time.Since(start); d < 9*worked {
		t.Fatalf("paused only %s during a burst, want at least %s", d, 9*worked)
	}

	// Yielding can be turned off.
	p.BurstRate = 0
	start = time.Now()
	p.yield(ctx, worked)
	if d := time.Since(start); d >= 9*worked {
		t.Fatalf("paused %s with yielding off", d)
	}

	// Cancelling stops a pause at once.
	p.BurstRate = 1
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	start = time.Now()
	p.yield(cctx, time.Hour)
	if d := time.Since(start); d >= time.Second {
		t.Fatalf("cancelled yield took %s", d)
	}
}
