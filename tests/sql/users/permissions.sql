# The statement rows of the permission matrix (wire-protocol.md §5.6, role
# columns of sql.md §1–§8), with one user per role. Every refusal is 403
# PERMISSION_DENIED naming the statement or table it refused (sql.md §0).
# SHARED ACCESS_LEVEL reads/writes: shared_access.sql; USER tables:
# user_tables.sql; EXECUTE AS USER: execute_as.sql.
mask: created_at, updated_at, last_login_at, last_seen, deleted_at, locked_until

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

root:> CREATE TABLE app.base (id BIGINT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL = 'PUBLIC');
ok 0: Shared table app.base created successfully

# ---------------------------------------------------------------------------
# CREATE NAMESPACE / DROP NAMESPACE: dba and system only (§5.6 "namespace DDL").
u_user:> CREATE NAMESPACE ns_user;
error 403 PERMISSION_DENIED: Insufficient privileges for CREATE NAMESPACE (requires role dba or system)

u_service:> CREATE NAMESPACE ns_service;
error 403 PERMISSION_DENIED: Insufficient privileges for CREATE NAMESPACE (requires role dba or system)

u_dba:> CREATE NAMESPACE ns_dba;
ok 0: Namespace 'ns_dba' created successfully

u_system:> CREATE NAMESPACE ns_system;
ok 0: Namespace 'ns_system' created successfully

u_user:> CREATE NAMESPACE IF NOT EXISTS app;
error 403 PERMISSION_DENIED: Insufficient privileges for CREATE NAMESPACE (requires role dba or system)

u_user:> DROP NAMESPACE ns_dba;
error 403 PERMISSION_DENIED: Insufficient privileges for DROP NAMESPACE (requires role dba or system)

u_service:> DROP NAMESPACE ns_dba;
error 403 PERMISSION_DENIED: Insufficient privileges for DROP NAMESPACE (requires role dba or system)

# A refused role learns nothing about whether the namespace exists.
u_user:> DROP NAMESPACE no_such_ns;
error 403 PERMISSION_DENIED: Insufficient privileges for DROP NAMESPACE (requires role dba or system)

u_service:> DROP NAMESPACE IF EXISTS ns_system;
error 403 PERMISSION_DENIED: Insufficient privileges for DROP NAMESPACE (requires role dba or system)

u_dba:> DROP NAMESPACE ns_system;
ok 0: Namespace 'ns_system' dropped successfully

u_system:> DROP NAMESPACE ns_dba;
ok 0: Namespace 'ns_dba' dropped successfully

root:> SELECT namespace_id FROM system.namespaces ORDER BY namespace_id;
[namespace_id Text pk,nn,uq]
"app"
"default"
(2 rows)

# ---------------------------------------------------------------------------
# CREATE TABLE by kind: USER and STREAM for every role; SHARED for service,
# dba, system (§5.6; sql.md §2.1 `Insufficient privileges to create SHARED tables`).
u_user:> CREATE USER TABLE app.ut_user (id BIGINT PRIMARY KEY, v TEXT);
ok 0: User table app.ut_user created successfully

u_user:> CREATE STREAM TABLE app.st_user (id BIGINT, v TEXT);
ok 0: Stream table app.st_user created successfully

u_user:> CREATE TABLE app.ut2_user (id BIGINT PRIMARY KEY) WITH (TYPE = 'USER');
ok 0: User table app.ut2_user created successfully

u_user:> CREATE SHARED TABLE app.sh_user (id BIGINT PRIMARY KEY);
error 403 PERMISSION_DENIED: Insufficient privileges to create SHARED tables

# No kind keyword and no TYPE means SHARED, refused as such.
u_user:> CREATE TABLE app.sh2_user (id BIGINT PRIMARY KEY);
error 403 PERMISSION_DENIED: Insufficient privileges to create SHARED tables

u_user:> CREATE TABLE app.sh3_user (id BIGINT PRIMARY KEY) WITH (TYPE = 'SHARED', ACCESS_LEVEL = 'PUBLIC');
error 403 PERMISSION_DENIED: Insufficient privileges to create SHARED tables

u_service:> CREATE USER TABLE app.ut_service (id BIGINT PRIMARY KEY, v TEXT);
ok 0: User table app.ut_service created successfully

