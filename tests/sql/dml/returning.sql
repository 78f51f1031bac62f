# RETURNING on INSERT, UPDATE and DELETE (sql.md §3.1-3.3): the rows the
# statement wrote, projected through the list: an INSERT's rows with their
# defaults and `_seq`; an UPDATE's new versions (a row left as it was is
# neither counted nor returned); a DELETE's tombstones (the deleted values,
# the tombstone's `_seq`, `_deleted` true). The result carries schema, rows
# and the DML message, and keeps its place in a batch (wire-protocol.md
# §3.3). A bad item fails the statement before anything is written.

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.items (id BIGINT PRIMARY KEY, title TEXT, qty INT DEFAULT 1, meta JSON);
ok 0: Shared table app.items created successfully

root:> INSERT INTO app.items (id, title) VALUES (1, 'a'), (2, 'b') RETURNING *;
[id BigInt pk,nn,uq | title Text | qty Int | meta Json | _seq BigInt nn | _deleted Boolean nn]
"1" | "a" | 1 | null | <seq> | false
"2" | "b" | 1 | null | <seq> | false
(2 rows)

root:> INSERT INTO app.items (id, title, meta) VALUES (3, 'c', '{"k":"v"}') RETURNING id, qty * 10 AS tenfold, upper(title), meta->>'k' AS k, _seq > 0 AS has_seq;
[id BigInt pk,nn,uq | tenfold BigInt | upper(app.items.title) Text | k Text | has_seq Boolean]
"3" | "10" | "C" | "v" | true
(1 row)

# Generated keys come back: the point of RETURNING.
root:> CREATE TABLE app.notes (id BIGINT AUTO_INCREMENT PRIMARY KEY, body TEXT, owner TEXT DEFAULT CURRENT_USER());
ok 0: Shared table app.notes created successfully

root:> INSERT INTO app.notes (body) VALUES ('hello') RETURNING id > 0 AS has_id, body, owner;
[has_id Boolean | body Text | owner Text]
true | "hello" | "root"
(1 row)

root:> UPDATE app.items SET qty = 5 WHERE id = 1 RETURNING id, qty;
[id BigInt pk,nn,uq | qty Int]
"1" | 5
(1 row)

# Setting the value a row already has writes nothing: no row, count 0.
root:> UPDATE app.items SET qty = 5 WHERE id = 1 RETURNING id, qty;
[id BigInt pk,nn,uq | qty Int]
(0 rows)

root:> UPDATE app.items SET qty = qty + 1 WHERE id >= 2 RETURNING items.id, app.items.qty, _deleted;
[id BigInt pk,nn,uq | qty Int | _deleted Boolean nn]
"2" | 2 | false
"3" | 2 | false
(2 rows)

root:> DELETE FROM app.items WHERE id = 2 RETURNING id, title, qty, _deleted;
[id BigInt pk,nn,uq | title Text | qty Int | _deleted Boolean nn]
"2" | "b" | 2 | true
(1 row)

root:> DELETE FROM app.items WHERE id = 2 RETURNING id;
[id BigInt pk,nn,uq]
(0 rows)

root:> SELECT id, title, qty FROM app.items ORDER BY id;
[id BigInt pk,nn,uq | title Text | qty Int]
"1" | "a" | 5
"3" | "c" | 2
(2 rows)

# In a batch, a statement with RETURNING keeps its place; plain DML is summed
# at the end.
root:> INSERT INTO app.items (id, title) VALUES (10, 'x') RETURNING id; INSERT INTO app.items (id, title) VALUES (11, 'y'); SELECT count(*) AS c FROM app.items;
[id BigInt pk,nn,uq]
"10"
(1 row)
[c BigInt]
"4"
(1 row)
ok 1: Inserted 1 row(s)

# A bad RETURNING item fails the statement before anything is written.
root:> INSERT INTO app.items (id, title) VALUES (20, 'z') RETURNING nope;
error 400 SQL_EXECUTION_ERROR: Schema error: No field named nope.\nValid fields are app.items.id, app.items.title, app.items.qty, app.items.meta, app.items._seq, app.items._deleted.

root:> UPDATE app.items SET qty = 99 WHERE id = 10 RETURNING nope;
error 400 SQL_EXECUTION_ERROR: Schema error: No field named nope.\nValid fields are app.items.id, app.items.title, app.items.qty, app.items.meta, app.items._seq, app.items._deleted.

root:> DELETE FROM app.items WHERE id = 10 RETURNING nope;
error 400 SQL_EXECUTION_ERROR: Schema error: No field named nope.\nValid fields are app.items.id, app.items.title, app.items.qty, app.items.meta, app.items._seq, app.items._deleted.

root:> SELECT id, qty FROM app.items WHERE id IN (10, 20) ORDER BY id;
[id BigInt pk,nn,uq | qty Int]
"10" | 1
(1 row)

# The hidden row key of a table without a PRIMARY KEY is never returned.
root:> CREATE TABLE app.log (line TEXT);
ok 0: Shared table app.log created successfully

root:> INSERT INTO app.log VALUES ('one') RETURNING *;
[line Text | _seq BigInt nn | _deleted Boolean nn]
"one" | <seq> | false
(1 row)

root:> INSERT INTO app.log VALUES ('two') RETURNING _rowid;
error 400 SQL_EXECUTION_ERROR: Schema error: No field named _rowid.\nValid fields are app.log.line, app.log._seq, app.log._deleted.

# USER tables: the caller's own partition, also through EXECUTE AS USER.
user: alice Alice-pass-123

root:> CREATE USER alice WITH PASSWORD 'Alice-pass-123' ROLE user;
ok 0: User 'alice' created

root:> CREATE USER TABLE app.inbox (id BIGINT PRIMARY KEY, body TEXT, owner TEXT DEFAULT CURRENT_USER());
ok 0: User table app.inbox created successfully

alice:> INSERT INTO app.inbox (id, body) VALUES (1, 'mine') RETURNING id, owner;
[id BigInt pk,nn,uq | owner Text]
"1" | "alice"
(1 row)

root:> EXECUTE AS USER 'alice' (UPDATE app.inbox SET body = 'edited' WHERE id = 1 RETURNING body, owner);
[body Text | owner Text]
"edited" | "alice"
(1 row)

alice:> DELETE FROM app.inbox WHERE id = 1 RETURNING id, body, _deleted;
[id BigInt pk,nn,uq | body Text | _deleted Boolean nn]
"1" | "edited" | true
(1 row)

# STREAM tables append only; RETURNING works on their INSERT.
root:> CREATE STREAM TABLE app.ticks (id BIGINT PRIMARY KEY, v INT) WITH (TTL_SECONDS = 3600);
ok 0: Stream table app.ticks created successfully

root:> INSERT INTO app.ticks VALUES (1, 7) RETURNING v;
[v Int]
7
(1 row)
