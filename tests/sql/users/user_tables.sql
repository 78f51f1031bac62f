# USER tables (sql.md §2.5, §3.5; wire-protocol.md §5.6 first row): one
# logical table whose rows belong to the user that wrote them. alice and bob
# (role user), dan (dba) and root (system) all write the same primary keys;
# every statement shape sees and touches the caller's own rows only.

root:> CREATE USER alice WITH PASSWORD 'alice-secret-1' ROLE user;
ok 0: User 'alice' created

root:> CREATE USER bob WITH PASSWORD 'bob-secret-123' ROLE user;
ok 0: User 'bob' created

root:> CREATE USER dan WITH PASSWORD 'dan-secret-123' ROLE dba;
ok 0: User 'dan' created

user: alice alice-secret-1
user: bob bob-secret-123
user: dan dan-secret-123

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

# The two ways to create a USER table: the seed form with `FLUSH ROWS n`
# (sql.md §2.2) and `WITH (TYPE = 'USER', FLUSH_POLICY = 'rows:n')` (§2.1).
# `owner` defaults to CURRENT_USER(), the effective user (§2.4).
root:> CREATE USER TABLE app.notes (
    id BIGINT PRIMARY KEY,
    body TEXT,
    owner TEXT DEFAULT CURRENT_USER()
) FLUSH ROWS 10;
ok 0: User table app.notes created successfully

root:> CREATE TABLE app.tags (id BIGINT PRIMARY KEY, tag TEXT) WITH (TYPE = 'USER', FLUSH_POLICY = 'rows:10');
ok 0: User table app.tags created successfully

root:> SELECT table_name, table_type, options FROM system.tables WHERE namespace_id = 'app' ORDER BY table_name;
[table_name Text nn | table_type Text nn | options Json]
"notes" | "user" | "{\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10\",\"storage_id\":\"local\"}"
"tags" | "user" | "{\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10\",\"storage_id\":\"local\"}"
(2 rows)

# Everyone inserts ids 1.. into the same table: PKs are unique per user only.
alice:> INSERT INTO app.notes (id, body) VALUES (1, 'a1'), (2, 'a2'), (3, 'a3');
ok 3: Inserted 3 row(s)

bob:> INSERT INTO app.notes (id, body) VALUES (1, 'b1'), (2, 'b2');
ok 2: Inserted 2 row(s)

dan:> INSERT INTO app.notes (id, body) VALUES (1, 'd1');
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.notes (id, body) VALUES (1, 'r1'), (7, 'r7');
ok 2: Inserted 2 row(s)

alice:> INSERT INTO app.tags VALUES (1, 'red'), (3, 'blue');
ok 2: Inserted 2 row(s)

bob:> INSERT INTO app.tags VALUES (1, 'green'), (2, 'pink'), (3, 'gray');
ok 3: Inserted 3 row(s)

# SELECT *: own rows only, for every role (no implicit cross-user reads,
# not even for dba or system).
alice:> SELECT * FROM app.notes ORDER BY id;
[id BigInt pk,nn,uq | body Text | owner Text | _seq BigInt nn | _deleted Boolean nn]
"1" | "a1" | "alice" | <seq> | false
"2" | "a2" | "alice" | <seq> | false
"3" | "a3" | "alice" | <seq> | false
(3 rows)

bob:> SELECT * FROM app.notes ORDER BY id;
[id BigInt pk,nn,uq | body Text | owner Text | _seq BigInt nn | _deleted Boolean nn]
"1" | "b1" | "bob" | <seq> | false
"2" | "b2" | "bob" | <seq> | false
(2 rows)

dan:> SELECT * FROM app.notes ORDER BY id;
[id BigInt pk,nn,uq | body Text | owner Text | _seq BigInt nn | _deleted Boolean nn]
"1" | "d1" | "dan" | <seq> | false
(1 row)

root:> SELECT * FROM app.notes ORDER BY id;
[id BigInt pk,nn,uq | body Text | owner Text | _seq BigInt nn | _deleted Boolean nn]
"1" | "r1" | "root" | <seq> | false
"7" | "r7" | "root" | <seq> | false
(2 rows)

# CURRENT_USER() is the caller, in a projection and in WHERE.
alice:> SELECT CURRENT_USER() AS me, count(*) AS n FROM app.notes WHERE owner = CURRENT_USER();
[me Text | n BigInt]
"alice" | "3"
(1 row)

bob:> SELECT id FROM app.notes WHERE owner <> CURRENT_USER();
[id BigInt pk,nn,uq]
(0 rows)

# Point lookups on the PK hit the caller's partition.
alice:> SELECT body FROM app.notes WHERE id = 1;
[body Text]
"a1"
(1 row)

bob:> SELECT body FROM app.notes WHERE id = 3;
[body Text]
(0 rows)

