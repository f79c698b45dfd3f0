package jirasim

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Vocabulary for generated names and texts. Everything is picked with the
// simulator's seeded generator, so texts are reproducible.

type teamDef struct {
	key, name, category string
}

var teamDefs = []teamDef{
	{"PAY", "Payments", "Fintech"},
	{"CORE", "Core Platform", "Platform"},
	{"WEB", "Web App", "Product"},
	{"MOB", "Mobile", "Product"},
	{"DATA", "Data Engineering", "Platform"},
	{"OPS", "Operations", "Platform"},
	{"AUTH", "Identity", "Platform"},
	{"SRCH", "Search", "Product"},
	{"BILL", "Billing", "Fintech"},
	{"INFRA", "Infrastructure", "Platform"},
	{"ML", "Machine Learning", "Data"},
	{"SEC", "Security", "Platform"},
	{"GROW", "Growth", "Product"},
	{"API", "Public API", "Platform"},
	{"IOS", "iOS App", "Product"},
	{"AND", "Android App", "Product"},
	{"QA", "Quality", "Platform"},
	{"CRM", "CRM Integrations", "Product"},
	{"DOCS", "Developer Docs", "Product"},
	{"RISK", "Risk and Fraud", "Fintech"},
}

// teamKeyName returns the project key and name of the i-th team overall.
func teamKeyName(i int) (key, name, category string) {
	if i < len(teamDefs) {
		d := teamDefs[i]
		return d.key, d.name, d.category
	}
	// T + base-26 letters: TA, TB, …, TAA, …
	n := i - len(teamDefs)
	var s []byte
	for {
		s = append([]byte{byte('A' + n%26)}, s...)
		n = n/26 - 1
		if n < 0 {
			break
		}
	}
	return "T" + string(s), "Team " + string(s), "Product"
}

var firstNames = []string{
	"Priya", "Marco", "Aisha", "Jonas", "Mei", "Carlos", "Fatima", "Liam", "Sofia", "Kenji",
	"Amara", "Lukas", "Elena", "Tomás", "Nadia", "Oliver", "Yara", "Ravi", "Chloé", "Mateo",
	"Hana", "Erik", "Zainab", "Pablo", "Ingrid", "Dmitri", "Leila", "Noah", "Aiko", "Samuel",
	"Greta", "Omar", "Lucía", "Felix", "Anya", "Kwame", "Isabel", "Hugo", "Mira", "Jakub",
}

var lastNames = []string{
	"Raman", "Bellini", "Okafor", "Weber", "Chen", "Mendoza", "Haddad", "O'Brien", "Rossi", "Tanaka",
	"Mensah", "Fischer", "Petrova", "García", "Nowak", "Jensen", "Kowalski", "Iyer", "Dubois", "Silva",
	"Sato", "Lindqvist", "Abubakar", "Ortega", "Hansen", "Volkov", "Karimi", "Schmidt", "Yamamoto", "Adeyemi",
	"Bauer", "Farouk", "Moreno", "Keller", "Ivanova", "Boateng", "Costa", "Laurent", "Novak", "Horvat",
}

var timeZones = []string{
	"Europe/Berlin", "Europe/Rome", "Europe/London", "Europe/Madrid", "Europe/Warsaw",
	"America/New_York", "America/Sao_Paulo", "Asia/Kolkata", "Asia/Tokyo", "Africa/Lagos",
}

var nouns = []string{
	"refund API", "checkout flow", "session cache", "search index", "billing export", "login page",
	"push notifications", "audit log", "rate limiter", "feature flags", "CSV import", "webhook retries",
	"settlement report", "user profile", "dashboard widgets", "GraphQL gateway", "payment retries",
	"onboarding wizard", "SAML SSO", "deep links", "data retention job", "invoice PDF", "Kafka consumer",
	"metrics pipeline", "autoscaling policy", "error pages", "password reset", "API pagination",
	"email templates", "currency conversion", "order history", "admin console", "access tokens",
	"image uploads", "notification preferences", "team permissions", "usage quotas", "status page",
}

