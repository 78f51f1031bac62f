# Multi-statement requests (wire-protocol.md §3.2-3.3, §4): in order; plain
# DML results summed after all others (Inserted, Updated, Deleted); the first
# failure stops the request, earlier statements stay applied.

root:> CREATE NAMESPACE app; CREATE TABLE app.items (id BIGINT PRIMARY KEY, title TEXT); INSERT INTO app.items VALUES (1, 'a'); INSERT INTO app.items VALUES (2, 'b'), (3, 'c'); SELECT id, title FROM app.items ORDER BY id;
ok 0: Namespace 'app' created successfully
ok 0: Shared table app.items created successfully
[id BigInt pk,nn,uq | title Text]
"1" | "a"
"2" | "b"
"3" | "c"
(3 rows)
ok 3: Inserted 3 row(s)

root:> UPDATE app.items SET title = 'x' WHERE id = 1; DELETE FROM app.items WHERE id = 3; INSERT INTO app.items VALUES (4, 'd'); UPDATE app.items SET title = 'y' WHERE id >= 2;
ok 1: Inserted 1 row(s)
ok 3: Updated 3 row(s)
ok 1: Deleted 1 row(s)

root:> DELETE FROM app.items WHERE id = 4; SELECT count(*) AS n FROM app.items; DELETE FROM app.items WHERE id = 2; CREATE TABLE app.more (id BIGINT PRIMARY KEY); SELECT id FROM app.items;
[n BigInt]
"2"
(1 row)
ok 0: Shared table app.more created successfully
[id BigInt pk,nn,uq]
"1"
(1 row)
ok 2: Deleted 2 row(s)

# Kinds that did not occur are not reported; zero counts of a kind that ran are.
root:> UPDATE app.items SET title = 'z' WHERE id = 99; SELECT id, title FROM app.items;
[id BigInt pk,nn,uq | title Text]
"1" | "x"
(1 row)
ok 0: Updated 0 row(s)

# A single DML statement keeps its own result.
root:> INSERT INTO app.items VALUES (5, 'e');
ok 1: Inserted 1 row(s)

# The first failure stops the request; earlier statements stay applied.
root:> INSERT INTO app.items VALUES (6, 'f'); INSERT INTO app.items VALUES (6, 'dup'); INSERT INTO app.items VALUES (7, 'g');
error 400 SQL_EXECUTION_ERROR: Statement 2 failed: Duplicate primary key value '6' in table 'app.items'

root:> SELECT id, title FROM app.items ORDER BY id;
[id BigInt pk,nn,uq | title Text]
"1" | "x"
"5" | "e"
"6" | "f"
(3 rows)

root:> SELECT 1; SELECT * FROM app.nope; SELECT 2;
error 400 TABLE_NOT_FOUND: Statement 2 failed: Table 'app.nope' not found

root:> CREATE NAMESPACE app; SELECT 1;
error 400 SQL_EXECUTION_ERROR: Statement 1 failed: Namespace 'app' already exists

root:> SELECT 1; CREATE NAMESPACE app;
error 400 SQL_EXECUTION_ERROR: Statement 2 failed: Namespace 'app' already exists

root:> SELECT 1; SELEC 2;
error 400 INVALID_SQL: Statement 2 failed: sql parser error: Expected: an SQL statement, found: SELEC at Line: 1, Column: 1

root:> CREATE TABLE app.t2 (id INT PRIMARY KEY); INSERT INTO app.t2 VALUES (1); DROP TABLE app.t2; SELECT * FROM app.t2;
error 400 TABLE_NOT_FOUND: Statement 4 failed: Table 'app.t2' not found

root:> SELECT table_name FROM system.tables WHERE namespace_id = 'app' ORDER BY table_name;
[table_name Text nn]
"items"
"more"
(2 rows)

# Semicolons inside strings and comments do not split statements.
root:> INSERT INTO app.items VALUES (8, 'semi;colon'); -- trailing; comment
SELECT title FROM app.items WHERE id = 8; /* a ; b */ SELECT 'x;y' AS s;
[title Text]
"semi;colon"
(1 row)
[s Text]
"x;y"
(1 row)
ok 1: Inserted 1 row(s)

# Empty statements between separators are ignored.
root:> SELECT 1 AS one;;  ; SELECT 2 AS two;
[one BigInt]
"1"
(1 row)
[two BigInt]
"2"
(1 row)

root:> SELECT 'unterminated;
error 400 BATCH_PARSE_ERROR: Unterminated string literal at Line: 1, Column: 8
