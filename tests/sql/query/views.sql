# Views (sql.md §2.6a): a stored query, planned and evaluated as the caller
# each time a statement names it. Over a USER table each caller sees their
# own rows; SHARED tables keep their access level. No writes through a
# view; views are listed in system.tables with their definition. The
# flushed modes of this suite read the same rows from Parquet.

user: alice Alice-pass-123
user: bob Bob-pass-12345
user: sam Sam-pass-12345
mask: created_at, updated_at

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE USER alice WITH PASSWORD 'Alice-pass-123' ROLE user;
ok 0: User 'alice' created

root:> CREATE USER bob WITH PASSWORD 'Bob-pass-12345' ROLE user;
ok 0: User 'bob' created

root:> CREATE USER sam WITH PASSWORD 'Sam-pass-12345' ROLE service;
ok 0: User 'sam' created

root:> CREATE USER TABLE app.messages (id BIGINT PRIMARY KEY, room TEXT, body TEXT, meta JSON);
ok 0: User table app.messages created successfully

root:> CREATE SHARED TABLE app.rooms (room TEXT PRIMARY KEY, title TEXT) WITH (ACCESS_LEVEL = 'PUBLIC');
ok 0: Shared table app.rooms created successfully

root:> CREATE SHARED TABLE app.secrets (id BIGINT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'DBA');
ok 0: Shared table app.secrets created successfully

root:> INSERT INTO app.rooms VALUES ('a', 'Room A'), ('b', 'Room B');
ok 2: Inserted 2 row(s)

alice:> INSERT INTO app.messages VALUES (1, 'a', 'hi from alice', '{"tool":"x"}'), (2, 'b', 'alice in b', NULL);
ok 2: Inserted 2 row(s)

bob:> INSERT INTO app.messages VALUES (1, 'a', 'hi from bob', '{"tool":"y"}');
ok 1: Inserted 1 row(s)

# A view over a USER table joined with a SHARED one.
sam:> CREATE VIEW app.inbox AS SELECT m.id, r.title, m.body, m.meta->>'tool' AS tool FROM app.messages m JOIN app.rooms r ON m.room = r.room;
ok 0: View app.inbox created successfully

alice:> SELECT * FROM app.inbox ORDER BY id;
[id BigInt pk,nn,uq | title Text | body Text | tool Text]
"1" | "Room A" | "hi from alice" | "x"
"2" | "Room B" | "alice in b" | null
(2 rows)

bob:> SELECT * FROM app.inbox ORDER BY id;
[id BigInt pk,nn,uq | title Text | body Text | tool Text]
"1" | "Room A" | "hi from bob" | "y"
(1 row)

# EXECUTE AS USER keeps its rule through a view: this one joins a SHARED
# table.
root:> EXECUTE AS USER 'bob' (SELECT id, body FROM app.inbox);
error 400 SQL_EXECUTION_ERROR: EXECUTE AS USER is not allowed on SHARED tables

alice:> SELECT v.title, count(*) AS c FROM app.inbox v GROUP BY v.title ORDER BY v.title;
[title Text | c BigInt]
"Room A" | "1"
"Room B" | "1"
(2 rows)

# Views of views, in subqueries and with the current namespace.
sam:> CREATE VIEW app.room_a AS SELECT id, body FROM app.inbox WHERE title = 'Room A';
ok 0: View app.room_a created successfully

alice:> SELECT body FROM app.room_a;
[body Text]
"hi from alice"
(1 row)

alice:> SELECT count(*) AS c FROM app.messages WHERE id IN (SELECT id FROM app.room_a);
[c BigInt]
"1"
(1 row)

namespace: app

alice:> SELECT id FROM inbox ORDER BY id;
[id BigInt pk,nn,uq]
"1"
"2"
(2 rows)

namespace:

# A view over a table the caller may not read fails as that table does.
root:> CREATE VIEW app.hidden AS SELECT * FROM app.secrets;
ok 0: View app.hidden created successfully

alice:> SELECT * FROM app.hidden;
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'app.secrets'

root:> SELECT * FROM app.hidden;
[id BigInt pk,nn,uq | v Text | _seq BigInt nn | _deleted Boolean nn]
(0 rows)

# Creating, replacing, dropping, and their errors.
sam:> CREATE VIEW app.inbox AS SELECT 1 AS x;
error 400 SQL_EXECUTION_ERROR: View 'app.inbox' already exists

sam:> CREATE VIEW IF NOT EXISTS app.inbox AS SELECT 1 AS x;
ok 0: View app.inbox already exists (skipped)

sam:> CREATE OR REPLACE VIEW app.room_a AS SELECT id FROM app.inbox WHERE title = 'Room A' ORDER BY id;
ok 0: View app.room_a replaced successfully

alice:> SELECT * FROM app.room_a;
[id BigInt pk,nn,uq]
"1"
(1 row)

sam:> CREATE VIEW app.rooms AS SELECT 1 AS x;
error 400 SQL_EXECUTION_ERROR: 'app.rooms' is a table, not a view

sam:> CREATE VIEW app.broken AS SELECT nope FROM app.rooms;
error 400 SQL_EXECUTION_ERROR: Schema error: No field named nope.\nValid fields are app.rooms.room, app.rooms.title, app.rooms._seq, app.rooms._deleted.

sam:> CREATE VIEW nowhere.v AS SELECT 1 AS x;
error 400 SQL_EXECUTION_ERROR: Namespace 'nowhere' not found

