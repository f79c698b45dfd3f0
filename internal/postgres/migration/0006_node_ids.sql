-- The SQLite store gained this index in its 0006; PostgreSQL has had it
-- since 0002. Kept so that both stores' migrations carry the same names.
CREATE INDEX IF NOT EXISTS nodes_by_jira_id ON nodes (customer_id, kind, jira_id, site);
