# system.tables and system.columns (sql.md §8), kept in step with DDL.
mask: created_at, updated_at

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.items (id BIGINT PRIMARY KEY, title TEXT NOT NULL DEFAULT 'untitled', price DECIMAL(10,2), made TIMESTAMP DEFAULT NOW()) WITH (ACCESS_LEVEL = 'PUBLIC', FLUSH_POLICY = 'rows:500');
ok 0: Shared table app.items created successfully

root:> CREATE STREAM TABLE app.events (kind TEXT) TTL 60s;
ok 0: Stream table app.events created successfully

root:> CREATE USER TABLE app.notes (id BIGINT AUTO_INCREMENT, body TEXT);
ok 0: User table app.notes created successfully

root:> SELECT * FROM system.tables ORDER BY namespace_id, table_name;
[namespace_id Text nn | table_name Text nn | table_type Text nn | storage_id Text | version Int | options Json | comment Text | updated_at Timestamp | created_at Timestamp]
"app" | "events" | "stream" | null | 1 | "{\"ttl_seconds\":60}" | null | <masked> | <masked>
"app" | "items" | "shared" | "local" | 1 | "{\"access_level\":\"public\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:500\",\"storage_id\":\"local\"}" | null | <masked> | <masked>
"app" | "notes" | "user" | "local" | 1 | "{\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}" | null | <masked> | <masked>
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

root:> SELECT * FROM system.columns WHERE namespace_id = 'app' ORDER BY table_name, ordinal;
[namespace_id Text nn | table_name Text nn | version Int | column_id Int | column_name Text nn | comment Text | data_type Text | default_value Text | ordinal Int | nullable Boolean | primary_key Boolean | primary_key_pos Int]
"app" | "events" | 1 | 1 | "kind" | null | "TEXT" | null | 1 | true | false | null
"app" | "items" | 1 | 1 | "id" | null | "BIGINT" | null | 1 | false | true | 1
"app" | "items" | 1 | 2 | "title" | null | "TEXT" | "'untitled'" | 2 | false | false | null
"app" | "items" | 1 | 3 | "price" | null | "DECIMAL(10,2)" | null | 3 | true | false | null
"app" | "items" | 1 | 4 | "made" | null | "TIMESTAMP" | "NOW()" | 4 | true | false | null
"app" | "notes" | 1 | 1 | "id" | null | "BIGINT" | "SNOWFLAKE_ID()" | 1 | false | true | 1
"app" | "notes" | 1 | 2 | "body" | null | "TEXT" | null | 2 | true | false | null
(7 rows)

root:> SELECT table_name, count(*) AS columns FROM system.columns GROUP BY table_name ORDER BY table_name;
[table_name Text nn | columns BigInt]
"events" | "1"
"items" | "4"
"notes" | "2"
(3 rows)

root:> SELECT t.table_name, c.column_name FROM system.tables t JOIN system.columns c ON c.namespace_id = t.namespace_id AND c.table_name = t.table_name WHERE c.primary_key ORDER BY t.table_name;
[table_name Text nn | column_name Text nn]
"items" | "id"
"notes" | "id"
(2 rows)

root:> DROP TABLE app.events;
ok 0: Table app.events dropped successfully: files_deleted=0, bytes_freed=0

root:> SELECT table_name FROM system.tables ORDER BY table_name;
[table_name Text nn]
"columns"
"items"
"jobs"
"live"
"namespaces"
"notes"
"schemas"
"stats"
"storages"
"tables"
"users"
(11 rows)

root:> SELECT DISTINCT table_name FROM system.columns ORDER BY table_name;
[table_name Text nn]
"items"
"notes"
(2 rows)

root:> UPDATE system.tables SET comment = 'x';
error 403 PERMISSION_DENIED: System table 'system.tables' is read-only

root:> INSERT INTO system.columns (column_name) VALUES ('x');
error 403 PERMISSION_DENIED: System table 'system.columns' is read-only
