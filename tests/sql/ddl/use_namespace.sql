# USE / SET NAMESPACE last until the end of the request; unqualified names
# resolve to the last USE, else the request's namespace_id, else `default`
# (sql.md §0, §1). `kalam.ns.t` is the same table as `ns.t`.

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE NAMESPACE other;
ok 0: Namespace 'other' created successfully

root:> CREATE TABLE app.items (id BIGINT PRIMARY KEY, title TEXT);
ok 0: Shared table app.items created successfully

root:> CREATE TABLE other.items (id BIGINT PRIMARY KEY, title TEXT);
ok 0: Shared table other.items created successfully

root:> USE app;
ok 0: Namespace switched to 'app'

root:> USE NAMESPACE app;
ok 0: Namespace switched to 'app'

root:> SET NAMESPACE app;
ok 0: Namespace switched to 'app'

root:> USE missing;
error 400 SQL_EXECUTION_ERROR: Namespace 'missing' not found

# Unqualified names in the same request follow the last USE.
root:> USE app; INSERT INTO items VALUES (1, 'in app'); SELECT id, title FROM items;
ok 0: Namespace switched to 'app'
[id BigInt pk,nn,uq | title Text]
"1" | "in app"
(1 row)
ok 1: Inserted 1 row(s)

root:> USE other; INSERT INTO items (id, title) VALUES (2, 'in other'); USE app; SELECT id, title FROM items;
ok 0: Namespace switched to 'other'
ok 0: Namespace switched to 'app'
[id BigInt pk,nn,uq | title Text]
"1" | "in app"
(1 row)
ok 1: Inserted 1 row(s)

root:> SELECT id, title FROM other.items;
[id BigInt pk,nn,uq | title Text]
"2" | "in other"
(1 row)

# USE does not outlive its request: `items` is looked up in `default` again.
root:> SELECT id, title FROM items;
error 400 TABLE_NOT_FOUND: Table 'default.items' not found

# Tables created unqualified after USE land in that namespace.
root:> USE other; CREATE TABLE notes (id BIGINT PRIMARY KEY);
ok 0: Namespace switched to 'other'
ok 0: Shared table other.notes created successfully

root:> SELECT namespace_id, table_name FROM system.tables ORDER BY namespace_id, table_name;
[namespace_id Text nn | table_name Text nn]
"app" | "items"
"other" | "items"
"other" | "notes"
"system" | "columns"
"system" | "jobs"
"system" | "live"
"system" | "namespaces"
"system" | "schemas"
"system" | "stats"
"system" | "storages"
"system" | "tables"
"system" | "users"
(12 rows)

# The default namespace exists from the first start.
root:> CREATE TABLE plain (id INT PRIMARY KEY, v TEXT);
ok 0: Shared table default.plain created successfully

root:> INSERT INTO plain VALUES (1, 'x');
ok 1: Inserted 1 row(s)

root:> SELECT id, v FROM default.plain;
[id Int pk,nn,uq | v Text]
1 | "x"
(1 row)

root:> SELECT id, v FROM kalam.default.plain;
[id Int pk,nn,uq | v Text]
1 | "x"
(1 row)

# Catalog-qualified names.
root:> SELECT id, title FROM kalam.app.items;
[id BigInt pk,nn,uq | title Text]
"1" | "in app"
(1 row)

root:> INSERT INTO kalam.app.items VALUES (3, 'via catalog');
ok 1: Inserted 1 row(s)

root:> SELECT a.id, a.title FROM kalam.app.items a JOIN app.items b ON a.id = b.id ORDER BY a.id;
[id BigInt pk,nn,uq | title Text]
"1" | "in app"
"3" | "via catalog"
(2 rows)

root:> SELECT id FROM kalam.nope.items;
error 400 TABLE_NOT_FOUND: Table 'nope.items' not found

# namespace_id in the request body sets the namespace for unqualified names.
namespace: other
root:> SELECT id, title FROM items;
[id BigInt pk,nn,uq | title Text]
"2" | "in other"
(1 row)

root:> USE app; SELECT id, title FROM items ORDER BY id;
ok 0: Namespace switched to 'app'
[id BigInt pk,nn,uq | title Text]
"1" | "in app"
"3" | "via catalog"
(2 rows)

namespace:
root:> SELECT id, v FROM plain;
[id Int pk,nn,uq | v Text]
1 | "x"
(1 row)
