# Storages (sql.md §4.2): the built-in `local`, CREATE/ALTER/DROP STORAGE on
# the filesystem (S3 is covered by crates/kalamdb-server/tests/it/cold.rs
# against a real S3-compatible server), SHOW STORAGES for every role, and a
# table's STORAGE_ID. Relative PATHs live beside the data directory, whose
# location differs per run: base_directory is masked.
mask: created_at, updated_at, base_directory

root:> SHOW STORAGES;
[storage_id Text pk,nn,uq | storage_name Text nn | description Text | storage_type Text nn | base_directory Text nn | credentials Text | config_json Json | shared_tables_template Text nn | user_tables_template Text nn | created_at Timestamp | updated_at Timestamp]
"local" | "local" | "Local filesystem storage under the data directory" | "filesystem" | <masked> | null | null | "{namespace}/{tableName}" | "{namespace}/{tableName}/{userId}" | <masked> | <masked>
(1 row)

root:> CREATE STORAGE archive TYPE filesystem NAME 'Archive' DESCRIPTION 'cold archive' PATH 'archive_files';
ok 0: Storage 'archive' created successfully

root:> CREATE STORAGE archive TYPE filesystem PATH 'archive_files';
error 400 SQL_EXECUTION_ERROR: Storage 'archive' already exists

root:> CREATE STORAGE tiny TYPE 'filesystem' PATH 'tiny' SHARED_TABLES_TEMPLATE 'shared/{namespace}/{tableName}' USER_TABLES_TEMPLATE 'users/{userId}/{namespace}/{tableName}';
ok 0: Storage 'tiny' created successfully

root:> SELECT storage_id, storage_name, description, storage_type, credentials, shared_tables_template, user_tables_template FROM system.storages ORDER BY storage_id;
[storage_id Text pk,nn,uq | storage_name Text nn | description Text | storage_type Text nn | credentials Text | shared_tables_template Text nn | user_tables_template Text nn]
"archive" | "Archive" | "cold archive" | "filesystem" | null | "{namespace}/{tableName}" | "{namespace}/{tableName}/{userId}"
"local" | "local" | "Local filesystem storage under the data directory" | "filesystem" | null | "{namespace}/{tableName}" | "{namespace}/{tableName}/{userId}"
"tiny" | "tiny" | null | "filesystem" | null | "shared/{namespace}/{tableName}" | "users/{userId}/{namespace}/{tableName}"
(3 rows)

# Errors, each named as the spec words it.
root:> CREATE STORAGE bad1 TYPE ftp PATH 'x';
error 400 SQL_EXECUTION_ERROR: Invalid storage type 'ftp'. Must be 'filesystem', 's3', 'gcs', or 'azure'

root:> CREATE STORAGE bad2 TYPE filesystem;
error 400 SQL_EXECUTION_ERROR: PATH or BASE_DIRECTORY is required

root:> CREATE STORAGE bad3 TYPE filesystem PATH 'x' USER_TABLES_TEMPLATE '{namespace}/{tableName}';
error 400 SQL_EXECUTION_ERROR: USER_TABLES_TEMPLATE must contain {userId}

root:> CREATE STORAGE bad4 TYPE filesystem PATH 'x' SHARED_TABLES_TEMPLATE '{namespace}/{nope}';
error 400 SQL_EXECUTION_ERROR: Unknown placeholder '{nope}' in template

root:> CREATE STORAGE bad5 TYPE filesystem PATH 'x' CONFIG '{not json';
error 400 SQL_EXECUTION_ERROR: CONFIG is not valid JSON

root:> CREATE STORAGE bad6 TYPE filesystem PATH 'x' SHARED_TABLES_TEMPLATE '../{namespace}/{tableName}';
error 400 SQL_EXECUTION_ERROR: Invalid template '../{namespace}/{tableName}': segments must be non-empty, relative, without '.' or '..'

root:> CREATE STORAGE bad7 TYPE s3 PATH 'x';
error 400 SQL_EXECUTION_ERROR: PATH or BASE_DIRECTORY is required