var storyVerbs = []string{
	"Add", "Support", "Let admins configure", "Expose", "Redesign", "Migrate", "Introduce",
	"Improve", "Automate", "Localize", "Add bulk actions to", "Add filters to",
}

var bugSymptoms = []string{
	"returns 500 on empty input", "times out under load", "shows stale data after refresh",
	"ignores the timezone offset", "double-submits on slow networks", "leaks connections",
	"breaks on Safari 17", "miscounts totals for partial refunds", "drops events during deploys",
	"crashes when the locale is tr-TR", "rejects valid UTF-8 names", "loses state after token refresh",
	"sorts by the wrong column", "sends duplicate emails", "renders blank in dark mode",
}

var taskVerbs = []string{
	"Upgrade dependencies of", "Write a runbook for", "Clean up old flags in", "Add alerts for",
	"Load test", "Document", "Backfill data for", "Rotate credentials for", "Add tracing to",
	"Remove dead code in",
}

var subtaskNames = []string{
	"Implement backend changes", "Write integration tests", "Update API docs", "QA on staging",
	"Frontend wiring", "Add metrics and alerts", "Code review follow-ups", "Migration script",
	"Feature flag rollout", "Update fixtures",
}

var epicNames = []string{"%s v2", "%s overhaul", "%s reliability", "Self-serve %s", "%s at scale"}

var labelPool = []string{
	"backend", "frontend", "tech-debt", "customer", "security", "performance", "ux", "infra",
	"flaky", "regression", "reliability", "compliance", "api", "mobile", "quick-win",
}

var problemSentences = []string{
	"Customers report that the %s %s.",
	"Since the last deploy the %s %s in about 2%% of requests.",
	"Support escalated three tickets this week: the %s %s.",
	"The on-call engineer saw that the %s %s during the nightly batch.",
}

var acceptance = []string{
	"Covered by an integration test",
	"Metrics and an alert on the error rate",
	"No change to the public contract",
	"Documented in the runbook",
	"Rolled out behind a feature flag",
	"p95 latency stays under 200 ms",
	"Works for existing and new accounts",
	"Backfill runs idempotently",
}

var commentSentences = []string{
	"I can reproduce this on staging.",
	"Looks good to me, merging after CI.",
	"Can we split this into two PRs?",
	"Blocked until the schema migration is deployed.",
	"Pairing on this tomorrow morning.",
	"Moved the discussion to the design doc.",
	"QA passed on staging, ready for release.",
	"This needs a product decision before we continue.",
	"Added a test for the edge case with empty payloads.",
	"The flaky test was unrelated, re-ran the pipeline.",
	"Confirmed with the customer, the fix works for them.",
	"We should also backport this to the release branch.",
	"Estimate looks optimistic, I'd say three days.",
	"Rolled out to 10% of traffic, no errors so far.",
	"Left a few comments on the PR.",
}

var codeBlocks = []string{
	"{code:java}\nif (attempt > MAX_RETRIES) {\n  throw new RetryExhaustedException(requestId);\n}\n{code}",
	"{code:bash}\ncurl -sS -X POST https://staging.example.com/v2/refunds \\\n  -H 'Idempotency-Key: 4f1c' -d @payload.json\n{code}",
	"```go\nif err := tx.Commit(); err != nil {\n\treturn fmt.Errorf(\"commit: %w\", err)\n}\n```",
	"```sql\nSELECT account_id, count(*) FROM refunds\nWHERE created_at > now() - interval '1 day'\nGROUP BY 1 HAVING count(*) > 1;\n```",
	"{noformat}\nERROR 12:01:33.812 pool exhausted (max=50, waiting=212)\n\tat db.Pool.acquire(Pool.java:118)\n{noformat}",
	"{code:python}\nfor row in reader:\n    amount = Decimal(row['amount']).quantize(Decimal('0.01'))\n{code}",
	"```js\nconst res = await fetch(`/api/v2/orders?cursor=${cursor}`);\nif (!res.ok) throw new Error(res.statusText);\n```",
}