bob:> SELECT body FROM app.notes WHERE id IN (1, 2, 3) ORDER BY id;
[body Text]
"b1"
"b2"
(2 rows)

# Aggregates count the caller's rows only.
alice:> SELECT count(*) AS n, sum(id) AS s, min(body) AS lo, max(body) AS hi FROM app.notes;
[n BigInt | s BigInt | lo Text | hi Text]
"3" | "6" | "a1" | "a3"
(1 row)

bob:> SELECT count(*) AS n, sum(id) AS s, min(body) AS lo, max(body) AS hi FROM app.notes;
[n BigInt | s BigInt | lo Text | hi Text]
"2" | "3" | "b1" | "b2"
(1 row)

dan:> SELECT count(*) AS n FROM app.notes;
[n BigInt]
"1"
(1 row)

bob:> SELECT owner, count(*) AS n FROM app.notes GROUP BY owner;
[owner Text | n BigInt]
"bob" | "2"
(1 row)

# Joins (two USER tables, and a self-join) stay inside the partition.
alice:> SELECT n.id, n.body, t.tag FROM app.notes n JOIN app.tags t ON n.id = t.id ORDER BY n.id;
[id BigInt pk,nn,uq | body Text | tag Text]
"1" | "a1" | "red"
"3" | "a3" | "blue"
(2 rows)

bob:> SELECT n.id, n.body, t.tag FROM app.notes n LEFT JOIN app.tags t ON n.id = t.id ORDER BY n.id;
[id BigInt pk,nn,uq | body Text | tag Text]
"1" | "b1" | "green"
"2" | "b2" | "pink"
(2 rows)

bob:> SELECT t.id, t.tag, n.body FROM app.tags t LEFT JOIN app.notes n ON n.id = t.id ORDER BY t.id;
[id BigInt pk,nn,uq | tag Text | body Text]
"1" | "green" | "b1"
"2" | "pink" | "b2"
"3" | "gray" | null
(3 rows)

alice:> SELECT a.id, b.id AS next_id FROM app.notes a JOIN app.notes b ON b.id = a.id + 1 ORDER BY a.id;
[id BigInt pk,nn,uq | next_id BigInt pk,nn,uq]
"1" | "2"
"2" | "3"
(2 rows)

# Subqueries, CTEs and UNION too.
bob:> SELECT id FROM app.tags WHERE id NOT IN (SELECT id FROM app.notes) ORDER BY id;
[id BigInt pk,nn,uq]
"3"
(1 row)

alice:> WITH mine AS (SELECT id, body FROM app.notes WHERE id > 1) SELECT count(*) AS n FROM mine;
[n BigInt]
"2"
(1 row)

alice:> SELECT body AS v FROM app.notes UNION ALL SELECT tag FROM app.tags ORDER BY v;
[v Text]
"a1"
"a2"
"a3"
"blue"
"red"
(5 rows)

# `_seq` lookups.
bob:> SELECT count(*) AS n FROM app.notes WHERE _seq > 0;
[n BigInt]
"2"
(1 row)

# Duplicate PK within one's own partition: refused (sql.md §3.1); the same key
# is free in another user's partition.
alice:> INSERT INTO app.notes (id, body) VALUES (2, 'again');
error 400 SQL_EXECUTION_ERROR: Duplicate primary key value '2' in table 'app.notes'

alice:> INSERT INTO app.notes (id, body) VALUES (4, 'a4'), (4, 'a4 twice');
error 400 SQL_EXECUTION_ERROR: Duplicate primary key value '4' in table 'app.notes'

bob:> INSERT INTO app.notes (id, body) VALUES (3, 'b3');
ok 1: Inserted 1 row(s)

alice:> SELECT id, body FROM app.notes ORDER BY id;
[id BigInt pk,nn,uq | body Text]
"1" | "a1"
"2" | "a2"
"3" | "a3"
(3 rows)

bob:> SELECT id, body FROM app.notes ORDER BY id;
[id BigInt pk,nn,uq | body Text]
"1" | "b1"
"2" | "b2"
"3" | "b3"
(3 rows)

# INSERT … SELECT reads and writes the caller's partition.
bob:> INSERT INTO app.tags SELECT id + 10, body FROM app.notes;
ok 3: Inserted 3 row(s)

bob:> SELECT id, tag FROM app.tags WHERE id > 10 ORDER BY id;
[id BigInt pk,nn,uq | tag Text]
"11" | "b1"
"12" | "b2"
"13" | "b3"
(3 rows)

alice:> SELECT count(*) AS n FROM app.tags WHERE id > 10;
[n BigInt]
"0"
(1 row)

# UPDATE without WHERE touches the caller's rows only.
alice:> UPDATE app.notes SET body = body || '!';
ok 3: Updated 3 row(s)

