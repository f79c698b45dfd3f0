package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/cogniscape/cogniscape/internal/jirasim"
)

// runSimulate implements `cogniscape simulate`: generate the webhook traffic
// of simulated Jira sites, write it to a file and/or send it to a server with
// Jira-like faults, then optionally verify the server's graph against the
// simulator's model of the world.
func runSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: cogniscape simulate [flags]

Generates a reproducible stream of Jira webhooks (teams, sprints, issues,
comments, worklogs, links, versions) and writes it to a file (--out) or sends
it to a server (--url), optionally checking the result (--verify).

Examples:
  cogniscape simulate --teams 3 --days 30 --out deliveries.jsonl
  cogniscape simulate --flavor mix --events 2000 --url http://localhost:8080 \
      --customer-key acme --secret s3cret --duplicates 0.05 --shuffle 50 --bad 0.01 \
      --verify --api-token TOKEN

Flags:
`)
		fs.PrintDefaults()
	}
	var (
		seed        = fs.Uint64("seed", 1, "random seed: the same seed gives the same stream")
		_           = fs.String("data", "", "accepted as by every command; simulate keeps no data of its own (it writes --out or sends to --url)")
		teams       = fs.Int("teams", 3, "number of teams (a project, a board, people and sprints each)")
		days        = fs.Int("days", 30, "simulated days")
		events      = fs.Int("events", 0, "stop after this many deliveries (0 = no cap; the activity is scaled to fit in --days)")
		flavorName  = fs.String("flavor", "cloud", "Jira flavor: cloud, dc (Data Center) or mix (one site of each)")
		startAt     = fs.String("start", "", "simulated start: a date (2026-01-05) or RFC 3339 time, or \"now\" to end the simulation now (default 2026-01-05)")
		siteName    = fs.String("site", "acme", "site name: https://NAME.atlassian.net, https://jira.NAME.internal")
		outFile     = fs.String("out", "", "write the deliveries to FILE, one JSON line each ({\"headers\",\"body\"}); - for stdout")
		inFile      = fs.String("in", "", "send the deliveries of FILE (written by --out) instead of generating them")
		serverURL   = fs.String("url", "", "send the deliveries to this Cogniscape server (base URL)")
		customerKey = fs.String("customer-key", "", "customer key of the webhook URL /api/v1/events/jira/{customer-key}")
		secret      = fs.String("secret", "", "webhook secret: HMAC key of X-Hub-Signature (Cloud), X-Cogniscape-Token (Data Center)")
		apiToken    = fs.String("api-token", "", "API token of the customer, for --verify")
		rate        = fs.Float64("rate", 0, "deliveries per second (0 = as fast as possible)")
		concurrency = fs.Int("concurrency", 8, "parallel requests")
		duplicates  = fs.Float64("duplicates", 0, "fraction of deliveries sent twice (same identifier, X-Atlassian-Webhook-Retry: 1)")
		shuffle     = fs.Int("shuffle", 0, "reorder deliveries within a window of this many")
		bad         = fs.Float64("bad", 0, "fraction of extra bad deliveries: wrong signature (401) or broken JSON (400)")
		verify      = fs.Bool("verify", false, "after sending, wait for projection and compare the graph with the simulator's model")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("simulate: unexpected arguments %q", fs.Args())
	}
	flavor, err := jirasim.ParseFlavor(*flavorName)
	if err != nil {
		return err
	}
	for name, f := range map[string]float64{"duplicates": *duplicates, "bad": *bad} {
		if f < 0 || f > 1 {
			return fmt.Errorf("simulate: --%s must be between 0 and 1", name)
		}
	}
	switch {
	case *teams <= 0 || *days <= 0 || *events < 0 || *rate < 0 || *concurrency <= 0 || *shuffle < 0:
		return errors.New("simulate: --teams, --days and --concurrency must be positive; --events, --rate and --shuffle not negative")
	case *outFile == "" && *serverURL == "":
		return errors.New("simulate: nothing to do: give --out FILE and/or --url URL")
	case *serverURL != "" && *customerKey == "":
		return errors.New("simulate: --url needs --customer-key")
	case *verify && (*serverURL == "" || *apiToken == ""):
		return errors.New("simulate: --verify needs --url and --api-token")
	case *verify && *inFile != "":
		return errors.New("simulate: --verify needs generated deliveries, not --in")
	case *inFile != "" && *outFile != "":
		return errors.New("simulate: --in and --out cannot be combined")
	}

	var (
		src   jirasim.Source
		sim   *jirasim.Simulator
		total int
	)
	if *inFile != "" {
		f, err := os.Open(*inFile)
		if err != nil {
			return err
		}
		defer f.Close()
		r := jirasim.NewReader(f)
		src = r
		defer func() {
			if r.Err() != nil {
				fmt.Fprintf(stderr, "simulate: %s: %v\n", *inFile, r.Err())
			}
		}()
		if *events > 0 {
			src = jirasim.Limit(src, *events)
			total = *events
		}
	} else {
		start, err := simulateStart(*startAt, *days)
		if err != nil {
			return err
		}
		sim = jirasim.New(jirasim.Config{
			Seed: *seed, Teams: *teams, Days: *days, Target: *events,
			Flavor: flavor, Start: start, Site: *siteName,
		})
		src = sim
		total = *events
	}

	// The report goes to stdout unless stdout carries the deliveries.
	report := stdout
	var fw *jirasim.Writer
	if *outFile != "" {
		w := stdout
		if *outFile != "-" {
			f, err := os.Create(*outFile)
			if err != nil {
				return err
			}
			defer f.Close()
			w = f
		} else {
			report = stderr
		}
		fw = jirasim.NewWriter(w)
		if *serverURL != "" {
			src = jirasim.Tee(src, fw.Write)
		}
	}

	if *serverURL == "" {
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			d, ok := src.Next()
			if !ok {
				break
			}
			if err := fw.Write(d); err != nil {
				return err
			}
		}
		if err := fw.Flush(); err != nil {
			return err
		}
		simulateSummary(stderr, sim, fw, *outFile)
		return nil
	}

	var progress io.Writer
	if simulateIsTerminal(stderr) {
		progress = stderr
	}
	if total > 0 {
		total = int(float64(total) * (1 + *duplicates + *bad))
	}
	rep, err := jirasim.Send(ctx, src, jirasim.SendConfig{
		URL: *serverURL, CustomerKey: *customerKey, Secret: *secret,
		Rate: *rate, Concurrency: *concurrency,
		Duplicates: *duplicates, Shuffle: *shuffle, Bad: *bad, Seed: *seed,
		Progress: progress, Total: total,
	})
	if fw != nil {
		if ferr := fw.Flush(); ferr != nil && err == nil {
			err = ferr
		}
		simulateSummary(stderr, sim, fw, *outFile)
	}
	rep.WriteText(report)
	if err != nil {
		return err
	}
	var problems []string
	if rep.Lost > 0 {
		problems = append(problems, fmt.Sprintf("%d deliveries not acknowledged", rep.Lost))
	}
	if rep.BadAccepted > 0 {
		problems = append(problems, fmt.Sprintf("%d bad deliveries acknowledged", rep.BadAccepted))
	}
	if *verify {
		w := sim.World()
		fmt.Fprintf(stderr, "verifying %d issues and %d sprints…\n", len(w.Issues()), len(w.Sprints()))
		n, err := jirasim.Verify(ctx, *serverURL, *apiToken, w, report)
		if err != nil {
			return fmt.Errorf("simulate: verify: %w", err)
		}
		if n > 0 {
			problems = append(problems, fmt.Sprintf("verify: %d mismatches", n))
		}
	}
	if len(problems) > 0 {
		return errors.New("simulate: " + strings.Join(problems, "; "))
	}
	return nil
}

// simulateStart parses --start; "now" makes the simulation end now.
func simulateStart(s string, days int) (time.Time, error) {
	switch s {
	case "":
		return jirasim.DefaultStart, nil
	case "now":
		return time.Now().UTC().Truncate(time.Minute).AddDate(0, 0, -days), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("simulate: --start %q: want a date (2006-01-02), an RFC 3339 time or \"now\"", s)
}

func simulateSummary(w io.Writer, sim *jirasim.Simulator, fw *jirasim.Writer, name string) {
	if name == "-" {
		name = "stdout"
	}
	fmt.Fprintf(w, "wrote %d deliveries (%.1f MB) to %s\n", fw.Count(), float64(fw.Bytes())/1e6, name)
	if sim == nil {
		return
	}
	counts := sim.Counts()
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, counts[k])
	}
	fmt.Fprintf(w, "  %s\n", strings.Join(parts, ", "))
}

// simulateIsTerminal reports whether w is a terminal (a character device).
func simulateIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
