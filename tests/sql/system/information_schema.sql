# information_schema (sql.md §7): DataFusion's standard views over the
# `kalam` catalog, `table_schema` = namespace.

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.items (id BIGINT PRIMARY KEY, title TEXT NOT NULL, price DECIMAL(10,2));
ok 0: Shared table app.items created successfully

root:> SELECT table_catalog, table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema = 'app' ORDER BY table_name;
[table_catalog Text | table_schema Text | table_name Text | table_type Text]
"kalam" | "app" | "items" | "BASE TABLE"
(1 row)

root:> SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema = 'system' ORDER BY table_name;
[table_schema Text | table_name Text]
"system" | "columns"
"system" | "jobs"
"system" | "live"
"system" | "namespaces"
"system" | "schemas"
"system" | "stats"
"system" | "storages"
"system" | "tables"
"system" | "users"
(9 rows)

root:> SELECT DISTINCT table_schema FROM information_schema.tables ORDER BY table_schema;
[table_schema Text]
"app"
"information_schema"
"system"
(3 rows)

root:> SELECT column_name, ordinal_position, data_type FROM information_schema.columns WHERE table_schema = 'app' AND table_name = 'items' ORDER BY ordinal_position;
[column_name Text | ordinal_position BigInt | data_type Text]
"id" | "0" | "Int64"
"title" | "1" | "Utf8"
"price" | "2" | "Decimal128(10, 2)"
"_seq" | "3" | "Int64"
"_deleted" | "4" | "Boolean"
(5 rows)

# The hidden row id of a table without a key is not a column.
root:> CREATE TABLE app.log (level TEXT, msg TEXT);
ok 0: Shared table app.log created successfully

root:> SELECT column_name FROM information_schema.columns WHERE table_schema = 'app' AND table_name = 'log' ORDER BY ordinal_position;
[column_name Text]
"level"
"msg"
"_seq"
"_deleted"
(4 rows)

root:> CREATE TABLE app.more (id TEXT PRIMARY KEY);
ok 0: Shared table app.more created successfully

root:> DROP TABLE app.items;
ok 0: Table app.items dropped successfully: files_deleted=0, bytes_freed=0

root:> SELECT table_name FROM information_schema.tables WHERE table_schema = 'app' ORDER BY table_name;
[table_name Text]
"log"
"more"
(2 rows)