alice:> CREATE VIEW app.mine AS SELECT 1 AS x;
error 403 PERMISSION_DENIED: Insufficient privileges for CREATE VIEW (requires role service, dba or system)

root:> CREATE TABLE app.inbox (id INT PRIMARY KEY);
error 400 SQL_EXECUTION_ERROR: 'app.inbox' is a view, not a table

root:> DROP TABLE app.inbox;
error 400 SQL_EXECUTION_ERROR: 'app.inbox' is a view, not a table; use DROP VIEW

sam:> DROP VIEW app.rooms;
error 400 SQL_EXECUTION_ERROR: 'app.rooms' is a table, not a view

# A view's unqualified table names are its own namespace's (stored
# qualified), whatever namespace a later statement runs in; CTE names stay.
namespace: app

sam:> CREATE VIEW room_names AS SELECT room FROM rooms ORDER BY room;
ok 0: View app.room_names created successfully

sam:> CREATE VIEW app.room_count AS WITH r AS (SELECT room FROM rooms) SELECT count(*) AS c FROM r;
ok 0: View app.room_count created successfully

namespace:

alice:> SELECT * FROM app.room_names;
[room Text pk,nn,uq]
"a"
"b"
(2 rows)

alice:> SELECT * FROM app.room_count;
[c BigInt]
"2"
(1 row)

# A view may not lead back to itself.
sam:> CREATE VIEW app.c1 AS SELECT 1 AS x;
ok 0: View app.c1 created successfully

sam:> CREATE VIEW app.c2 AS SELECT x FROM app.c1;
ok 0: View app.c2 created successfully

sam:> CREATE OR REPLACE VIEW app.c1 AS SELECT x FROM app.c2;
error 400 SQL_EXECUTION_ERROR: View 'app.c1' refers to itself (app.c1 → app.c2 → app.c1)

sam:> CREATE VIEW app.c3 AS SELECT * FROM app.c3;
error 400 TABLE_NOT_FOUND: Table 'app.c3' not found

alice:> SELECT * FROM app.c2;
[x BigInt]
"1"
(1 row)

# No writes through a view.
alice:> INSERT INTO app.inbox VALUES (9, 'x', 'y', 'z');
error 400 SQL_EXECUTION_ERROR: 'app.inbox' is a view: INSERT, UPDATE and DELETE are not supported on views

alice:> UPDATE app.inbox SET body = 'x' WHERE id = 1;
error 400 SQL_EXECUTION_ERROR: 'app.inbox' is a view: INSERT, UPDATE and DELETE are not supported on views

alice:> DELETE FROM app.room_a WHERE id = 1;
error 400 SQL_EXECUTION_ERROR: 'app.room_a' is a view: INSERT, UPDATE and DELETE are not supported on views

root:> SELECT namespace_id, table_name, table_type, options FROM system.tables WHERE table_type = 'view' ORDER BY table_name;
[namespace_id Text nn | table_name Text nn | table_type Text nn | options Json]
"app" | "c1" | "view" | "{\"sql\":\"SELECT 1 AS x\"}"
"app" | "c2" | "view" | "{\"sql\":\"SELECT x FROM app.c1\"}"
"app" | "hidden" | "view" | "{\"sql\":\"SELECT * FROM app.secrets\"}"
"app" | "inbox" | "view" | "{\"sql\":\"SELECT m.id, r.title, m.body, m.meta ->> 'tool' AS tool FROM app.messages m JOIN app.rooms r ON m.room = r.room\"}"
"app" | "room_a" | "view" | "{\"sql\":\"SELECT id FROM app.inbox WHERE title = 'Room A' ORDER BY id\"}"
"app" | "room_count" | "view" | "{\"sql\":\"WITH r AS (SELECT room FROM app.rooms) SELECT count(*) AS c FROM r\"}"
"app" | "room_names" | "view" | "{\"sql\":\"SELECT room FROM app.rooms ORDER BY room\"}"
(7 rows)

sam:> DROP VIEW app.room_a;
ok 0: View app.room_a dropped successfully

sam:> DROP VIEW app.room_a;
error 400 SQL_EXECUTION_ERROR: View 'app.room_a' not found

sam:> DROP VIEW IF EXISTS app.room_a;
ok 0: View app.room_a does not exist (skipped)

alice:> SELECT * FROM app.room_a;
error 400 TABLE_NOT_FOUND: Table 'app.room_a' not found

# Dropping a namespace takes its views with it.
root:> DROP NAMESPACE app CASCADE;
ok 0: Namespace 'app' dropped successfully

root:> SELECT count(*) AS c FROM system.tables WHERE table_type = 'view';
[c BigInt]
"0"
(1 row)

# A namespace holding only views has no tables: it drops without CASCADE,
# and its views go with it.
root:> CREATE NAMESPACE only_views;
ok 0: Namespace 'only_views' created successfully

sam:> CREATE VIEW only_views.v AS SELECT 1 AS x;
ok 0: View only_views.v created successfully

root:> DROP NAMESPACE only_views;
ok 0: Namespace 'only_views' dropped successfully

root:> SELECT count(*) AS c FROM system.tables WHERE namespace_id = 'only_views';
[c BigInt]
"0"
(1 row)

root:> CREATE NAMESPACE only_views;
ok 0: Namespace 'only_views' created successfully

sam:> SELECT * FROM only_views.v;
error 400 TABLE_NOT_FOUND: Table 'only_views.v' not found
