# SHARED tables × ACCESS_LEVEL × role (wire-protocol.md §5.6; sql.md §2.1, §2.5).
# Reads: user → public; service → public, private, restricted; dba, system → all.
# Writes: user → none; service → all but dba; dba, system → all.
# Refusals: 403 PERMISSION_DENIED `Insufficient privileges to read table 'ns.t'`
# / `… to write to table 'ns.t'`.

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

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE SHARED TABLE app.t_public (id BIGINT PRIMARY KEY, who TEXT) WITH (ACCESS_LEVEL = 'PUBLIC');
ok 0: Shared table app.t_public created successfully

root:> CREATE SHARED TABLE app.t_private (id BIGINT PRIMARY KEY, who TEXT) WITH (ACCESS_LEVEL = 'PRIVATE');
ok 0: Shared table app.t_private created successfully

root:> CREATE SHARED TABLE app.t_restricted (id BIGINT PRIMARY KEY, who TEXT) WITH (ACCESS_LEVEL = 'RESTRICTED');
ok 0: Shared table app.t_restricted created successfully

root:> CREATE SHARED TABLE app.t_dba (id BIGINT PRIMARY KEY, who TEXT) WITH (ACCESS_LEVEL = 'DBA');
ok 0: Shared table app.t_dba created successfully

# No ACCESS_LEVEL: private (sql.md §2.1).
root:> CREATE SHARED TABLE app.t_default (id BIGINT PRIMARY KEY, who TEXT);
ok 0: Shared table app.t_default created successfully

root:> SELECT table_name, options FROM system.tables WHERE namespace_id = 'app' ORDER BY table_name;
[table_name Text nn | options Json]
"t_dba" | "{\"access_level\":\"dba\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}"
"t_default" | "{\"access_level\":\"private\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}"
"t_private" | "{\"access_level\":\"private\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}"
"t_public" | "{\"access_level\":\"public\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}"
"t_restricted" | "{\"access_level\":\"restricted\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}"
(5 rows)

root:> INSERT INTO app.t_public VALUES (0, 'root');
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.t_private VALUES (0, 'root');
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.t_restricted VALUES (0, 'root');
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.t_dba VALUES (0, 'root');
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.t_default VALUES (0, 'root');
ok 1: Inserted 1 row(s)

# ---------------------------------------------------------------------------
# Role user: read, then write (INSERT, UPDATE, DELETE), per level.
u_user:> SELECT id, who FROM app.t_public ORDER BY id;
[id BigInt pk,nn,uq | who Text]
"0" | "root"
(1 row)

u_user:> SELECT id, who FROM app.t_private ORDER BY id;
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'app.t_private'

u_user:> SELECT id, who FROM app.t_restricted ORDER BY id;
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'app.t_restricted'

u_user:> SELECT id, who FROM app.t_dba ORDER BY id;
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'app.t_dba'

u_user:> SELECT id, who FROM app.t_default ORDER BY id;
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'app.t_default'

u_user:> INSERT INTO app.t_public VALUES (1, 'u_user');
error 403 PERMISSION_DENIED: Insufficient privileges to write to table 'app.t_public'

u_user:> INSERT INTO app.t_private VALUES (1, 'u_user');
error 403 PERMISSION_DENIED: Insufficient privileges to write to table 'app.t_private'

u_user:> INSERT INTO app.t_restricted VALUES (1, 'u_user');
error 403 PERMISSION_DENIED: Insufficient privileges to write to table 'app.t_restricted'

u_user:> INSERT INTO app.t_dba VALUES (1, 'u_user');
error 403 PERMISSION_DENIED: Insufficient privileges to write to table 'app.t_dba'

u_user:> INSERT INTO app.t_default VALUES (1, 'u_user');
error 403 PERMISSION_DENIED: Insufficient privileges to write to table 'app.t_default'

u_user:> UPDATE app.t_public SET who = who || '+' WHERE id = 0;
error 403 PERMISSION_DENIED: Insufficient privileges to write to table 'app.t_public'

u_user:> UPDATE app.t_private SET who = who || '+' WHERE id = 0;
error 403 PERMISSION_DENIED: Insufficient privileges to write to table 'app.t_private'

u_user:> UPDATE app.t_restricted SET who = who || '+' WHERE id = 0;
error 403 PERMISSION_DENIED: Insufficient privileges to write to table 'app.t_restricted'

u_user:> UPDATE app.t_dba SET who = who || '+' WHERE id = 0;
error 403 PERMISSION_DENIED: Insufficient privileges to write to table 'app.t_dba'