var inlineCode = []string{
	"{{RefundNotifier.retry()}}", "{{SESSION_TTL}}", "{{/v2/orders}}", "{{max_connections}}",
	"{{pool.Get()}}", "{{X-Request-Id}}", "{{retry_after}}", "`ctx.Done()`", "`LIMIT 500`",
}

var worklogComments = []string{
	"", "", "Implementation", "Code review", "Debugging on staging", "Pairing session",
	"Writing tests", "Investigating the incident", "Release prep", "Docs and cleanup",
}

var sprintGoals = []string{
	"Ship %s to all customers",
	"Stabilise %s and burn down bugs",
	"First slice of %s behind a flag",
	"Reduce on-call load from %s",
	"Finish %s and start the migration",
}

var versionDescs = []string{"Quarterly release", "Bug fix release", "Feature release", "Hotfix train", ""}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func capFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func summaryFor(r *rand.Rand, typ int) string {
	n := pick(r, nouns)
	switch typ {
	case typeBug:
		return capFirst(n) + " " + pick(r, bugSymptoms)
	case typeTask:
		return pick(r, taskVerbs) + " " + n
	case typeEpic:
		return fmt.Sprintf(pick(r, epicNames), capFirst(n))
	case typeSubtask:
		return pick(r, subtaskNames)
	default:
		return pick(r, storyVerbs) + " " + n
	}
}

func descriptionFor(r *rand.Rand, summary string) string {
	var b strings.Builder
	b.WriteString("h3. Problem\n")
	fmt.Fprintf(&b, pick(r, problemSentences), pick(r, nouns), pick(r, bugSymptoms))
	b.WriteString(" See ")
	b.WriteString(pick(r, inlineCode))
	b.WriteString(" for context.\n\nh3. Acceptance\n")
	first := r.IntN(len(acceptance))
	for i := range 2 + r.IntN(2) {
		b.WriteString("* ")
		b.WriteString(acceptance[(first+i*3)%len(acceptance)])
		b.WriteByte('\n')
	}
	if r.IntN(4) == 0 {
		b.WriteString("\nh3. Notes\n")
		b.WriteString(pick(r, codeBlocks))
		b.WriteByte('\n')
	}
	b.WriteString("\n_Related: ")
	b.WriteString(summary)
	b.WriteString("_")
	return b.String()
}

// commentFor returns a comment body in wiki markup; mention is the markup of a
// mentioned person ("[~accountid:…]" or "[~name]") or "".
func commentFor(r *rand.Rand, mention string) string {
	var b strings.Builder
	if mention != "" && r.IntN(3) == 0 {
		b.WriteString(mention)
		b.WriteByte(' ')
	}
	n := 1 + r.IntN(3)
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(pick(r, commentSentences))
	}
	if r.IntN(4) == 0 {
		b.WriteString(" The culprit is ")
		b.WriteString(pick(r, inlineCode))
		b.WriteByte('.')
	}
	if r.IntN(6) == 0 {
		b.WriteString("\n\n")
		b.WriteString(pick(r, codeBlocks))
	}
	return b.String()
}

// jiraDuration formats seconds like Jira's timeSpent (8h days, 5d weeks).
func jiraDuration(sec int64) string {
	if sec <= 0 {
		return "0m"
	}
	m := sec / 60
	w := m / (5 * 8 * 60)
	m -= w * 5 * 8 * 60
	d := m / (8 * 60)
	m -= d * 8 * 60
	h := m / 60
	m -= h * 60
	var parts []string
	if w > 0 {
		parts = append(parts, fmt.Sprintf("%dw", w))
	}
	if d > 0 {
		parts = append(parts, fmt.Sprintf("%dd", d))
	}
	if h > 0 {
		parts = append(parts, fmt.Sprintf("%dh", h))
	}
	if m > 0 {
		parts = append(parts, fmt.Sprintf("%dm", m))
	}
	return strings.Join(parts, " ")
}
