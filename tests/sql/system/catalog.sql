# Catalog completeness (sql.md §7, §8): system.tables lists the system
# tables too, system.schemas has a row per schema version (one per table
# until ALTER TABLE makes more), DESCRIBE TABLE … HISTORY shows them to any
# role, CURRENT_ROLE() names the role a statement runs with, and SET lasts
# for the rest of its request.

user: alice Alice-pass-123
mask: created_at, updated_at

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.items (id BIGINT PRIMARY KEY, title TEXT NOT NULL DEFAULT 'x', qty INT) WITH (ACCESS_LEVEL = 'PUBLIC', FLUSH_POLICY = 'rows:500');
ok 0: Shared table app.items created successfully

root:> CREATE USER alice WITH PASSWORD 'Alice-pass-123' ROLE user;
ok 0: User 'alice' created

root:> SELECT namespace_id, table_name, table_type, version FROM system.tables WHERE namespace_id = 'system' ORDER BY table_name;
[namespace_id Text nn | table_name Text nn | table_type Text nn | version Int]
"system" | "columns" | "system" | null
"system" | "jobs" | "system" | null
"system" | "live" | "system" | null
"system" | "namespaces" | "system" | null
"system" | "schemas" | "system" | null
"system" | "stats" | "system" | null
"system" | "storages" | "system" | null
"system" | "tables" | "system" | null
"system" | "users" | "system" | null
(9 rows)

# Every role sees the list, as it sees system.tables.
alice:> SELECT count(*) AS c FROM system.tables WHERE table_type = 'system';
[c BigInt]
"9"
(1 row)

root:> SELECT table_id, table_name, namespace_id, table_type, schema_version, columns, options, access_level, is_latest, storage_id, use_user_storage FROM system.schemas;
[table_id Text nn | table_name Text nn | namespace_id Text nn | table_type Text nn | schema_version Int nn | columns Json | options Json | access_level Text | is_latest Boolean nn | storage_id Text | use_user_storage Boolean nn]
"app.items" | "items" | "app" | "shared" | 1 | "[{\"column_id\":1,\"column_name\":\"id\",\"comment\":null,\"data_type\":\"BIGINT\",\"default_value\":null,\"fill\":null,\"nullable\":false,\"ordinal\":1,\"primary_key\":true,\"since_version\":1},{\"column_id\":2,\"column_name\":\"title\",\"comment\":null,\"data_type\":\"TEXT\",\"default_value\":\"'x'\",\"fill\":null,\"nullable\":false,\"ordinal\":2,\"primary_key\":false,\"since_version\":1},{\"column_id\":3,\"column_name\":\"qty\",\"comment\":null,\"data_type\":\"INT\",\"default_value\":null,\"fill\":null,\"nullable\":true,\"ordinal\":3,\"primary_key\":false,\"since_version\":1}]" | "{\"access_level\":\"public\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:500\",\"storage_id\":\"local\"}" | "public" | true | "local" | false
(1 row)

alice:> SELECT * FROM system.schemas;
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'system.schemas'

root:> DESCRIBE TABLE app.items HISTORY;
[table_id Text nn | table_name Text nn | namespace_id Text nn | table_type Text nn | created_at Timestamp | schema_version Int nn | columns Json | table_comment Text | updated_at Timestamp | options Json | access_level Text | is_latest Boolean nn | storage_id Text | use_user_storage Boolean nn]
"app.items" | "items" | "app" | "shared" | <masked> | 1 | "[{\"column_id\":1,\"column_name\":\"id\",\"comment\":null,\"data_type\":\"BIGINT\",\"default_value\":null,\"fill\":null,\"nullable\":false,\"ordinal\":1,\"primary_key\":true,\"since_version\":1},{\"column_id\":2,\"column_name\":\"title\",\"comment\":null,\"data_type\":\"TEXT\",\"default_value\":\"'x'\",\"fill\":null,\"nullable\":false,\"ordinal\":2,\"primary_key\":false,\"since_version\":1},{\"column_id\":3,\"column_name\":\"qty\",\"comment\":null,\"data_type\":\"INT\",\"default_value\":null,\"fill\":null,\"nullable\":true,\"ordinal\":3,\"primary_key\":false,\"since_version\":1}]" | null | <masked> | "{\"access_level\":\"public\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:500\",\"storage_id\":\"local\"}" | "public" | true | "local" | false
(1 row)

alice:> DESC app.items HISTORY;
[table_id Text nn | table_name Text nn | namespace_id Text nn | table_type Text nn | created_at Timestamp | schema_version Int nn | columns Json | table_comment Text | updated_at Timestamp | options Json | access_level Text | is_latest Boolean nn | storage_id Text | use_user_storage Boolean nn]
"app.items" | "items" | "app" | "shared" | <masked> | 1 | "[{\"column_id\":1,\"column_name\":\"id\",\"comment\":null,\"data_type\":\"BIGINT\",\"default_value\":null,\"fill\":null,\"nullable\":false,\"ordinal\":1,\"primary_key\":true,\"since_version\":1},{\"column_id\":2,\"column_name\":\"title\",\"comment\":null,\"data_type\":\"TEXT\",\"default_value\":\"'x'\",\"fill\":null,\"nullable\":false,\"ordinal\":2,\"primary_key\":false,\"since_version\":1},{\"column_id\":3,\"column_name\":\"qty\",\"comment\":null,\"data_type\":\"INT\",\"default_value\":null,\"fill\":null,\"nullable\":true,\"ordinal\":3,\"primary_key\":false,\"since_version\":1}]" | null | <masked> | "{\"access_level\":\"public\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:500\",\"storage_id\":\"local\"}" | "public" | true | "local" | false
(1 row)

alice:> DESCRIBE TABLE app.nope HISTORY;
error 400 TABLE_NOT_FOUND: Table 'app.nope' not found

root:> SELECT CURRENT_ROLE() AS r, CURRENT_USER() AS u;
[r Text | u Text]
"system" | "root"
(1 row)

alice:> SELECT CURRENT_ROLE() AS r, CURRENT_USER() AS u;
[r Text | u Text]
"user" | "alice"
(1 row)

root:> CREATE USER TABLE app.notes (id BIGINT PRIMARY KEY);
ok 0: User table app.notes created successfully

root:> EXECUTE AS USER 'alice' (SELECT CURRENT_ROLE() AS r, CURRENT_USER() AS u, count(*) AS c FROM app.notes);
[r Text | u Text | c BigInt]
"user" | "alice" | "0"
(1 row)

# SET applies to the statements after it in the same request, and no
# further: the next request starts from the defaults.
root:> SET datafusion.execution.batch_size = 100; SHOW datafusion.execution.batch_size; SELECT count(*) AS c FROM app.items;
ok 0
[name Text | value Text]
"datafusion.execution.batch_size" | "100"
(1 row)
[c BigInt]
"0"
(1 row)

root:> SHOW datafusion.execution.batch_size;
[name Text | value Text]
"datafusion.execution.batch_size" | "8192"
(1 row)

root:> SET datafusion.nope = 1;
error 400 SQL_EXECUTION_ERROR: Invalid or Unsupported Configuration: Config value "nope" not found on ConfigOptions

alice:> SET datafusion.execution.batch_size = 100;
error 403 PERMISSION_DENIED: Insufficient privileges for EXPLAIN, SET and SHOW statements (requires role dba or system)