u_service:> CREATE STREAM TABLE app.st_service (id BIGINT, v TEXT);
ok 0: Stream table app.st_service created successfully

u_service:> CREATE SHARED TABLE app.sh_service (id BIGINT PRIMARY KEY, v TEXT);
ok 0: Shared table app.sh_service created successfully

u_dba:> CREATE USER TABLE app.ut_dba (id BIGINT PRIMARY KEY, v TEXT);
ok 0: User table app.ut_dba created successfully

u_dba:> CREATE STREAM TABLE app.st_dba (id BIGINT, v TEXT);
ok 0: Stream table app.st_dba created successfully

u_dba:> CREATE SHARED TABLE app.sh_dba (id BIGINT PRIMARY KEY, v TEXT);
ok 0: Shared table app.sh_dba created successfully

u_system:> CREATE USER TABLE app.ut_system (id BIGINT PRIMARY KEY, v TEXT);
ok 0: User table app.ut_system created successfully

u_system:> CREATE STREAM TABLE app.st_system (id BIGINT, v TEXT);
ok 0: Stream table app.st_system created successfully

u_system:> CREATE SHARED TABLE app.sh_system (id BIGINT PRIMARY KEY, v TEXT);
ok 0: Shared table app.sh_system created successfully

# Never in `system` (sql.md §2.1), whatever the role.
u_system:> CREATE TABLE system.mine (id BIGINT PRIMARY KEY);
error 403 PERMISSION_DENIED: Tables cannot be created in namespace 'system'

root:> SELECT table_name, table_type FROM system.tables WHERE namespace_id = 'app' ORDER BY table_name;
[table_name Text nn | table_type Text nn]
"base" | "shared"
"sh_dba" | "shared"
"sh_service" | "shared"
"sh_system" | "shared"
"st_dba" | "stream"
"st_service" | "stream"
"st_system" | "stream"
"st_user" | "stream"
"ut2_user" | "user"
"ut_dba" | "user"
"ut_service" | "user"
"ut_system" | "user"
"ut_user" | "user"
(13 rows)

# ---------------------------------------------------------------------------
# DROP TABLE: dba and system only, even for a table the caller created.
u_user:> DROP TABLE app.ut_user;
error 403 PERMISSION_DENIED: Insufficient privileges for DROP TABLE (requires role dba or system)

u_user:> DROP USER TABLE IF EXISTS app.ut_user;
error 403 PERMISSION_DENIED: Insufficient privileges for DROP TABLE (requires role dba or system)

u_service:> DROP TABLE app.sh_service;
error 403 PERMISSION_DENIED: Insufficient privileges for DROP TABLE (requires role dba or system)

u_service:> DROP STREAM TABLE app.st_service;
error 403 PERMISSION_DENIED: Insufficient privileges for DROP TABLE (requires role dba or system)

u_dba:> DROP TABLE app.sh_service;
ok 0: Table app.sh_service dropped successfully: files_deleted=0, bytes_freed=0

u_dba:> DROP TABLE app.ut_user;
ok 0: Table app.ut_user dropped successfully: files_deleted=0, bytes_freed=0

u_system:> DROP TABLE app.st_service;
ok 0: Table app.st_service dropped successfully: files_deleted=0, bytes_freed=0

u_system:> DROP TABLE system.users;
error 403 PERMISSION_DENIED: System table 'system.users' is read-only

u_dba:> DROP TABLE system.tables;
error 403 PERMISSION_DENIED: System table 'system.tables' is read-only

# ---------------------------------------------------------------------------
# User DDL: dba and system; users with role `system` only by system (§5.6).
u_user:> CREATE USER made_by_user WITH PASSWORD 'made-secret-1' ROLE user;
error 403 PERMISSION_DENIED: Insufficient privileges for CREATE USER (requires role dba or system)

u_service:> CREATE USER made_by_service WITH PASSWORD 'made-secret-1' ROLE user;
error 403 PERMISSION_DENIED: Insufficient privileges for CREATE USER (requires role dba or system)

u_service:> CREATE USER made_by_service WITH INTERNAL ROLE user;
error 403 PERMISSION_DENIED: Insufficient privileges for CREATE USER (requires role dba or system)

