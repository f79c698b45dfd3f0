-- Sprint scope questions read one field's changelog since a sprint started;
-- without this index they scan every change since then. The expression is
-- the one the queries compare with: ASCII letters folded to lower case, as
-- SQLite's NOCASE does.
CREATE INDEX changes_by_field ON changes (customer_id, translate(field, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), at);
