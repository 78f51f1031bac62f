# EXECUTE AS USER 'name' (<one statement>) (sql.md §3.6; wire-protocol.md
# §5.6 last row). `as_user` is not part of the golden output, so each
# allowed call is checked by its effect: the rows the target sees afterwards
# (read back by root, role system, which may act as anyone).
# Hierarchy: self always; service → user, service; dba → user, service, dba;
# system → all; user → self only.

root:> CREATE USER u_user WITH PASSWORD 'u-user-secret-1' ROLE user;
ok 0: User 'u_user' created

root:> CREATE USER u_service WITH PASSWORD 'u-service-secret-1' ROLE service;
ok 0: User 'u_service' created

root:> CREATE USER u_dba WITH PASSWORD 'u-dba-secret-1' ROLE dba;
ok 0: User 'u_dba' created

root:> CREATE USER u_system WITH PASSWORD 'u-system-secret-1' ROLE system;
ok 0: User 'u_system' created

user: u_user u-user-secret-1
user: u_service u-service-secret-1
user: u_dba u-dba-secret-1
user: u_system u-system-secret-1

# Targets that never log in (sql.md §5 INTERNAL ROLE), one per role.
root:> CREATE USER t_user WITH INTERNAL ROLE user;
ok 0: User 't_user' created

root:> CREATE USER t_service WITH INTERNAL ROLE service;
ok 0: User 't_service' created

root:> CREATE USER t_dba WITH INTERNAL ROLE dba;
ok 0: User 't_dba' created

root:> CREATE USER t_system WITH INTERNAL ROLE system;
ok 0: User 't_system' created

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT, owner TEXT DEFAULT CURRENT_USER());
ok 0: User table app.notes created successfully

root:> CREATE SHARED TABLE app.board (id BIGINT PRIMARY KEY, body TEXT) WITH (ACCESS_LEVEL = 'PUBLIC');
ok 0: Shared table app.board created successfully

root:> CREATE STREAM TABLE app.events (kind TEXT, who TEXT DEFAULT CURRENT_USER()) TTL 1h;
ok 0: Stream table app.events created successfully

# ---------------------------------------------------------------------------
# Role user: itself only. Another target is refused even if it does not
# exist (no probing which accounts exist).
u_user:> EXECUTE AS USER u_user (INSERT INTO app.notes (id, body) VALUES (1, 'self by u_user'));
ok 1: Inserted 1 row(s)

u_user:> SELECT id, body, owner FROM app.notes;
[id BigInt pk,nn,uq | body Text | owner Text]
"1" | "self by u_user" | "u_user"
(1 row)

u_user:> EXECUTE AS USER t_user (INSERT INTO app.notes (id, body) VALUES (2, 'u_user as t_user'));
error 403 PERMISSION_DENIED: Role 'user' cannot execute as user 't_user'

u_user:> EXECUTE AS USER t_service (SELECT * FROM app.notes);
error 403 PERMISSION_DENIED: Role 'user' cannot execute as user 't_service'

u_user:> EXECUTE AS USER root (SELECT * FROM app.notes);
error 403 PERMISSION_DENIED: Role 'user' cannot execute as user 'root'

u_user:> EXECUTE AS USER ghost (SELECT * FROM app.notes);
error 403 PERMISSION_DENIED: Role 'user' cannot execute as user 'ghost'

# ---------------------------------------------------------------------------
# Role service: user and service targets.
u_service:> EXECUTE AS USER t_user (INSERT INTO app.notes (id, body) VALUES (10, 'u_service as t_user'));
ok 1: Inserted 1 row(s)

u_service:> EXECUTE AS USER t_service (INSERT INTO app.notes (id, body) VALUES (10, 'u_service as t_service'));
ok 1: Inserted 1 row(s)

u_service:> EXECUTE AS USER u_service (INSERT INTO app.notes (id, body) VALUES (10, 'u_service as self'));
ok 1: Inserted 1 row(s)

u_service:> EXECUTE AS USER t_dba (INSERT INTO app.notes (id, body) VALUES (10, 'u_service as t_dba'));
error 403 PERMISSION_DENIED: Role 'service' cannot execute as user 't_dba'

u_service:> EXECUTE AS USER t_system (SELECT * FROM app.notes);
error 403 PERMISSION_DENIED: Role 'service' cannot execute as user 't_system'

u_service:> EXECUTE AS USER root (SELECT * FROM app.notes);
error 403 PERMISSION_DENIED: Role 'service' cannot execute as user 'root'

