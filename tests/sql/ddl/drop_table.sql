# DROP TABLE (sql.md §2.7): metrics message, IF EXISTS, kind keyword,
# system tables; the name is free again at once.

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.items (id BIGINT PRIMARY KEY, title TEXT);
ok 0: Shared table app.items created successfully

root:> INSERT INTO app.items VALUES (1, 'a'), (2, 'b');
ok 2: Inserted 2 row(s)

root:> DROP TABLE app.items;
ok 0: Table app.items dropped successfully: files_deleted=0, bytes_freed=86

root:> SELECT * FROM app.items;
error 400 TABLE_NOT_FOUND: Table 'app.items' not found

root:> SELECT table_name FROM system.tables WHERE namespace_id = 'app';
[table_name Text nn]
(0 rows)

root:> SELECT count(*) AS n FROM system.columns WHERE namespace_id = 'app' AND table_name = 'items';
[n BigInt]
"0"
(1 row)

root:> DROP TABLE app.items;
error 400 TABLE_NOT_FOUND: Table 'app.items' not found

root:> DROP TABLE IF EXISTS app.items;
ok 0: Table app.items does not exist (skipped)

root:> DROP TABLE IF EXISTS nope.items;
ok 0: Table nope.items does not exist (skipped)

root:> DROP TABLE nope.items;
error 400 TABLE_NOT_FOUND: Table 'nope.items' not found

# Recreated under the same name: empty, with the new definition.
root:> CREATE TABLE app.items (id TEXT PRIMARY KEY, note TEXT);
ok 0: Shared table app.items created successfully

root:> SELECT * FROM app.items;
[id Text pk,nn,uq | note Text | _seq BigInt nn | _deleted Boolean nn]
(0 rows)

root:> INSERT INTO app.items VALUES ('1', 'new');
ok 1: Inserted 1 row(s)

root:> SELECT id, note FROM app.items;
[id Text pk,nn,uq | note Text]
"1" | "new"
(1 row)

# Kind keywords must match the table's kind.
root:> DROP USER TABLE app.items;
error 400 SQL_EXECUTION_ERROR: Table app.items is a SHARED table, not a USER table

root:> DROP STREAM TABLE app.items;
error 400 SQL_EXECUTION_ERROR: Table app.items is a SHARED table, not a STREAM table

root:> DROP SHARED TABLE app.items;
ok 0: Table app.items dropped successfully: files_deleted=0, bytes_freed=41

root:> CREATE USER TABLE app.mine (id BIGINT PRIMARY KEY);
ok 0: User table app.mine created successfully

root:> DROP SHARED TABLE app.mine;
error 400 SQL_EXECUTION_ERROR: Table app.mine is a USER table, not a SHARED table

root:> DROP USER TABLE IF EXISTS app.mine;
ok 0: Table app.mine dropped successfully: files_deleted=0, bytes_freed=0

# Unqualified names use the current namespace.
root:> CREATE TABLE app.u (id BIGINT PRIMARY KEY);
ok 0: Shared table app.u created successfully

root:> USE app; DROP TABLE u;
ok 0: Namespace switched to 'app'
ok 0: Table app.u dropped successfully: files_deleted=0, bytes_freed=0

root:> DROP TABLE system.users;
error 403 PERMISSION_DENIED: System table 'system.users' is read-only

root:> DROP TABLE system.tables;
error 403 PERMISSION_DENIED: System table 'system.tables' is read-only

root:> SELECT table_name FROM system.tables WHERE namespace_id = 'app';
[table_name Text nn]
(0 rows)
