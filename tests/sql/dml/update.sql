# UPDATE (sql.md §3.2): WHERE forms, counts, no-op updates, errors.

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.items (id BIGINT PRIMARY KEY, title TEXT NOT NULL, qty INT, tag TEXT);
ok 0: Shared table app.items created successfully

root:> CREATE TABLE app.hot (tag TEXT PRIMARY KEY);
ok 0: Shared table app.hot created successfully

root:> INSERT INTO app.items VALUES (1, 'one', 1, 'a'), (2, 'two', 2, 'b'), (3, 'three', 3, 'a'), (4, 'four', 4, NULL);
ok 4: Inserted 4 row(s)

root:> INSERT INTO app.hot VALUES ('a');
ok 1: Inserted 1 row(s)

root:> UPDATE app.items SET qty = 10 WHERE id = 1;
ok 1: Updated 1 row(s)

root:> UPDATE app.items SET qty = qty * 2, title = upper(title) WHERE qty >= 2;
ok 4: Updated 4 row(s)

root:> SELECT id, title, qty, tag FROM app.items ORDER BY id;
[id BigInt pk,nn,uq | title Text nn | qty Int | tag Text]
"1" | "ONE" | 20 | "a"
"2" | "TWO" | 4 | "b"
"3" | "THREE" | 6 | "a"
"4" | "FOUR" | 8 | null
(4 rows)

# Subquery predicates.
root:> UPDATE app.items SET tag = 'hot' WHERE tag IN (SELECT tag FROM app.hot);
ok 2: Updated 2 row(s)

root:> UPDATE app.items SET qty = 0 WHERE qty = (SELECT max(qty) FROM app.items);
ok 1: Updated 1 row(s)

root:> UPDATE app.items SET tag = 'none' WHERE NOT EXISTS (SELECT 1 FROM app.hot WHERE hot.tag = items.title) AND tag IS NULL;
ok 1: Updated 1 row(s)

root:> SELECT id, title, qty, tag FROM app.items ORDER BY id;
[id BigInt pk,nn,uq | title Text nn | qty Int | tag Text]
"1" | "ONE" | 0 | "hot"
"2" | "TWO" | 4 | "b"
"3" | "THREE" | 6 | "hot"
"4" | "FOUR" | 8 | "none"
(4 rows)

# Nothing matches / nothing changes: 0 rows, no new version. Row 1 was
# written before row 2, so its `_seq` stays smaller until a real change.
root:> UPDATE app.items SET qty = 5 WHERE id = 99;
ok 0: Updated 0 row(s)

root:> CREATE TABLE app.v (id BIGINT PRIMARY KEY, title TEXT, qty INT);
ok 0: Shared table app.v created successfully

root:> INSERT INTO app.v VALUES (1, 'one', 1);
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.v VALUES (2, 'two', 2);
ok 1: Inserted 1 row(s)

root:> UPDATE app.v SET qty = 1 WHERE id = 1;
ok 0: Updated 0 row(s)

root:> UPDATE app.v SET title = 'one', qty = 1 WHERE id = 1;
ok 0: Updated 0 row(s)

root:> UPDATE app.v SET qty = qty WHERE id = 1;
ok 0: Updated 0 row(s)

root:> SELECT (SELECT _seq FROM app.v WHERE id = 1) < (SELECT _seq FROM app.v WHERE id = 2) AS unchanged;
[unchanged Boolean]
true
(1 row)

root:> UPDATE app.v SET qty = 11 WHERE id = 1;
ok 1: Updated 1 row(s)

root:> SELECT (SELECT _seq FROM app.v WHERE id = 1) > (SELECT _seq FROM app.v WHERE id = 2) AS new_version;
[new_version Boolean]
true
(1 row)

root:> SELECT id, title, qty FROM app.v ORDER BY id;
[id BigInt pk,nn,uq | title Text | qty Int]
"1" | "one" | 11
"2" | "two" | 2
(2 rows)

# Only rows whose values change are counted.
root:> UPDATE app.items SET tag = 'hot';
ok 2: Updated 2 row(s)

root:> UPDATE app.items SET tag = 'hot';
ok 0: Updated 0 row(s)

# No WHERE: all visible rows.
root:> UPDATE app.items SET qty = NULL;
ok 4: Updated 4 row(s)

root:> SELECT id, qty, tag FROM app.items ORDER BY id;
[id BigInt pk,nn,uq | qty Int | tag Text]
"1" | null | "hot"
"2" | null | "hot"
"3" | null | "hot"
"4" | null | "hot"
(4 rows)

# Deleted rows are not updated.
root:> DELETE FROM app.items WHERE id = 4;
ok 1: Deleted 1 row(s)

root:> UPDATE app.items SET qty = 1 WHERE id = 4;
ok 0: Updated 0 row(s)

root:> UPDATE app.items SET qty = 1;
ok 3: Updated 3 row(s)

root:> SELECT id, qty FROM app.items ORDER BY id;
[id BigInt pk,nn,uq | qty Int]
"1" | 1
"2" | 1
"3" | 1
(3 rows)

# Errors.
root:> UPDATE app.items SET id = 100 WHERE id = 1;
error 400 SQL_EXECUTION_ERROR: Cannot update primary key column 'id'

root:> UPDATE app.items SET id = 1 WHERE id = 1;
error 400 SQL_EXECUTION_ERROR: Cannot update primary key column 'id'

root:> UPDATE app.items SET title = NULL WHERE id = 1;
error 400 SQL_EXECUTION_ERROR: Column 'title' cannot be NULL

root:> UPDATE app.items SET color = 'red' WHERE id = 1;
error 400 SQL_EXECUTION_ERROR: Column 'color' not found in table 'app.items'

root:> UPDATE app.items SET _seq = 1 WHERE id = 1;
error 400 SQL_EXECUTION_ERROR: System column '_seq' cannot be written

root:> UPDATE app.items SET _deleted = true WHERE id = 1;
error 400 SQL_EXECUTION_ERROR: System column '_deleted' cannot be written

root:> UPDATE app.nope SET qty = 1;
error 400 TABLE_NOT_FOUND: Table 'app.nope' not found

root:> UPDATE system.users SET role = 'user' WHERE user_id = 'root';
error 403 PERMISSION_DENIED: System table 'system.users' is read-only

root:> SELECT id, title, qty, tag FROM app.items ORDER BY id;
[id BigInt pk,nn,uq | title Text nn | qty Int | tag Text]
"1" | "ONE" | 1 | "hot"
"2" | "TWO" | 1 | "hot"
"3" | "THREE" | 1 | "hot"
(3 rows)