# A service caller may probe: unknown targets are not found (sql.md §3.6).
u_service:> EXECUTE AS USER ghost (SELECT * FROM app.notes);
error 400 SQL_EXECUTION_ERROR: User 'ghost' not found

# The caller's own partition is untouched by what it did as others.
u_service:> SELECT id, body, owner FROM app.notes;
[id BigInt pk,nn,uq | body Text | owner Text]
"10" | "u_service as self" | "u_service"
(1 row)

# ---------------------------------------------------------------------------
# Role dba: also dba targets; not system.
u_dba:> EXECUTE AS USER t_user (INSERT INTO app.notes (id, body) VALUES (20, 'u_dba as t_user'));
ok 1: Inserted 1 row(s)

u_dba:> EXECUTE AS USER t_service (INSERT INTO app.notes (id, body) VALUES (20, 'u_dba as t_service'));
ok 1: Inserted 1 row(s)

u_dba:> EXECUTE AS USER t_dba (INSERT INTO app.notes (id, body) VALUES (20, 'u_dba as t_dba'));
ok 1: Inserted 1 row(s)

u_dba:> EXECUTE AS USER t_system (INSERT INTO app.notes (id, body) VALUES (20, 'u_dba as t_system'));
error 403 PERMISSION_DENIED: Role 'dba' cannot execute as user 't_system'

u_dba:> EXECUTE AS USER root (SELECT * FROM app.notes);
error 403 PERMISSION_DENIED: Role 'dba' cannot execute as user 'root'

u_dba:> SELECT count(*) AS n FROM app.notes;
[n BigInt]
"0"
(1 row)

# ---------------------------------------------------------------------------
# Role system: everyone, root included.
u_system:> EXECUTE AS USER t_user (INSERT INTO app.notes (id, body) VALUES (30, 'u_system as t_user'));
ok 1: Inserted 1 row(s)

u_system:> EXECUTE AS USER t_system (INSERT INTO app.notes (id, body) VALUES (30, 'u_system as t_system'));
ok 1: Inserted 1 row(s)

u_system:> EXECUTE AS USER root (INSERT INTO app.notes (id, body) VALUES (30, 'u_system as root'));
ok 1: Inserted 1 row(s)

u_system:> EXECUTE AS USER u_dba (INSERT INTO app.notes (id, body) VALUES (30, 'u_system as u_dba'));
ok 1: Inserted 1 row(s)

# ---------------------------------------------------------------------------
# The effects, partition by partition: each row landed with its target, and
# CURRENT_USER() (the `owner` default) was the target.
root:> EXECUTE AS USER t_user (SELECT id, body, owner FROM app.notes ORDER BY id);
[id BigInt pk,nn,uq | body Text | owner Text]
"10" | "u_service as t_user" | "t_user"
"20" | "u_dba as t_user" | "t_user"
"30" | "u_system as t_user" | "t_user"
(3 rows)

root:> EXECUTE AS USER t_service (SELECT id, body, owner FROM app.notes ORDER BY id);
[id BigInt pk,nn,uq | body Text | owner Text]
"10" | "u_service as t_service" | "t_service"
"20" | "u_dba as t_service" | "t_service"
(2 rows)

root:> EXECUTE AS USER t_dba (SELECT id, body, owner FROM app.notes ORDER BY id);
[id BigInt pk,nn,uq | body Text | owner Text]
"20" | "u_dba as t_dba" | "t_dba"
(1 row)

root:> EXECUTE AS USER t_system (SELECT id, body, owner FROM app.notes ORDER BY id);
[id BigInt pk,nn,uq | body Text | owner Text]
"30" | "u_system as t_system" | "t_system"
(1 row)

root:> EXECUTE AS USER u_user (SELECT id, body, owner FROM app.notes ORDER BY id);
[id BigInt pk,nn,uq | body Text | owner Text]
"1" | "self by u_user" | "u_user"
(1 row)

root:> EXECUTE AS USER u_service (SELECT id, body, owner FROM app.notes ORDER BY id);
[id BigInt pk,nn,uq | body Text | owner Text]
"10" | "u_service as self" | "u_service"
(1 row)

root:> EXECUTE AS USER u_dba (SELECT id, body, owner FROM app.notes ORDER BY id);
[id BigInt pk,nn,uq | body Text | owner Text]
"30" | "u_system as u_dba" | "u_dba"
(1 row)

