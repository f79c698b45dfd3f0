-- Sprint scope questions read one field's changelog since a sprint started;
-- without this index they scan every change since then.
CREATE INDEX changes_by_field ON changes (customer_id, field COLLATE NOCASE, at);
