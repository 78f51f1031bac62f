# SHOW TABLES [IN ns] and DESCRIBE [TABLE] (sql.md §7).
mask: created_at, updated_at

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE NAMESPACE crm;
ok 0: Namespace 'crm' created successfully

root:> CREATE TABLE crm.contacts (id BIGINT PRIMARY KEY, name TEXT NOT NULL, email TEXT DEFAULT 'none');
ok 0: Shared table crm.contacts created successfully

root:> CREATE TABLE app.b_items (id BIGINT PRIMARY KEY);
ok 0: Shared table app.b_items created successfully

root:> CREATE TABLE app.a_items (id TEXT PRIMARY KEY, n INT) WITH (ACCESS_LEVEL = 'PUBLIC', FLUSH_POLICY = 'rows:10');
ok 0: Shared table app.a_items created successfully

root:> SHOW TABLES;
[namespace_id Text nn | table_name Text nn | table_type Text nn | storage_id Text | version Int | options Json | comment Text | updated_at Timestamp | created_at Timestamp]
"app" | "a_items" | "shared" | "local" | 1 | "{\"access_level\":\"public\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10\",\"storage_id\":\"local\"}" | null | <masked> | <masked>
"app" | "b_items" | "shared" | "local" | 1 | "{\"access_level\":\"private\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}" | null | <masked> | <masked>
"crm" | "contacts" | "shared" | "local" | 1 | "{\"access_level\":\"private\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}" | null | <masked> | <masked>
"system" | "columns" | "system" | null | null | null | null | null | null
"system" | "jobs" | "system" | null | null | null | null | null | null
"system" | "live" | "system" | null | null | null | null | null | null
"system" | "namespaces" | "system" | null | null | null | null | null | null
"system" | "schemas" | "system" | null | null | null | null | null | null
"system" | "stats" | "system" | null | null | null | null | null | null
"system" | "storages" | "system" | null | null | null | null | null | null
"system" | "tables" | "system" | null | null | null | null | null | null
"system" | "users" | "system" | null | null | null | null | null | null
(12 rows)

root:> SHOW TABLES IN app;
[namespace_id Text nn | table_name Text nn | table_type Text nn | storage_id Text | version Int | options Json | comment Text | updated_at Timestamp | created_at Timestamp]
"app" | "a_items" | "shared" | "local" | 1 | "{\"access_level\":\"public\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10\",\"storage_id\":\"local\"}" | null | <masked> | <masked>
"app" | "b_items" | "shared" | "local" | 1 | "{\"access_level\":\"private\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}" | null | <masked> | <masked>
(2 rows)

root:> SHOW TABLES IN NAMESPACE crm;
[namespace_id Text nn | table_name Text nn | table_type Text nn | storage_id Text | version Int | options Json | comment Text | updated_at Timestamp | created_at Timestamp]
"crm" | "contacts" | "shared" | "local" | 1 | "{\"access_level\":\"private\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}" | null | <masked> | <masked>
(1 row)

root:> SHOW TABLES IN nope;
error 400 SQL_EXECUTION_ERROR: Namespace 'nope' not found

root:> CREATE NAMESPACE empty;
ok 0: Namespace 'empty' created successfully

root:> SHOW TABLES IN empty;
[namespace_id Text nn | table_name Text nn | table_type Text nn | storage_id Text | version Int | options Json | comment Text | updated_at Timestamp | created_at Timestamp]
(0 rows)

root:> DESCRIBE TABLE crm.contacts;
[column_name Text nn | ordinal_position Int | column_id Int | data_type Text | is_nullable Boolean | is_primary_key Boolean | column_default Text | column_comment Text | schema_version Int]
"id" | 1 | 1 | "BIGINT" | false | true | null | null | 1
"name" | 2 | 2 | "TEXT" | false | false | null | null | 1
"email" | 3 | 3 | "TEXT" | true | false | "'none'" | null | 1
"_seq" | 4 | null | "BIGINT" | false | false | null | "Row version id (Snowflake)" | 1
"_deleted" | 5 | null | "BOOLEAN" | false | false | null | "Delete tombstone flag" | 1
(5 rows)

root:> DESCRIBE crm.contacts;
[column_name Text nn | ordinal_position Int | column_id Int | data_type Text | is_nullable Boolean | is_primary_key Boolean | column_default Text | column_comment Text | schema_version Int]
"id" | 1 | 1 | "BIGINT" | false | true | null | null | 1
"name" | 2 | 2 | "TEXT" | false | false | null | null | 1
"email" | 3 | 3 | "TEXT" | true | false | "'none'" | null | 1
"_seq" | 4 | null | "BIGINT" | false | false | null | "Row version id (Snowflake)" | 1
"_deleted" | 5 | null | "BOOLEAN" | false | false | null | "Delete tombstone flag" | 1
(5 rows)

root:> DESC crm.contacts;
[column_name Text nn | ordinal_position Int | column_id Int | data_type Text | is_nullable Boolean | is_primary_key Boolean | column_default Text | column_comment Text | schema_version Int]
"id" | 1 | 1 | "BIGINT" | false | true | null | null | 1
"name" | 2 | 2 | "TEXT" | false | false | null | null | 1
"email" | 3 | 3 | "TEXT" | true | false | "'none'" | null | 1
"_seq" | 4 | null | "BIGINT" | false | false | null | "Row version id (Snowflake)" | 1
"_deleted" | 5 | null | "BOOLEAN" | false | false | null | "Delete tombstone flag" | 1
(5 rows)

root:> DESC TABLE app.a_items;
[column_name Text nn | ordinal_position Int | column_id Int | data_type Text | is_nullable Boolean | is_primary_key Boolean | column_default Text | column_comment Text | schema_version Int]
"id" | 1 | 1 | "TEXT" | false | true | null | null | 1
"n" | 2 | 2 | "INT" | true | false | null | null | 1
"_seq" | 3 | null | "BIGINT" | false | false | null | "Row version id (Snowflake)" | 1
"_deleted" | 4 | null | "BOOLEAN" | false | false | null | "Delete tombstone flag" | 1
(4 rows)

root:> USE crm; DESCRIBE contacts;
ok 0: Namespace switched to 'crm'
[column_name Text nn | ordinal_position Int | column_id Int | data_type Text | is_nullable Boolean | is_primary_key Boolean | column_default Text | column_comment Text | schema_version Int]
"id" | 1 | 1 | "BIGINT" | false | true | null | null | 1
"name" | 2 | 2 | "TEXT" | false | false | null | null | 1
"email" | 3 | 3 | "TEXT" | true | false | "'none'" | null | 1
"_seq" | 4 | null | "BIGINT" | false | false | null | "Row version id (Snowflake)" | 1
"_deleted" | 5 | null | "BOOLEAN" | false | false | null | "Delete tombstone flag" | 1
(5 rows)

root:> DESCRIBE TABLE crm.nope;
error 400 TABLE_NOT_FOUND: Table 'crm.nope' not found

root:> DESCRIBE TABLE nope.contacts;
error 400 TABLE_NOT_FOUND: Table 'nope.contacts' not found
