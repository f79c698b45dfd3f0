-- Nodes looked up by Jira id without their site (an issue link names only
-- issue ids; the API finds sprints, versions and people by id) used the
-- (customer, kind) prefix of another index and read every node of that kind.
CREATE INDEX nodes_by_jira_id ON nodes (customer_id, kind, jira_id, site);
