root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.items (id BIGINT PRIMARY KEY, title TEXT NOT NULL, price DECIMAL(10,2));
ok 0: Shared table app.items created successfully

root:> SELECT column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'app' AND table_name = 'items' ORDER BY ordinal_position;
[column_name Text | is_nullable Text]
"id" | "NO"
"title" | "NO"
"price" | "YES"
"_seq" | "NO"
"_deleted" | "NO"
(5 rows)