u_dba:> CREATE USER made_by_dba WITH PASSWORD 'made-secret-1' ROLE user;
ok 0: User 'made_by_dba' created

u_dba:> CREATE USER made_by_dba2 WITH INTERNAL ROLE dba;
ok 0: User 'made_by_dba2' created

u_dba:> CREATE USER sys_by_dba WITH PASSWORD 'made-secret-1' ROLE system;
error 403 PERMISSION_DENIED: Insufficient privileges to create user 'sys_by_dba' with role 'system' (requires role system)

u_dba:> CREATE USER sys_by_dba WITH INTERNAL ROLE system;
error 403 PERMISSION_DENIED: Insufficient privileges to create user 'sys_by_dba' with role 'system' (requires role system)

u_system:> CREATE USER sys_by_system WITH PASSWORD 'made-secret-1' ROLE system;
ok 0: User 'sys_by_system' created

u_user:> ALTER USER u_service SET EMAIL 'x@example.com';
error 403 PERMISSION_DENIED: Insufficient privileges for ALTER USER (requires role dba or system)

u_user:> ALTER USER u_service SET PASSWORD 'stolen-secret-1';
error 403 PERMISSION_DENIED: Insufficient privileges for ALTER USER (requires role dba or system)

u_service:> ALTER USER u_user SET PASSWORD 'stolen-secret-1';
error 403 PERMISSION_DENIED: Insufficient privileges for ALTER USER (requires role dba or system)

u_service:> ALTER USER made_by_dba SET ROLE dba;
error 403 PERMISSION_DENIED: Insufficient privileges for ALTER USER (requires role dba or system)

u_dba:> ALTER USER made_by_dba SET EMAIL 'made@example.com';
ok 0: User 'made_by_dba' updated

u_dba:> ALTER USER made_by_dba SET ROLE service;
ok 0: User 'made_by_dba' updated

# dba may neither grant role system nor touch a system user.
u_dba:> ALTER USER made_by_dba SET ROLE system;
error 403 PERMISSION_DENIED: Insufficient privileges to alter user 'made_by_dba' with role 'system' (requires role system)

u_dba:> ALTER USER u_system SET EMAIL 'sys@example.com';
error 403 PERMISSION_DENIED: Insufficient privileges to alter user 'u_system' with role 'system' (requires role system)

u_dba:> ALTER USER u_system SET PASSWORD 'stolen-secret-1';
error 403 PERMISSION_DENIED: Insufficient privileges to alter user 'u_system' with role 'system' (requires role system)

u_dba:> ALTER USER u_system SET ROLE user;
error 403 PERMISSION_DENIED: Insufficient privileges to alter user 'u_system' with role 'system' (requires role system)

u_dba:> ALTER USER root SET PASSWORD 'stolen-secret-1';
error 403 PERMISSION_DENIED: Insufficient privileges to alter user 'root' with role 'system' (requires role system)

u_system:> ALTER USER made_by_dba SET ROLE system;
ok 0: User 'made_by_dba' updated

u_system:> ALTER USER made_by_dba SET ROLE user;
ok 0: User 'made_by_dba' updated

# Nobody changes its own role without being admin.
u_user:> ALTER USER u_user SET ROLE dba;
error 403 PERMISSION_DENIED: Insufficient privileges for ALTER USER (requires role dba or system)

u_service:> ALTER USER u_service SET ROLE dba;
error 403 PERMISSION_DENIED: Insufficient privileges for ALTER USER (requires role dba or system)

u_dba:> ALTER USER u_dba SET ROLE system;
error 403 PERMISSION_DENIED: Insufficient privileges to alter user 'u_dba' with role 'system' (requires role system)

u_user:> DROP USER made_by_dba;
error 403 PERMISSION_DENIED: Insufficient privileges for DROP USER (requires role dba or system)

u_user:> DROP USER IF EXISTS no_such_user;
error 403 PERMISSION_DENIED: Insufficient privileges for DROP USER (requires role dba or system)

u_service:> DROP USER made_by_dba;
error 403 PERMISSION_DENIED: Insufficient privileges for DROP USER (requires role dba or system)

u_dba:> DROP USER sys_by_system;
error 403 PERMISSION_DENIED: Insufficient privileges to drop user 'sys_by_system' with role 'system' (requires role system)

