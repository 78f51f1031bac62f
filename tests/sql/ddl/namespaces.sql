# Namespaces (sql.md §0, §1): create, exists, reserved and invalid names,
# drop with and without CASCADE, SHOW NAMESPACES, USE, kalam.ns.t.
mask: created_at

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE NAMESPACE app;
error 400 SQL_EXECUTION_ERROR: Namespace 'app' already exists

root:> CREATE NAMESPACE IF NOT EXISTS app;
ok 0: Namespace 'app' already exists

root:> create namespace if not exists Shop;
ok 0: Namespace 'shop' created successfully

# Quoted identifiers keep their case.
root:> CREATE NAMESPACE "Mixed";
ok 0: Namespace 'Mixed' created successfully

# Reserved namespaces, whatever the case.
root:> CREATE NAMESPACE system;
error 400 SQL_EXECUTION_ERROR: Namespace 'system' is reserved and cannot be used

root:> CREATE NAMESPACE "information_schema";
error 400 SQL_EXECUTION_ERROR: Namespace 'information_schema' is reserved and cannot be used

root:> CREATE NAMESPACE KALAM;
error 400 SQL_EXECUTION_ERROR: Namespace 'kalam' is reserved and cannot be used

root:> CREATE NAMESPACE IF NOT EXISTS sys;
error 400 SQL_EXECUTION_ERROR: Namespace 'sys' is reserved and cannot be used

# Name rules.
root:> CREATE NAMESPACE "1abc";
error 400 SQL_EXECUTION_ERROR: Name cannot start with a number

root:> CREATE NAMESPACE _hidden;
error 400 SQL_EXECUTION_ERROR: Name cannot start with underscore (reserved for system columns)

root:> CREATE NAMESPACE "a-b";
error 400 SQL_EXECUTION_ERROR: Name 'a-b' contains invalid characters (only alphanumeric and underscore allowed)

root:> CREATE NAMESPACE "select";
error 400 SQL_EXECUTION_ERROR: Name 'select' is a reserved SQL keyword and cannot be used

root:> CREATE NAMESPACE abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij12345;
error 400 SQL_EXECUTION_ERROR: Name is too long (65 characters, max 64)

root:> CREATE NAMESPACE abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234;
ok 0: Namespace 'abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234' created successfully

# Unquoted names that are not identifiers are parse errors.
root:> CREATE NAMESPACE 1abc;
error 400 INVALID_SQL: sql parser error: Expected: identifier, found: 1 at Line: 1, Column: 18

root:> SHOW NAMESPACES;
[namespace_id Text pk,nn,uq | name Text nn | created_at Timestamp | options Json | table_count BigInt]
"Mixed" | "Mixed" | <masked> | "{}" | "0"
"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234" | "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234" | <masked> | "{}" | "0"
"app" | "app" | <masked> | "{}" | "0"
"default" | "default" | <masked> | "{}" | "0"
"shop" | "shop" | <masked> | "{}" | "0"
(5 rows)

root:> SELECT namespace_id, name, table_count FROM system.namespaces ORDER BY namespace_id;
[namespace_id Text pk,nn,uq | name Text nn | table_count BigInt]
"Mixed" | "Mixed" | "0"
"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234" | "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234" | "0"
"app" | "app" | "0"
"default" | "default" | "0"
"shop" | "shop" | "0"
(5 rows)

# A namespace holding tables is not dropped without CASCADE.
root:> CREATE TABLE app.items (id BIGINT PRIMARY KEY, title TEXT);
ok 0: Shared table app.items created successfully

root:> CREATE TABLE app.tags (id BIGINT PRIMARY KEY);
ok 0: Shared table app.tags created successfully

root:> INSERT INTO app.items VALUES (1, 'one');
ok 1: Inserted 1 row(s)

root:> DROP NAMESPACE app;
error 400 SQL_EXECUTION_ERROR: Namespace 'app' contains 2 table(s); use DROP NAMESPACE app CASCADE

root:> SELECT name, table_count FROM system.namespaces WHERE name = 'app';
[name Text nn | table_count BigInt]
"app" | "2"
(1 row)

root:> DROP NAMESPACE app CASCADE;
ok 0: Namespace 'app' dropped successfully

root:> SELECT name FROM system.namespaces WHERE name = 'app';
[name Text nn]
(0 rows)

root:> SELECT table_name FROM system.tables WHERE namespace_id = 'app';
[table_name Text nn]
(0 rows)

root:> SELECT * FROM app.items;
error 400 TABLE_NOT_FOUND: Table 'app.items' not found

# The name is free again, and the old tables are gone with it.
root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.items (id BIGINT PRIMARY KEY, title TEXT);
ok 0: Shared table app.items created successfully

root:> SELECT id, title FROM app.items;
[id BigInt pk,nn,uq | title Text]
(0 rows)

root:> DROP NAMESPACE shop;
ok 0: Namespace 'shop' dropped successfully

root:> DROP NAMESPACE shop;
error 400 SQL_EXECUTION_ERROR: Namespace 'shop' not found

root:> DROP NAMESPACE IF EXISTS shop;
ok 0: Namespace 'shop' does not exist

root:> DROP NAMESPACE default;
error 400 SQL_EXECUTION_ERROR: Namespace 'default' is reserved and cannot be used

root:> DROP NAMESPACE system;
error 400 SQL_EXECUTION_ERROR: Namespace 'system' is reserved and cannot be used

root:> DROP NAMESPACE IF EXISTS information_schema;
error 400 SQL_EXECUTION_ERROR: Namespace 'information_schema' is reserved and cannot be used

root:> SHOW NAMESPACES;
[namespace_id Text pk,nn,uq | name Text nn | created_at Timestamp | options Json | table_count BigInt]
"Mixed" | "Mixed" | <masked> | "{}" | "0"
"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234" | "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234" | <masked> | "{}" | "0"
"app" | "app" | <masked> | "{}" | "1"
"default" | "default" | <masked> | "{}" | "0"
(4 rows)