root:> SELECT id, body, owner FROM app.notes ORDER BY id;
[id BigInt pk,nn,uq | body Text | owner Text]
"30" | "u_system as root" | "root"
(1 row)

root:> EXECUTE AS USER t_user (SELECT CURRENT_USER() AS me);
[me Text]
"t_user"
(1 row)

# ---------------------------------------------------------------------------
# UPDATE and DELETE run in the target's partition too.
u_service:> EXECUTE AS USER t_user (UPDATE app.notes SET body = body || ' (edited)');
ok 3: Updated 3 row(s)

u_service:> EXECUTE AS USER t_user (DELETE FROM app.notes WHERE id = 30);
ok 1: Deleted 1 row(s)

root:> EXECUTE AS USER t_user (SELECT id, body FROM app.notes ORDER BY id);
[id BigInt pk,nn,uq | body Text]
"10" | "u_service as t_user (edited)"
"20" | "u_dba as t_user (edited)"
(2 rows)

root:> EXECUTE AS USER t_service (SELECT id, body FROM app.notes ORDER BY id);
[id BigInt pk,nn,uq | body Text]
"10" | "u_service as t_service"
"20" | "u_dba as t_service"
(2 rows)

# PK uniqueness is checked in the target's partition.
u_dba:> EXECUTE AS USER t_user (INSERT INTO app.notes (id, body) VALUES (10, 'dup'));
error 400 SQL_EXECUTION_ERROR: Duplicate primary key value '10' in table 'app.notes'

# STREAM tables work; they stay append-only.
u_service:> EXECUTE AS USER t_user (INSERT INTO app.events (kind) VALUES ('login'));
ok 1: Inserted 1 row(s)

root:> EXECUTE AS USER t_user (SELECT kind, who FROM app.events);
[kind Text | who Text]
"login" | "t_user"
(1 row)

u_service:> SELECT count(*) AS n FROM app.events;
[n BigInt]
"0"
(1 row)

u_service:> EXECUTE AS USER t_user (DELETE FROM app.events);
error 400 SQL_EXECUTION_ERROR: STREAM tables are append-only

# ---------------------------------------------------------------------------
# The inner statement runs with role `user`: admin-only tables are refused
# even for a system caller acting as itself.
u_system:> EXECUTE AS USER u_system (SELECT user_id FROM system.users);
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'system.users'

u_dba:> EXECUTE AS USER t_dba (SELECT count(*) FROM system.stats);
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'system.stats'

u_dba:> EXECUTE AS USER t_user (SELECT count(*) AS n FROM system.tables WHERE namespace_id = 'app');
[n BigInt]
"3"
(1 row)

# ---------------------------------------------------------------------------
# SHARED tables are refused (sql.md §3.6), for reads, writes and joins.
u_system:> EXECUTE AS USER t_user (SELECT * FROM app.board);
error 400 SQL_EXECUTION_ERROR: EXECUTE AS USER is not allowed on SHARED tables

u_system:> EXECUTE AS USER t_user (INSERT INTO app.board VALUES (1, 'x'));
error 400 SQL_EXECUTION_ERROR: EXECUTE AS USER is not allowed on SHARED tables

u_dba:> EXECUTE AS USER t_user (SELECT n.id FROM app.notes n JOIN app.board b ON n.id = b.id);
error 400 SQL_EXECUTION_ERROR: EXECUTE AS USER is not allowed on SHARED tables

u_user:> EXECUTE AS USER u_user (UPDATE app.board SET body = 'y');
error 400 SQL_EXECUTION_ERROR: EXECUTE AS USER is not allowed on SHARED tables

root:> SELECT count(*) AS n FROM app.board;
[n BigInt]
"0"
(1 row)

# ---------------------------------------------------------------------------
# Unknown or dropped targets: `User 'x' not found` (400).
root:> EXECUTE AS USER nobody (SELECT * FROM app.notes);
error 400 SQL_EXECUTION_ERROR: User 'nobody' not found

root:> CREATE USER gone WITH INTERNAL ROLE user;
ok 0: User 'gone' created

root:> DROP USER gone;
ok 0: User 'gone' dropped (soft delete)

root:> EXECUTE AS USER gone (SELECT * FROM app.notes);
error 400 SQL_EXECUTION_ERROR: User 'gone' not found

# Names are case-sensitive.
root:> EXECUTE AS USER 'T_USER' (SELECT * FROM app.notes);
error 400 SQL_EXECUTION_ERROR: User 'T_USER' not found

