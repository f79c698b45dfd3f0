// Package cogniscape holds the domain of Cogniscape: customers, the event log
// that Jira webhooks are appended to, and the temporal knowledge graph that the
// log is projected into. It has no I/O: adapters under internal/ implement its
// interfaces (storage, HTTP, Jira decoding) and cmd/cogniscape wires them.
package cogniscape
