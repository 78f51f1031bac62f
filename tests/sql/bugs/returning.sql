# BUG (spec gap): `RETURNING` on INSERT/UPDATE/DELETE (sql.md §3.1-3.3) is
# refused with INVALID_SQL "INSERT ... RETURNING is not supported yet" /
# "UPDATE supports one table, SET and WHERE (no FROM, JOIN, LIMIT or
# RETURNING)". Issue 3 does not list it; kept here so it is not forgotten.
# Expected: the result carries schema/rows (incl. defaults and `_seq`).

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.items (id BIGINT PRIMARY KEY, title TEXT, qty INT DEFAULT 1);
ok 0: Shared table app.items created successfully

root:> INSERT INTO app.items (id, title) VALUES (1, 'a'), (2, 'b') RETURNING *;
[id BigInt pk,nn,uq | title Text | qty Int | _seq BigInt nn | _deleted Boolean nn]
"1" | "a" | 1 | <seq> | false
"2" | "b" | 1 | <seq> | false
(2 rows)

root:> UPDATE app.items SET qty = 5 WHERE id = 1 RETURNING id, qty;
[id BigInt pk,nn,uq | qty Int]
"1" | 5
(1 row)

root:> DELETE FROM app.items WHERE id = 2 RETURNING id, title;
[id BigInt pk,nn,uq | title Text]
"2" | "b"
(1 row)