u_user:> UPDATE app.t_default SET who = who || '+' WHERE id = 0;
error 403 PERMISSION_DENIED: Insufficient privileges to write to table 'app.t_default'

u_user:> DELETE FROM app.t_public WHERE id = 99;
error 403 PERMISSION_DENIED: Insufficient privileges to write to table 'app.t_public'

u_user:> DELETE FROM app.t_private WHERE id = 99;
error 403 PERMISSION_DENIED: Insufficient privileges to write to table 'app.t_private'

u_user:> DELETE FROM app.t_restricted WHERE id = 99;
error 403 PERMISSION_DENIED: Insufficient privileges to write to table 'app.t_restricted'

u_user:> DELETE FROM app.t_dba WHERE id = 99;
error 403 PERMISSION_DENIED: Insufficient privileges to write to table 'app.t_dba'

u_user:> DELETE FROM app.t_default WHERE id = 99;
error 403 PERMISSION_DENIED: Insufficient privileges to write to table 'app.t_default'

# ---------------------------------------------------------------------------
# Role service: read, then write (INSERT, UPDATE, DELETE), per level.
u_service:> SELECT id, who FROM app.t_public ORDER BY id;
[id BigInt pk,nn,uq | who Text]
"0" | "root"
(1 row)

u_service:> SELECT id, who FROM app.t_private ORDER BY id;
[id BigInt pk,nn,uq | who Text]
"0" | "root"
(1 row)

u_service:> SELECT id, who FROM app.t_restricted ORDER BY id;
[id BigInt pk,nn,uq | who Text]
"0" | "root"
(1 row)

u_service:> SELECT id, who FROM app.t_dba ORDER BY id;
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'app.t_dba'

u_service:> SELECT id, who FROM app.t_default ORDER BY id;
[id BigInt pk,nn,uq | who Text]
"0" | "root"
(1 row)

u_service:> INSERT INTO app.t_public VALUES (2, 'u_service');
ok 1: Inserted 1 row(s)

u_service:> INSERT INTO app.t_private VALUES (2, 'u_service');
ok 1: Inserted 1 row(s)

u_service:> INSERT INTO app.t_restricted VALUES (2, 'u_service');
ok 1: Inserted 1 row(s)

u_service:> INSERT INTO app.t_dba VALUES (2, 'u_service');
error 403 PERMISSION_DENIED: Insufficient privileges to write to table 'app.t_dba'

u_service:> INSERT INTO app.t_default VALUES (2, 'u_service');
ok 1: Inserted 1 row(s)

u_service:> UPDATE app.t_public SET who = who || '+' WHERE id = 0;
ok 1: Updated 1 row(s)

u_service:> UPDATE app.t_private SET who = who || '+' WHERE id = 0;
ok 1: Updated 1 row(s)

u_service:> UPDATE app.t_restricted SET who = who || '+' WHERE id = 0;
ok 1: Updated 1 row(s)

u_service:> UPDATE app.t_dba SET who = who || '+' WHERE id = 0;
error 403 PERMISSION_DENIED: Insufficient privileges to write to table 'app.t_dba'

u_service:> UPDATE app.t_default SET who = who || '+' WHERE id = 0;
ok 1: Updated 1 row(s)

u_service:> DELETE FROM app.t_public WHERE id = 99;
ok 0: Deleted 0 row(s)

u_service:> DELETE FROM app.t_private WHERE id = 99;
ok 0: Deleted 0 row(s)

u_service:> DELETE FROM app.t_restricted WHERE id = 99;
ok 0: Deleted 0 row(s)

u_service:> DELETE FROM app.t_dba WHERE id = 99;
error 403 PERMISSION_DENIED: Insufficient privileges to write to table 'app.t_dba'

u_service:> DELETE FROM app.t_default WHERE id = 99;
ok 0: Deleted 0 row(s)

# ---------------------------------------------------------------------------
# Role dba: read, then write (INSERT, UPDATE, DELETE), per level.
u_dba:> SELECT id, who FROM app.t_public ORDER BY id;
[id BigInt pk,nn,uq | who Text]
"0" | "root+"
"2" | "u_service"
(2 rows)

u_dba:> SELECT id, who FROM app.t_private ORDER BY id;
[id BigInt pk,nn,uq | who Text]
"0" | "root+"
"2" | "u_service"
(2 rows)

u_dba:> SELECT id, who FROM app.t_restricted ORDER BY id;
[id BigInt pk,nn,uq | who Text]
"0" | "root+"
"2" | "u_service"
(2 rows)

u_dba:> SELECT id, who FROM app.t_dba ORDER BY id;
[id BigInt pk,nn,uq | who Text]
"0" | "root"
(1 row)