u_dba:> DROP USER made_by_dba2;
ok 0: User 'made_by_dba2' dropped (soft delete)

u_system:> DROP USER sys_by_system;
ok 0: User 'sys_by_system' dropped (soft delete)

root:> SELECT user_id, role, email, deleted_at FROM system.users ORDER BY user_id;
[user_id Text pk,nn,uq | role Text nn | email Text | deleted_at Timestamp]
"made_by_dba" | "user" | "made@example.com" | null
"made_by_dba2" | "dba" | null | <masked>
"root" | "system" | "root@localhost" | null
"sys_by_system" | "system" | null | <masked>
"u_dba" | "dba" | null | null
"u_service" | "service" | null | null
"u_system" | "system" | null | null
"u_user" | "user" | null | null
(8 rows)

# ---------------------------------------------------------------------------
# ALTER USER self SET PASSWORD / EMAIL: every role (§5.6).
u_user:> ALTER USER u_user SET EMAIL 'u_user@example.com';
ok 0: User 'u_user' updated

u_user:> ALTER USER u_user SET PASSWORD 'u-user-secret-2';
ok 0: User 'u_user' updated

user: u_user u-user-secret-2
u_user:> SELECT CURRENT_USER() AS me;
[me Text]
"u_user"
(1 row)

u_service:> ALTER USER u_service SET EMAIL 'u_service@example.com';
ok 0: User 'u_service' updated

u_service:> ALTER USER u_service SET PASSWORD 'u-service-secret-2';
ok 0: User 'u_service' updated

user: u_service u-service-secret-2
u_service:> SELECT CURRENT_USER() AS me;
[me Text]
"u_service"
(1 row)

u_dba:> ALTER USER u_dba SET EMAIL 'u_dba@example.com';
ok 0: User 'u_dba' updated

u_dba:> ALTER USER u_dba SET PASSWORD 'u-dba-secret-2';
ok 0: User 'u_dba' updated

user: u_dba u-dba-secret-2
u_dba:> SELECT CURRENT_USER() AS me;
[me Text]
"u_dba"
(1 row)

u_system:> ALTER USER u_system SET EMAIL 'u_system@example.com';
ok 0: User 'u_system' updated

u_system:> ALTER USER u_system SET PASSWORD 'u-system-secret-2';
ok 0: User 'u_system' updated

user: u_system u-system-secret-2
u_system:> SELECT CURRENT_USER() AS me;
[me Text]
"u_system"
(1 row)

root:> SELECT user_id, role, email FROM system.users WHERE user_id LIKE 'u_%' ORDER BY user_id;
[user_id Text pk,nn,uq | role Text nn | email Text]
"u_dba" | "dba" | "u_dba@example.com"
"u_service" | "service" | "u_service@example.com"
"u_system" | "system" | "u_system@example.com"
"u_user" | "user" | "u_user@example.com"
(4 rows)

# ---------------------------------------------------------------------------
# system.users and system.stats: dba and system only (sql.md §8).
u_user:> SELECT user_id FROM system.users;
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'system.users'

u_service:> SELECT count(*) FROM system.users;
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'system.users'

u_dba:> SELECT user_id, password_hash, role FROM system.users WHERE user_id IN ('root', 'u_user') ORDER BY user_id;
[user_id Text pk,nn,uq | password_hash Text | role Text nn]
"root" | "***" | "system"
"u_user" | "***" | "user"
(2 rows)

u_system:> SELECT user_id, password_hash, role FROM system.users WHERE user_id IN ('root', 'u_user') ORDER BY user_id;
[user_id Text pk,nn,uq | password_hash Text | role Text nn]
"root" | "***" | "system"
"u_user" | "***" | "user"
(2 rows)

u_user:> SELECT * FROM system.stats;
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'system.stats'

u_service:> SELECT metric_value FROM system.stats WHERE metric_name = 'total_users';
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'system.stats'

u_dba:> SELECT metric_value FROM system.stats WHERE metric_name = 'total_users';
[metric_value Text]
"8"
(1 row)

u_system:> SELECT metric_value FROM system.stats WHERE metric_name = 'total_users';
[metric_value Text]
"8"
(1 row)

