# CREATE TABLE, current form (sql.md §2.1): every WITH option, defaults,
# IF NOT EXISTS, and the option errors.
mask: created_at, updated_at

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

# No kind keyword and no TYPE: SHARED.
root:> CREATE TABLE app.plain (id BIGINT PRIMARY KEY, title TEXT);
ok 0: Shared table app.plain created successfully

root:> CREATE SHARED TABLE app.kw (id BIGINT PRIMARY KEY);
ok 0: Shared table app.kw created successfully

root:> CREATE TABLE app.complete (id BIGINT PRIMARY KEY, title TEXT) WITH (
    TYPE = 'SHARED',
    STORAGE_ID = 'local',
    FLUSH_POLICY = 'rows:100,interval:60',
    DELETED_RETENTION_HOURS = 24,
    ACCESS_LEVEL = 'PUBLIC'
);
ok 0: Shared table app.complete created successfully

# Option names and values are case-insensitive; values may be unquoted.
root:> CREATE TABLE app.lower (id BIGINT PRIMARY KEY) WITH (type = 'shared', flush_policy = 'rows:5', access_level = restricted, deleted_retention_hours = 0);
ok 0: Shared table app.lower created successfully

root:> CREATE TABLE app.interval_only (id BIGINT PRIMARY KEY) WITH (FLUSH_POLICY = 'interval:30');
ok 0: Shared table app.interval_only created successfully

root:> CREATE TABLE app.dba_only (id BIGINT PRIMARY KEY) USING kalamdb WITH (ACCESS_LEVEL = 'DBA');
ok 0: Shared table app.dba_only created successfully

root:> CREATE TABLE app.priv (id BIGINT PRIMARY KEY) WITH (ACCESS_LEVEL = 'PRIVATE');
ok 0: Shared table app.priv created successfully

root:> CREATE TABLE app.users_t (id BIGINT PRIMARY KEY, name TEXT) WITH (TYPE = 'USER');
ok 0: User table app.users_t created successfully

root:> CREATE TABLE app.events (id BIGINT, kind TEXT) WITH (TYPE = 'STREAM', TTL_SECONDS = 30);
ok 0: Stream table app.events created successfully

root:> CREATE STREAM TABLE app.typing (user_id TEXT, room TEXT);
ok 0: Stream table app.typing created successfully

root:> CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY, body TEXT) WITH (TYPE = 'USER');
ok 0: User table app.notes created successfully

root:> SELECT table_name, table_type, storage_id, version, options FROM system.tables WHERE namespace_id = 'app' ORDER BY table_name;
[table_name Text nn | table_type Text nn | storage_id Text | version Int | options Json]
"complete" | "shared" | "local" | 1 | "{\"access_level\":\"public\",\"deleted_retention_hours\":24,\"flush_policy\":\"rows:100,interval:60\",\"storage_id\":\"local\"}"
"dba_only" | "shared" | "local" | 1 | "{\"access_level\":\"dba\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}"
"events" | "stream" | null | 1 | "{\"ttl_seconds\":30}"
"interval_only" | "shared" | "local" | 1 | "{\"access_level\":\"private\",\"deleted_retention_hours\":168,\"flush_policy\":\"interval:30\",\"storage_id\":\"local\"}"
"kw" | "shared" | "local" | 1 | "{\"access_level\":\"private\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}"
"lower" | "shared" | "local" | 1 | "{\"access_level\":\"restricted\",\"deleted_retention_hours\":0,\"flush_policy\":\"rows:5\",\"storage_id\":\"local\"}"
"notes" | "user" | "local" | 1 | "{\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}"
"plain" | "shared" | "local" | 1 | "{\"access_level\":\"private\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}"
"priv" | "shared" | "local" | 1 | "{\"access_level\":\"private\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}"
"typing" | "stream" | null | 1 | "{\"ttl_seconds\":10}"
"users_t" | "user" | "local" | 1 | "{\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}"
(11 rows)

# IF NOT EXISTS keeps the existing definition.
root:> CREATE TABLE IF NOT EXISTS app.plain (other TEXT PRIMARY KEY);
ok 0: Table app.plain already exists (IF NOT EXISTS)

root:> SELECT column_name FROM system.columns WHERE namespace_id = 'app' AND table_name = 'plain' ORDER BY ordinal;
[column_name Text nn]
"id"
"title"
(2 rows)

root:> CREATE TABLE app.plain (id BIGINT PRIMARY KEY);
error 400 SQL_EXECUTION_ERROR: Table app.plain already exists