u_dba:> SELECT id, who FROM app.t_default ORDER BY id;
[id BigInt pk,nn,uq | who Text]
"0" | "root+"
"2" | "u_service"
(2 rows)

u_dba:> INSERT INTO app.t_public VALUES (3, 'u_dba');
ok 1: Inserted 1 row(s)

u_dba:> INSERT INTO app.t_private VALUES (3, 'u_dba');
ok 1: Inserted 1 row(s)

u_dba:> INSERT INTO app.t_restricted VALUES (3, 'u_dba');
ok 1: Inserted 1 row(s)

u_dba:> INSERT INTO app.t_dba VALUES (3, 'u_dba');
ok 1: Inserted 1 row(s)

u_dba:> INSERT INTO app.t_default VALUES (3, 'u_dba');
ok 1: Inserted 1 row(s)

u_dba:> UPDATE app.t_public SET who = who || '+' WHERE id = 0;
ok 1: Updated 1 row(s)

u_dba:> UPDATE app.t_private SET who = who || '+' WHERE id = 0;
ok 1: Updated 1 row(s)

u_dba:> UPDATE app.t_restricted SET who = who || '+' WHERE id = 0;
ok 1: Updated 1 row(s)

u_dba:> UPDATE app.t_dba SET who = who || '+' WHERE id = 0;
ok 1: Updated 1 row(s)

u_dba:> UPDATE app.t_default SET who = who || '+' WHERE id = 0;
ok 1: Updated 1 row(s)

u_dba:> DELETE FROM app.t_public WHERE id = 99;
ok 0: Deleted 0 row(s)

u_dba:> DELETE FROM app.t_private WHERE id = 99;
ok 0: Deleted 0 row(s)

u_dba:> DELETE FROM app.t_restricted WHERE id = 99;
ok 0: Deleted 0 row(s)

u_dba:> DELETE FROM app.t_dba WHERE id = 99;
ok 0: Deleted 0 row(s)

u_dba:> DELETE FROM app.t_default WHERE id = 99;
ok 0: Deleted 0 row(s)

# ---------------------------------------------------------------------------
# Role system: read, then write (INSERT, UPDATE, DELETE), per level.
u_system:> SELECT id, who FROM app.t_public ORDER BY id;
[id BigInt pk,nn,uq | who Text]
"0" | "root++"
"2" | "u_service"
"3" | "u_dba"
(3 rows)

u_system:> SELECT id, who FROM app.t_private ORDER BY id;
[id BigInt pk,nn,uq | who Text]
"0" | "root++"
"2" | "u_service"
"3" | "u_dba"
(3 rows)

u_system:> SELECT id, who FROM app.t_restricted ORDER BY id;
[id BigInt pk,nn,uq | who Text]
"0" | "root++"
"2" | "u_service"
"3" | "u_dba"
(3 rows)

u_system:> SELECT id, who FROM app.t_dba ORDER BY id;
[id BigInt pk,nn,uq | who Text]
"0" | "root+"
"3" | "u_dba"
(2 rows)

u_system:> SELECT id, who FROM app.t_default ORDER BY id;
[id BigInt pk,nn,uq | who Text]
"0" | "root++"
"2" | "u_service"
"3" | "u_dba"
(3 rows)

u_system:> INSERT INTO app.t_public VALUES (4, 'u_system');
ok 1: Inserted 1 row(s)

u_system:> INSERT INTO app.t_private VALUES (4, 'u_system');
ok 1: Inserted 1 row(s)

u_system:> INSERT INTO app.t_restricted VALUES (4, 'u_system');
ok 1: Inserted 1 row(s)

u_system:> INSERT INTO app.t_dba VALUES (4, 'u_system');
ok 1: Inserted 1 row(s)

u_system:> INSERT INTO app.t_default VALUES (4, 'u_system');
ok 1: Inserted 1 row(s)

u_system:> UPDATE app.t_public SET who = who || '+' WHERE id = 0;
ok 1: Updated 1 row(s)

u_system:> UPDATE app.t_private SET who = who || '+' WHERE id = 0;
ok 1: Updated 1 row(s)

u_system:> UPDATE app.t_restricted SET who = who || '+' WHERE id = 0;
ok 1: Updated 1 row(s)

u_system:> UPDATE app.t_dba SET who = who || '+' WHERE id = 0;
ok 1: Updated 1 row(s)

u_system:> UPDATE app.t_default SET who = who || '+' WHERE id = 0;
ok 1: Updated 1 row(s)

u_system:> DELETE FROM app.t_public WHERE id = 99;
ok 0: Deleted 0 row(s)