# Also when the system table is only part of the query.
u_user:> SELECT b.id FROM app.base b JOIN system.users u ON u.user_id = b.v;
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'system.users'

u_service:> SELECT id FROM app.base WHERE v IN (SELECT user_id FROM system.users);
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'system.users'

# system.namespaces / tables / columns and information_schema: every role (ours).
u_user:> SELECT namespace_id FROM system.namespaces ORDER BY namespace_id;
[namespace_id Text pk,nn,uq]
"app"
"default"
(2 rows)

u_user:> SELECT table_name, table_type FROM system.tables WHERE namespace_id = 'app' AND table_name LIKE 'sh%' ORDER BY table_name;
[table_name Text nn | table_type Text nn]
"sh_dba" | "shared"
"sh_system" | "shared"
(2 rows)

u_user:> SELECT column_name, data_type FROM system.columns WHERE namespace_id = 'app' AND table_name = 'base' ORDER BY ordinal;
[column_name Text nn | data_type Text]
"id" | "BIGINT"
"v" | "TEXT"
(2 rows)

u_user:> SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema = 'app' AND table_name LIKE 'sh%' ORDER BY table_name;
[table_schema Text | table_name Text]
"app" | "sh_dba"
"app" | "sh_system"
(2 rows)

u_service:> SELECT count(*) AS n FROM system.tables WHERE namespace_id = 'app';
[n BigInt]
"10"
(1 row)

u_dba:> SELECT count(*) AS n FROM system.columns WHERE namespace_id = 'app' AND table_name = 'base';
[n BigInt]
"2"
(1 row)

u_system:> SELECT count(*) AS n FROM system.namespaces;
[n BigInt]
"2"
(1 row)

u_user:> SHOW NAMESPACES;
[namespace_id Text pk,nn,uq | name Text nn | created_at Timestamp | options Json | table_count BigInt]
"app" | "app" | <masked> | "{}" | "10"
"default" | "default" | <masked> | "{}" | "0"
(2 rows)

u_user:> SHOW TABLES IN app;
[namespace_id Text nn | table_name Text nn | table_type Text nn | storage_id Text | version Int | options Json | comment Text | updated_at Timestamp | created_at Timestamp]
"app" | "base" | "shared" | "local" | 1 | "{\"access_level\":\"public\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}" | null | <masked> | <masked>
"app" | "sh_dba" | "shared" | "local" | 1 | "{\"access_level\":\"private\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}" | null | <masked> | <masked>
"app" | "sh_system" | "shared" | "local" | 1 | "{\"access_level\":\"private\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}" | null | <masked> | <masked>
"app" | "st_dba" | "stream" | null | 1 | "{\"ttl_seconds\":10}" | null | <masked> | <masked>
"app" | "st_system" | "stream" | null | 1 | "{\"ttl_seconds\":10}" | null | <masked> | <masked>
"app" | "st_user" | "stream" | null | 1 | "{\"ttl_seconds\":10}" | null | <masked> | <masked>
"app" | "ut2_user" | "user" | "local" | 1 | "{\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}" | null | <masked> | <masked>
"app" | "ut_dba" | "user" | "local" | 1 | "{\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}" | null | <masked> | <masked>
"app" | "ut_service" | "user" | "local" | 1 | "{\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}" | null | <masked> | <masked>
"app" | "ut_system" | "user" | "local" | 1 | "{\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}" | null | <masked> | <masked>
(10 rows)

# Through the catalog-qualified name too (sql.md §0: kalam.ns.t).
u_user:> SELECT user_id FROM kalam.system.users;
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'system.users'

# DESCRIBE is for any role (sql.md §7), but not of a system table the role
# may not read (spec silent: pinned).
u_user:> DESCRIBE TABLE system.users;
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'system.users'

u_service:> DESCRIBE system.stats;
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'system.stats'

u_dba:> DESCRIBE TABLE system.stats;
[column_name Text nn | ordinal_position Int | column_id Int | data_type Text | is_nullable Boolean | is_primary_key Boolean | column_default Text | column_comment Text | schema_version Int]
"metric_name" | 1 | 1 | "TEXT" | false | true | null | null | 1
"metric_value" | 2 | 2 | "TEXT" | true | false | null | null | 1
(2 rows)