root:> CREATE TABLE nope.t (id BIGINT PRIMARY KEY);
error 400 SQL_EXECUTION_ERROR: Namespace 'nope' does not exist. Create it first with CREATE NAMESPACE nope

root:> CREATE TABLE system.mine (id BIGINT PRIMARY KEY);
error 403 PERMISSION_DENIED: Tables cannot be created in namespace 'system'

# Unqualified: the default namespace.
root:> CREATE TABLE in_default (id BIGINT PRIMARY KEY);
ok 0: Shared table default.in_default created successfully

root:> SELECT namespace_id, table_name FROM system.tables WHERE table_name = 'in_default';
[namespace_id Text nn | table_name Text nn]
"default" | "in_default"
(1 row)

# Option errors.
root:> CREATE TABLE app.e1 (id BIGINT PRIMARY KEY) WITH (COLOR = 'red');
error 400 SQL_EXECUTION_ERROR: Unknown table option 'COLOR'

root:> CREATE TABLE app.e2 (id BIGINT PRIMARY KEY) WITH (STORAGE_ID = 'nowhere');
error 400 SQL_EXECUTION_ERROR: Storage 'nowhere' does not exist

root:> CREATE TABLE app.e3 (id BIGINT PRIMARY KEY) WITH (FLUSH_POLICY = 'sometimes');
error 400 SQL_EXECUTION_ERROR: Invalid FLUSH_POLICY 'sometimes': expected rows:N,interval:S

root:> CREATE TABLE app.e4 (id BIGINT PRIMARY KEY) WITH (FLUSH_POLICY = 'rows:0');
error 400 SQL_EXECUTION_ERROR: Invalid FLUSH_POLICY 'rows:0': expected rows:N,interval:S

root:> CREATE TABLE app.e5 (id BIGINT PRIMARY KEY) WITH (FLUSH_POLICY = 'interval:0');
error 400 SQL_EXECUTION_ERROR: Invalid FLUSH_POLICY 'interval:0': expected rows:N,interval:S

root:> CREATE USER TABLE app.e6 (id BIGINT PRIMARY KEY) WITH (TYPE = 'SHARED');
error 400 SQL_EXECUTION_ERROR: Conflicting table type: USER TABLE with TYPE='SHARED'

root:> CREATE TABLE app.e7 (id BIGINT PRIMARY KEY) WITH (TYPE = 'USER', ACCESS_LEVEL = 'PUBLIC');
error 400 SQL_EXECUTION_ERROR: ACCESS_LEVEL is only valid for SHARED tables

root:> CREATE TABLE app.e8 (id BIGINT PRIMARY KEY) WITH (TTL_SECONDS = 10);
error 400 SQL_EXECUTION_ERROR: TTL_SECONDS is only valid for STREAM tables

root:> CREATE STREAM TABLE app.e9 (id BIGINT) WITH (FLUSH_POLICY = 'rows:10');
error 400 SQL_EXECUTION_ERROR: FLUSH_POLICY is only valid for USER and SHARED tables

root:> CREATE STREAM TABLE app.e10 (id BIGINT) WITH (TTL_SECONDS = 0);
error 400 SQL_EXECUTION_ERROR: Invalid TTL_SECONDS value

root:> CREATE TABLE app.e11 (id BIGINT PRIMARY KEY) WITH (TYPE = 'VIEW');
error 400 SQL_EXECUTION_ERROR: Invalid table TYPE 'VIEW': expected USER, SHARED or STREAM

root:> CREATE TABLE app.e12 (id BIGINT PRIMARY KEY) WITH (ACCESS_LEVEL = 'EVERYONE');
error 400 SQL_EXECUTION_ERROR: Invalid ACCESS_LEVEL 'EVERYONE': expected PUBLIC, PRIVATE, RESTRICTED or DBA

root:> CREATE TABLE app.e13 (id BIGINT PRIMARY KEY) WITH (DELETED_RETENTION_HOURS = -1);
error 400 SQL_EXECUTION_ERROR: Invalid DELETED_RETENTION_HOURS value

root:> CREATE TABLE app.e14 (id BIGINT PRIMARY KEY) WITH (FLUSH_POLICY = 'rows:10', FLUSH_POLICY = 'rows:20');
error 400 SQL_EXECUTION_ERROR: Duplicate option FLUSH_POLICY

root:> SELECT table_name FROM system.tables WHERE table_name LIKE 'e%' ORDER BY table_name;
[table_name Text nn]
"events"
(1 row)