# ---------------------------------------------------------------------------
# Syntax (sql.md §3.6): bare, single-quoted and double-quoted names,
# keywords in any case.
root:> EXECUTE AS USER t_user (SELECT count(*) AS n FROM app.notes);
[n BigInt]
"2"
(1 row)

root:> EXECUTE AS USER 't_user' (SELECT count(*) AS n FROM app.notes);
[n BigInt]
"2"
(1 row)

root:> EXECUTE AS USER "t_user" (SELECT count(*) AS n FROM app.notes);
[n BigInt]
"2"
(1 row)

root:> execute as user t_user (select count(*) as n from app.notes);
[n BigInt]
"2"
(1 row)

root:> Execute As User 't_user' (
    SELECT count(*) AS n
    FROM app.notes
    WHERE id > 0
);
[n BigInt]
"2"
(1 row)

root:> EXECUTE AS USER t_user (SELECT count(*) AS n FROM app.notes;);
[n BigInt]
"2"
(1 row)

# Exactly one inner SELECT/INSERT/UPDATE/DELETE, else
# INVALID_SQL `EXECUTE AS USER requires exactly one statement`.
root:> EXECUTE AS USER t_user (SELECT 1; SELECT 2);
error 400 INVALID_SQL: EXECUTE AS USER requires exactly one statement

root:> EXECUTE AS USER t_user ();
error 400 INVALID_SQL: EXECUTE AS USER requires exactly one statement

root:> EXECUTE AS USER t_user (CREATE USER TABLE app.x (id BIGINT PRIMARY KEY));
error 400 INVALID_SQL: EXECUTE AS USER requires exactly one statement

root:> EXECUTE AS USER t_user (DROP TABLE app.notes);
error 400 INVALID_SQL: EXECUTE AS USER requires exactly one statement

root:> EXECUTE AS USER t_user (CREATE USER x WITH INTERNAL ROLE user);
error 400 INVALID_SQL: EXECUTE AS USER requires exactly one statement

root:> EXECUTE AS USER t_user (EXECUTE AS USER t_service (SELECT 1));
error 400 INVALID_SQL: EXECUTE AS USER requires exactly one statement

root:> EXECUTE AS USER t_user (SHOW TABLES);
error 400 INVALID_SQL: EXECUTE AS USER requires exactly one statement

root:> EXECUTE AS USER t_user (EXPLAIN SELECT 1);
error 400 INVALID_SQL: EXECUTE AS USER requires exactly one statement

# Malformed forms.
root:> EXECUTE AS USER t_user SELECT 1;
error 400 INVALID_SQL: sql parser error: Expected: (, found: SELECT at Line: 1, Column: 24

root:> EXECUTE AS USER (SELECT 1);
error 400 INVALID_SQL: sql parser error: Expected: a name, found: ( at Line: 1, Column: 17

root:> EXECUTE AS USER t_user (SELECT 1;
error 400 INVALID_SQL: sql parser error: Expected: ')', found: EOF

# ---------------------------------------------------------------------------
# A target's record is remembered between statements, but never past a
# change to it: a new role and a drop take effect at once.
root:> CREATE USER t_moving WITH PASSWORD 't-moving-secret-1' ROLE user;
ok 0: User 't_moving' created

u_service:> EXECUTE AS USER t_moving (INSERT INTO app.notes (id, body) VALUES (40, 'u_service as t_moving'));
ok 1: Inserted 1 row(s)

u_service:> EXECUTE AS USER t_moving (SELECT id, body FROM app.notes ORDER BY id);
[id BigInt pk,nn,uq | body Text]
"40" | "u_service as t_moving"
(1 row)

root:> ALTER USER t_moving SET ROLE dba;
ok 0: User 't_moving' updated

u_service:> EXECUTE AS USER t_moving (SELECT id, body FROM app.notes ORDER BY id);
error 403 PERMISSION_DENIED: Role 'service' cannot execute as user 't_moving'

root:> ALTER USER t_moving SET ROLE user;
ok 0: User 't_moving' updated

u_service:> EXECUTE AS USER t_moving (SELECT id, body FROM app.notes ORDER BY id);
[id BigInt pk,nn,uq | body Text]
"40" | "u_service as t_moving"
(1 row)

root:> DROP USER t_moving;
ok 0: User 't_moving' dropped (soft delete)

u_service:> EXECUTE AS USER t_moving (SELECT id, body FROM app.notes ORDER BY id);
error 400 SQL_EXECUTION_ERROR: User 't_moving' not found