# information_schema lists only the system tables the role may read
# (spec silent: pinned).
u_user:> SELECT table_name FROM information_schema.tables WHERE table_schema = 'system' ORDER BY table_name;
[table_name Text]
"columns"
"namespaces"
"tables"
(3 rows)

u_dba:> SELECT table_name FROM information_schema.tables WHERE table_schema = 'system' ORDER BY table_name;
[table_name Text]
"columns"
"jobs"
"live"
"namespaces"
"schemas"
"stats"
"storages"
"tables"
"users"
(9 rows)

u_user:> DESCRIBE TABLE app.base;
[column_name Text nn | ordinal_position Int | column_id Int | data_type Text | is_nullable Boolean | is_primary_key Boolean | column_default Text | column_comment Text | schema_version Int]
"id" | 1 | 1 | "BIGINT" | false | true | null | null | 1
"v" | 2 | 2 | "TEXT" | true | false | null | null | 1
"_seq" | 3 | null | "BIGINT" | false | false | null | "Row version id (Snowflake)" | 1
"_deleted" | 4 | null | "BOOLEAN" | false | false | null | "Delete tombstone flag" | 1
(4 rows)

# A self SET PASSWORD still obeys the password policy: see
# tests/sql/bugs/weak_password_message.sql.

# ---------------------------------------------------------------------------
# Writing a system table: refused for every role (sql.md §0).
u_user:> INSERT INTO system.users (user_id, role) VALUES ('evil', 'system');
error 403 PERMISSION_DENIED: System table 'system.users' is read-only

u_service:> UPDATE system.users SET role = 'system' WHERE user_id = 'u_service';
error 403 PERMISSION_DENIED: System table 'system.users' is read-only

u_dba:> DELETE FROM system.users WHERE user_id = 'u_user';
error 403 PERMISSION_DENIED: System table 'system.users' is read-only

u_system:> INSERT INTO system.namespaces (namespace_id, name) VALUES ('evil', 'evil');
error 403 PERMISSION_DENIED: System table 'system.namespaces' is read-only

u_user:> DELETE FROM system.tables;
error 403 PERMISSION_DENIED: System table 'system.tables' is read-only

# ---------------------------------------------------------------------------
# EXPLAIN, SET, SHOW ALL / SHOW COLUMNS: dba and system only (sql.md §3.5).
u_user:> EXPLAIN SELECT id FROM app.base;
error 403 PERMISSION_DENIED: Insufficient privileges for EXPLAIN, SET and SHOW statements (requires role dba or system)

u_service:> EXPLAIN SELECT id FROM app.base;
error 403 PERMISSION_DENIED: Insufficient privileges for EXPLAIN, SET and SHOW statements (requires role dba or system)

u_dba:> EXPLAIN SELECT 1 AS one;
[plan_type Text | plan Text]
"logical_plan" | "Projection: Int64(1) AS one\n  EmptyRelation: rows=1"
"physical_plan" | "ProjectionExec: expr=[1 as one]\n  PlaceholderRowExec\n"
(2 rows)

u_system:> EXPLAIN SELECT 1 AS one;
[plan_type Text | plan Text]
"logical_plan" | "Projection: Int64(1) AS one\n  EmptyRelation: rows=1"
"physical_plan" | "ProjectionExec: expr=[1 as one]\n  PlaceholderRowExec\n"
(2 rows)

u_user:> SET datafusion.execution.batch_size = 1024;
error 403 PERMISSION_DENIED: Insufficient privileges for EXPLAIN, SET and SHOW statements (requires role dba or system)

u_service:> SET datafusion.execution.batch_size = 1024;
error 403 PERMISSION_DENIED: Insufficient privileges for EXPLAIN, SET and SHOW statements (requires role dba or system)

# (dba/system SET is allowed; its answer is in tests/sql/bugs/set_result_shape.sql.)

u_user:> SHOW ALL;
error 403 PERMISSION_DENIED: Insufficient privileges for EXPLAIN, SET and SHOW statements (requires role dba or system)

u_service:> SHOW ALL;
error 403 PERMISSION_DENIED: Insufficient privileges for EXPLAIN, SET and SHOW statements (requires role dba or system)