root:> ALTER STORAGE archive SET NAME 'Old archive' SET DESCRIPTION 'renamed';
ok 0: Storage 'archive' altered successfully

root:> ALTER STORAGE archive SET USER_TABLES_TEMPLATE '{namespace}/{tableName}';
error 400 SQL_EXECUTION_ERROR: USER_TABLES_TEMPLATE must contain {userId}

root:> ALTER STORAGE nope SET NAME 'x';
error 400 SQL_EXECUTION_ERROR: Storage 'nope' not found

root:> SELECT storage_id, storage_name, description FROM system.storages WHERE storage_id = 'archive';
[storage_id Text pk,nn,uq | storage_name Text nn | description Text]
"archive" | "Old archive" | "renamed"
(1 row)

# A table on a storage; a storage in use cannot be dropped.
root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.logs (id BIGINT PRIMARY KEY, line TEXT) WITH (STORAGE_ID = 'archive');
ok 0: Shared table app.logs created successfully

root:> CREATE TABLE app.nowhere (id BIGINT PRIMARY KEY) WITH (STORAGE_ID = 'missing');
error 400 SQL_EXECUTION_ERROR: Storage 'missing' does not exist

root:> SELECT table_name, storage_id FROM system.tables WHERE namespace_id = 'app';
[table_name Text nn | storage_id Text]
"logs" | "archive"
(1 row)

root:> DROP STORAGE archive;
error 400 SQL_EXECUTION_ERROR: Storage 'archive' is used by 1 table(s)

root:> DROP STORAGE local;
error 400 SQL_EXECUTION_ERROR: Storage 'local' cannot be dropped

root:> DROP STORAGE nope;
error 400 SQL_EXECUTION_ERROR: Storage 'nope' not found

root:> DROP STORAGE IF EXISTS nope;
ok 0: Storage 'nope' does not exist (skipped)

root:> DROP TABLE app.logs;
ok 0: Table app.logs dropped successfully: files_deleted=0, bytes_freed=0

root:> DROP STORAGE archive;
ok 0: Storage 'archive' dropped successfully

root:> SHOW STORAGES;
[storage_id Text pk,nn,uq | storage_name Text nn | description Text | storage_type Text nn | base_directory Text nn | credentials Text | config_json Json | shared_tables_template Text nn | user_tables_template Text nn | created_at Timestamp | updated_at Timestamp]
"local" | "local" | "Local filesystem storage under the data directory" | "filesystem" | <masked> | null | null | "{namespace}/{tableName}" | "{namespace}/{tableName}/{userId}" | <masked> | <masked>
"tiny" | "tiny" | null | "filesystem" | <masked> | null | null | "shared/{namespace}/{tableName}" | "users/{userId}/{namespace}/{tableName}" | <masked> | <masked>
(2 rows)

# Roles: SHOW STORAGES for anyone; storage DDL and system.storages for dba/system.
root:> CREATE USER u WITH PASSWORD 'u-Passw0rd-1' ROLE user;
ok 0: User 'u' created

user: u u-Passw0rd-1

u:> SHOW STORAGES;
[storage_id Text pk,nn,uq | storage_name Text nn | description Text | storage_type Text nn | base_directory Text nn | credentials Text | config_json Json | shared_tables_template Text nn | user_tables_template Text nn | created_at Timestamp | updated_at Timestamp]
"local" | "local" | "Local filesystem storage under the data directory" | "filesystem" | <masked> | null | null | "{namespace}/{tableName}" | "{namespace}/{tableName}/{userId}" | <masked> | <masked>
"tiny" | "tiny" | null | "filesystem" | <masked> | null | null | "shared/{namespace}/{tableName}" | "users/{userId}/{namespace}/{tableName}" | <masked> | <masked>
(2 rows)

u:> SELECT * FROM system.storages;
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'system.storages'

u:> CREATE STORAGE mine TYPE filesystem PATH 'mine';
error 403 PERMISSION_DENIED: Insufficient privileges for CREATE STORAGE (requires role dba or system)

u:> DROP STORAGE tiny;
error 403 PERMISSION_DENIED: Insufficient privileges for DROP STORAGE (requires role dba or system)