alice:> SELECT id, body FROM app.notes ORDER BY id;
[id BigInt pk,nn,uq | body Text]
"1" | "a1!"
"2" | "a2!"
"3" | "a3!"
(3 rows)

bob:> SELECT id, body FROM app.notes ORDER BY id;
[id BigInt pk,nn,uq | body Text]
"1" | "b1"
"2" | "b2"
"3" | "b3"
(3 rows)

root:> SELECT id, body FROM app.notes ORDER BY id;
[id BigInt pk,nn,uq | body Text]
"1" | "r1"
"7" | "r7"
(2 rows)

# UPDATE with a WHERE matching a key only another user has: nothing.
bob:> UPDATE app.notes SET body = 'hacked' WHERE id = 3 AND owner = 'alice';
ok 0: Updated 0 row(s)

dan:> UPDATE app.notes SET body = 'hacked' WHERE id IN (2, 3);
ok 0: Updated 0 row(s)

alice:> SELECT id, body FROM app.notes WHERE id IN (2, 3) ORDER BY id;
[id BigInt pk,nn,uq | body Text]
"2" | "a2!"
"3" | "a3!"
(2 rows)

# DELETE without WHERE deletes the caller's rows only.
bob:> DELETE FROM app.notes;
ok 3: Deleted 3 row(s)

bob:> SELECT count(*) AS n FROM app.notes;
[n BigInt]
"0"
(1 row)

alice:> SELECT count(*) AS n FROM app.notes;
[n BigInt]
"3"
(1 row)

dan:> SELECT id, body FROM app.notes;
[id BigInt pk,nn,uq | body Text]
"1" | "d1"
(1 row)

# DELETE WHERE on a key of someone else's: 0 rows.
dan:> DELETE FROM app.notes WHERE id = 3;
ok 0: Deleted 0 row(s)

alice:> DELETE FROM app.notes WHERE id = 1;
ok 1: Deleted 1 row(s)

alice:> SELECT id, body FROM app.notes ORDER BY id;
[id BigInt pk,nn,uq | body Text]
"2" | "a2!"
"3" | "a3!"
(2 rows)

root:> SELECT id, body FROM app.notes ORDER BY id;
[id BigInt pk,nn,uq | body Text]
"1" | "r1"
"7" | "r7"
(2 rows)

# A deleted key is free again in its partition (sql.md §3.3).
bob:> INSERT INTO app.notes (id, body) VALUES (1, 'b1 again');
ok 1: Inserted 1 row(s)

bob:> SELECT id, body, owner FROM app.notes;
[id BigInt pk,nn,uq | body Text | owner Text]
"1" | "b1 again" | "bob"
(1 row)

# `owner` is an ordinary column: writing another name there reaches nobody.
bob:> INSERT INTO app.notes (id, body, owner) VALUES (50, 'fake', 'alice');
ok 1: Inserted 1 row(s)

alice:> SELECT count(*) AS n FROM app.notes WHERE id = 50;
[n BigInt]
"0"
(1 row)

bob:> SELECT id, owner FROM app.notes WHERE id = 50;
[id BigInt pk,nn,uq | owner Text]
"50" | "alice"
(1 row)

# STREAM tables are partitioned the same way, and append-only (sql.md §2.5).
root:> CREATE STREAM TABLE app.typing (room TEXT, who TEXT DEFAULT CURRENT_USER()) TTL 3600s;
ok 0: Stream table app.typing created successfully

alice:> INSERT INTO app.typing (room) VALUES ('lobby'), ('kitchen');
ok 2: Inserted 2 row(s)

bob:> INSERT INTO app.typing (room) VALUES ('lobby');
ok 1: Inserted 1 row(s)

alice:> SELECT room, who FROM app.typing ORDER BY room;
[room Text | who Text]
"kitchen" | "alice"
"lobby" | "alice"
(2 rows)

bob:> SELECT room, who FROM app.typing ORDER BY room;
[room Text | who Text]
"lobby" | "bob"
(1 row)

dan:> SELECT count(*) AS n FROM app.typing;
[n BigInt]
"0"
(1 row)

bob:> UPDATE app.typing SET room = 'x';
error 400 SQL_EXECUTION_ERROR: STREAM tables are append-only

bob:> DELETE FROM app.typing;
error 400 SQL_EXECUTION_ERROR: STREAM tables are append-only

# USER tables have no ACCESS_LEVEL (sql.md §2.1: SHARED only).
root:> CREATE USER TABLE app.bad (id BIGINT PRIMARY KEY) WITH (ACCESS_LEVEL = 'PUBLIC');
error 400 SQL_EXECUTION_ERROR: ACCESS_LEVEL is only valid for SHARED tables