# SHOW ALL's rows depend on the machine (target_partitions = cores), so for
# dba/system only SHOW of one variable is pinned below.
u_user:> SHOW COLUMNS FROM app.base;
error 403 PERMISSION_DENIED: Insufficient privileges for EXPLAIN, SET and SHOW statements (requires role dba or system)

u_service:> SHOW COLUMNS FROM app.base;
error 403 PERMISSION_DENIED: Insufficient privileges for EXPLAIN, SET and SHOW statements (requires role dba or system)

u_dba:> SHOW COLUMNS FROM app.base;
[table_catalog Text | table_schema Text | table_name Text | column_name Text | data_type Text | is_nullable Text]
"kalam" | "app" | "base" | "id" | "Int64" | "NO"
"kalam" | "app" | "base" | "v" | "Utf8" | "YES"
"kalam" | "app" | "base" | "_seq" | "Int64" | "NO"
"kalam" | "app" | "base" | "_deleted" | "Boolean" | "NO"
(4 rows)

u_user:> SHOW datafusion.execution.batch_size;
error 403 PERMISSION_DENIED: Insufficient privileges for EXPLAIN, SET and SHOW statements (requires role dba or system)

u_dba:> SHOW datafusion.execution.batch_size;
[name Text | value Text]
"datafusion.execution.batch_size" | "8192"
(1 row)

u_system:> SHOW datafusion.execution.batch_size;
[name Text | value Text]
"datafusion.execution.batch_size" | "8192"
(1 row)

# ---------------------------------------------------------------------------
# STORAGE FLUSH: service, dba, system (§5.6): the allowed roles get the
# flush answer (nothing pending here), the user role a 403 that names the
# statement.
u_user:> STORAGE FLUSH TABLE app.base;
error 403 PERMISSION_DENIED: Insufficient privileges for STORAGE FLUSH (requires role service, dba or system)

u_user:> FLUSH TABLE app.base;
error 403 PERMISSION_DENIED: Insufficient privileges for STORAGE FLUSH (requires role service, dba or system)

u_user:> STORAGE FLUSH ALL IN app;
error 403 PERMISSION_DENIED: Insufficient privileges for STORAGE FLUSH (requires role service, dba or system)

u_service:> STORAGE FLUSH TABLE app.base;
ok 0: Storage flush skipped: no pending writes for table 'app.base'

u_dba:> STORAGE FLUSH TABLE app.base;
ok 0: Storage flush skipped: no pending writes for table 'app.base'

u_system:> STORAGE FLUSH ALL;
ok 0: Storage flush skipped: no pending writes in any table

# ---------------------------------------------------------------------------
# KILL JOB / KILL LIVE QUERY, storage DDL: dba and system (§5.6).
u_user:> KILL JOB 'FL-000000000000';
error 403 PERMISSION_DENIED: Insufficient privileges for KILL JOB (requires role dba or system)

u_service:> KILL JOB 'FL-000000000000';
error 403 PERMISSION_DENIED: Insufficient privileges for KILL JOB (requires role dba or system)

u_dba:> KILL JOB 'FL-000000000000';
error 400 SQL_EXECUTION_ERROR: Job 'FL-000000000000' not found

u_user:> KILL LIVE QUERY 'root-1-sub';
error 403 PERMISSION_DENIED: Insufficient privileges for KILL LIVE QUERY (requires role dba or system)

u_service:> KILL LIVE QUERY 'root-1-sub';
error 403 PERMISSION_DENIED: Insufficient privileges for KILL LIVE QUERY (requires role dba or system)

u_system:> KILL LIVE QUERY 'root-1-sub';
error 400 SQL_EXECUTION_ERROR: Live query 'root-1-sub' not found

u_user:> CREATE STORAGE s1 TYPE filesystem PATH '/tmp/s1';
error 403 PERMISSION_DENIED: Insufficient privileges for CREATE STORAGE (requires role dba or system)

u_service:> DROP STORAGE s1;
error 403 PERMISSION_DENIED: Insufficient privileges for DROP STORAGE (requires role dba or system)

u_service:> ALTER STORAGE local SET DESCRIPTION 'x';
error 403 PERMISSION_DENIED: Insufficient privileges for ALTER STORAGE (requires role dba or system)
