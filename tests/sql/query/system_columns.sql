# The `_seq` and `_deleted` system columns (wire-protocol.md §7, sql.md
# §3.5): appended to SELECT *, new `_seq` per version, tombstones hidden.
mask: version

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.items (id BIGINT PRIMARY KEY, title TEXT);
ok 0: Shared table app.items created successfully

root:> INSERT INTO app.items VALUES (1, 'a');
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.items VALUES (2, 'b');
ok 1: Inserted 1 row(s)

root:> SELECT * FROM app.items ORDER BY id;
[id BigInt pk,nn,uq | title Text | _seq BigInt nn | _deleted Boolean nn]
"1" | "a" | <seq> | false
"2" | "b" | <seq> | false
(2 rows)

root:> SELECT id, _seq, _deleted FROM app.items ORDER BY id;
[id BigInt pk,nn,uq | _seq BigInt nn | _deleted Boolean nn]
"1" | <seq> | false
"2" | <seq> | false
(2 rows)

root:> SELECT _seq FROM app.items WHERE id = 1;
[_seq BigInt nn]
<seq>
(1 row)

# `_seq` is a BIGINT Snowflake: its time part is the commit time.
root:> SELECT bool_and(_seq > 0) AS positive, count(DISTINCT _seq) AS distinct_seqs FROM app.items;
[positive Boolean | distinct_seqs BigInt]
true | "2"
(1 row)

root:> SELECT bool_and(abs(((_seq / 4194304) + 1704067200000) / 1000 - extract(epoch FROM now())) < 86400) AS commit_time_is_now FROM app.items;
[commit_time_is_now Boolean]
true
(1 row)

# Every write gets a larger `_seq`: row 1 was written first, then updated.
root:> SELECT (SELECT _seq FROM app.items WHERE id = 1) < (SELECT _seq FROM app.items WHERE id = 2) AS first_is_older;
[first_is_older Boolean]
true
(1 row)

root:> UPDATE app.items SET title = 'a2' WHERE id = 1;
ok 1: Updated 1 row(s)

root:> SELECT (SELECT _seq FROM app.items WHERE id = 1) > (SELECT _seq FROM app.items WHERE id = 2) AS update_is_newer;
[update_is_newer Boolean]
true
(1 row)

root:> INSERT INTO app.items VALUES (3, 'c');
ok 1: Inserted 1 row(s)

root:> SELECT id FROM app.items WHERE _seq > (SELECT _seq FROM app.items WHERE id = 1) ORDER BY id;
[id BigInt pk,nn,uq]
"3"
(1 row)

root:> SELECT id FROM app.items ORDER BY _seq;
[id BigInt pk,nn,uq]
"2"
"1"
"3"
(3 rows)

# Deleted rows are hidden, whatever the predicate on `_deleted`.
root:> DELETE FROM app.items WHERE id = 2;
ok 1: Deleted 1 row(s)

root:> SELECT * FROM app.items ORDER BY id;
[id BigInt pk,nn,uq | title Text | _seq BigInt nn | _deleted Boolean nn]
"1" | "a2" | <seq> | false
"3" | "c" | <seq> | false
(2 rows)

root:> SELECT id, _deleted FROM app.items WHERE _deleted = true OR _deleted = false ORDER BY id;
[id BigInt pk,nn,uq | _deleted Boolean nn]
"1" | false
"3" | false
(2 rows)

root:> SELECT count(*) AS n FROM app.items;
[n BigInt]
"2"
(1 row)

# System columns cannot be written.
root:> INSERT INTO app.items (id, title, _seq) VALUES (9, 'x', 1);
error 400 SQL_EXECUTION_ERROR: System column '_seq' cannot be written

root:> UPDATE app.items SET _deleted = true WHERE id = 1;
error 400 SQL_EXECUTION_ERROR: System column '_deleted' cannot be written

# They can be aliased, filtered and sorted like any column.
root:> SELECT id, _seq AS version FROM app.items WHERE _seq IS NOT NULL ORDER BY version DESC;
[id BigInt pk,nn,uq | version BigInt nn]
"3" | <masked>
"1" | <masked>
(2 rows)
