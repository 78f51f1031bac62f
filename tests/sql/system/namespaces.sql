# system.namespaces (sql.md §8) and SHOW NAMESPACES.
mask: created_at

root:> SELECT * FROM system.namespaces;
[namespace_id Text pk,nn,uq | name Text nn | created_at Timestamp | options Json | table_count BigInt]
"default" | "default" | <masked> | "{}" | "0"
(1 row)

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE NAMESPACE crm;
ok 0: Namespace 'crm' created successfully

root:> CREATE TABLE app.a (id BIGINT PRIMARY KEY);
ok 0: Shared table app.a created successfully

root:> CREATE TABLE app.b (id BIGINT PRIMARY KEY);
ok 0: Shared table app.b created successfully

root:> CREATE TABLE crm.c (id BIGINT PRIMARY KEY);
ok 0: Shared table crm.c created successfully

root:> SELECT * FROM system.namespaces ORDER BY namespace_id;
[namespace_id Text pk,nn,uq | name Text nn | created_at Timestamp | options Json | table_count BigInt]
"app" | "app" | <masked> | "{}" | "2"
"crm" | "crm" | <masked> | "{}" | "1"
"default" | "default" | <masked> | "{}" | "0"
(3 rows)

root:> SHOW NAMESPACES;
[namespace_id Text pk,nn,uq | name Text nn | created_at Timestamp | options Json | table_count BigInt]
"app" | "app" | <masked> | "{}" | "2"
"crm" | "crm" | <masked> | "{}" | "1"
"default" | "default" | <masked> | "{}" | "0"
(3 rows)

root:> SELECT name, table_count FROM system.namespaces WHERE table_count > 0 ORDER BY table_count DESC;
[name Text nn | table_count BigInt]
"app" | "2"
"crm" | "1"
(2 rows)

root:> SELECT bool_and(created_at > TIMESTAMP '2024-01-01 00:00:00') AS stamped FROM system.namespaces;
[stamped Boolean]
true
(1 row)

root:> DROP TABLE app.b;
ok 0: Table app.b dropped successfully: files_deleted=0, bytes_freed=0

root:> SELECT name, table_count FROM system.namespaces WHERE name = 'app';
[name Text nn | table_count BigInt]
"app" | "1"
(1 row)

# Joins with our tables work like any other.
root:> SELECT n.name, count(t.table_name) AS tables FROM system.namespaces n LEFT JOIN system.tables t ON t.namespace_id = n.namespace_id GROUP BY n.name ORDER BY n.name;
[name Text nn | tables BigInt]
"app" | "1"
"crm" | "1"
"default" | "0"
(3 rows)

# System tables are read-only.
root:> INSERT INTO system.namespaces (namespace_id, name) VALUES ('x', 'x');
error 403 PERMISSION_DENIED: System table 'system.namespaces' is read-only

root:> DELETE FROM system.namespaces WHERE name = 'app';
error 403 PERMISSION_DENIED: System table 'system.namespaces' is read-only

root:> SELECT * FROM system.nope;
error 400 TABLE_NOT_FOUND: Table 'system.nope' not found