u_system:> DELETE FROM app.t_private WHERE id = 99;
ok 0: Deleted 0 row(s)

u_system:> DELETE FROM app.t_restricted WHERE id = 99;
ok 0: Deleted 0 row(s)

u_system:> DELETE FROM app.t_dba WHERE id = 99;
ok 0: Deleted 0 row(s)

u_system:> DELETE FROM app.t_default WHERE id = 99;
ok 0: Deleted 0 row(s)

# ---------------------------------------------------------------------------
# What each table holds now: the writes that were allowed, nothing else.
root:> SELECT id, who FROM app.t_public ORDER BY id;
[id BigInt pk,nn,uq | who Text]
"0" | "root+++"
"2" | "u_service"
"3" | "u_dba"
"4" | "u_system"
(4 rows)

root:> SELECT id, who FROM app.t_private ORDER BY id;
[id BigInt pk,nn,uq | who Text]
"0" | "root+++"
"2" | "u_service"
"3" | "u_dba"
"4" | "u_system"
(4 rows)

root:> SELECT id, who FROM app.t_restricted ORDER BY id;
[id BigInt pk,nn,uq | who Text]
"0" | "root+++"
"2" | "u_service"
"3" | "u_dba"
"4" | "u_system"
(4 rows)

root:> SELECT id, who FROM app.t_dba ORDER BY id;
[id BigInt pk,nn,uq | who Text]
"0" | "root++"
"3" | "u_dba"
"4" | "u_system"
(3 rows)

root:> SELECT id, who FROM app.t_default ORDER BY id;
[id BigInt pk,nn,uq | who Text]
"0" | "root+++"
"2" | "u_service"
"3" | "u_dba"
"4" | "u_system"
(4 rows)

# ---------------------------------------------------------------------------
# The check covers every table a statement touches, not only the first.
u_user:> SELECT p.id FROM app.t_public p JOIN app.t_private q ON p.id = q.id;
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'app.t_private'

u_user:> SELECT id FROM app.t_public WHERE id IN (SELECT id FROM app.t_restricted);
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'app.t_restricted'

u_user:> SELECT id FROM app.t_public UNION ALL SELECT id FROM app.t_dba;
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'app.t_dba'

u_user:> WITH d AS (SELECT id FROM app.t_dba) SELECT count(*) FROM d;
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'app.t_dba'

u_service:> SELECT p.id FROM app.t_public p JOIN app.t_dba d ON p.id = d.id;
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'app.t_dba'

u_service:> INSERT INTO app.t_public SELECT id + 100, who FROM app.t_dba;
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'app.t_dba'

u_service:> INSERT INTO app.t_dba SELECT id + 100, who FROM app.t_public;
error 403 PERMISSION_DENIED: Insufficient privileges to write to table 'app.t_dba'

u_user:> INSERT INTO app.t_public SELECT id + 100, who FROM app.t_public;
error 403 PERMISSION_DENIED: Insufficient privileges to write to table 'app.t_public'

u_service:> INSERT INTO app.t_private SELECT id + 100, who FROM app.t_restricted;
ok 4: Inserted 4 row(s)

u_dba:> SELECT p.id, d.who FROM app.t_public p JOIN app.t_dba d ON p.id = d.id ORDER BY p.id;
[id BigInt pk,nn,uq | who Text]
"0" | "root++"
"3" | "u_dba"
"4" | "u_system"
(3 rows)

# DESCRIBE and system.tables show the table to every role (spec: any);
# only its rows are gated.
u_user:> SELECT table_name FROM system.tables WHERE namespace_id = 'app' AND table_name = 't_dba';
[table_name Text nn]
"t_dba"
(1 row)

u_user:> DESCRIBE TABLE app.t_dba;
[column_name Text nn | ordinal_position Int | column_id Int | data_type Text | is_nullable Boolean | is_primary_key Boolean | column_default Text | column_comment Text | schema_version Int]
"id" | 1 | 1 | "BIGINT" | false | true | null | null | 1
"who" | 2 | 2 | "TEXT" | true | false | null | null | 1
"_seq" | 3 | null | "BIGINT" | false | false | null | "Row version id (Snowflake)" | 1
"_deleted" | 4 | null | "BOOLEAN" | false | false | null | "Delete tombstone flag" | 1
(4 rows)

u_user:> SELECT count(*) FROM app.t_dba;
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'app.t_dba'

# An absent table is TABLE_NOT_FOUND for everyone.
u_user:> SELECT * FROM app.t_none;
error 400 TABLE_NOT_FOUND: Table 'app.t_none' not found
