# DELETE (sql.md §3.3): soft delete, counts, hidden tombstones,
# re-insert of a deleted key.

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.items (id BIGINT PRIMARY KEY, title TEXT, qty INT);
ok 0: Shared table app.items created successfully

root:> CREATE TABLE app.gone (id BIGINT PRIMARY KEY);
ok 0: Shared table app.gone created successfully

root:> INSERT INTO app.items VALUES (1, 'one', 1), (2, 'two', 2), (3, 'three', 3), (4, 'four', 4), (5, 'five', 5);
ok 5: Inserted 5 row(s)

root:> INSERT INTO app.gone VALUES (4), (5);
ok 2: Inserted 2 row(s)

root:> DELETE FROM app.items WHERE id = 1;
ok 1: Deleted 1 row(s)

root:> DELETE FROM app.items WHERE id = 1;
ok 0: Deleted 0 row(s)

root:> DELETE FROM app.items WHERE id = 99;
ok 0: Deleted 0 row(s)

root:> DELETE FROM app.items WHERE id IN (SELECT id FROM app.gone);
ok 2: Deleted 2 row(s)

root:> SELECT id, title FROM app.items ORDER BY id;
[id BigInt pk,nn,uq | title Text]
"2" | "two"
"3" | "three"
(2 rows)

# Tombstones are never returned, not even when asked for.
root:> SELECT id FROM app.items WHERE _deleted = true;
[id BigInt pk,nn,uq]
(0 rows)

root:> SELECT count(*) AS n FROM app.items;
[n BigInt]
"2"
(1 row)

root:> SELECT id, _deleted FROM app.items ORDER BY id;
[id BigInt pk,nn,uq | _deleted Boolean nn]
"2" | false
"3" | false
(2 rows)

root:> SELECT * FROM app.items WHERE id = 1;
[id BigInt pk,nn,uq | title Text | qty Int | _seq BigInt nn | _deleted Boolean nn]
(0 rows)

# Re-inserting a deleted key is allowed and gives a fresh row.
root:> INSERT INTO app.items VALUES (1, 'one again', 100);
ok 1: Inserted 1 row(s)

root:> SELECT id, title, qty, _deleted FROM app.items ORDER BY id;
[id BigInt pk,nn,uq | title Text | qty Int | _deleted Boolean nn]
"1" | "one again" | 100 | false
"2" | "two" | 2 | false
"3" | "three" | 3 | false
(3 rows)

root:> INSERT INTO app.items VALUES (1, 'dup', 0);
error 400 SQL_EXECUTION_ERROR: Duplicate primary key value '1' in table 'app.items'

root:> DELETE FROM app.items WHERE qty > 2 AND title LIKE 't%';
ok 1: Deleted 1 row(s)

root:> SELECT id, title FROM app.items ORDER BY id;
[id BigInt pk,nn,uq | title Text]
"1" | "one again"
"2" | "two"
(2 rows)

# No WHERE: every visible row.
root:> DELETE FROM app.items;
ok 2: Deleted 2 row(s)

root:> DELETE FROM app.items;
ok 0: Deleted 0 row(s)

root:> SELECT * FROM app.items;
[id BigInt pk,nn,uq | title Text | qty Int | _seq BigInt nn | _deleted Boolean nn]
(0 rows)

root:> DELETE FROM app.nope;
error 400 TABLE_NOT_FOUND: Table 'app.nope' not found

root:> DELETE FROM system.namespaces;
error 403 PERMISSION_DENIED: System table 'system.namespaces' is read-only

root:> INSERT INTO app.items VALUES (2, 'back', 2);
ok 1: Inserted 1 row(s)

root:> SELECT id, title, qty FROM app.items;
[id BigInt pk,nn,uq | title Text | qty Int]
"2" | "back" | 2
(1 row)
