# BUG: CAST(uuid AS TEXT) still reports data_type `Uuid`: UUID columns are
# Arrow Utf8 with the declared type in field metadata, and DataFusion keeps
# the metadata through the no-op cast (wire-protocol.md §3.4 wants `Text`).

root:> CREATE NAMESPACE shop;
ok 0: Namespace 'shop' created successfully

root:> CREATE TABLE shop.customers (id BIGINT PRIMARY KEY, name TEXT NOT NULL, ref UUID);
ok 0: Shared table shop.customers created successfully

root:> INSERT INTO shop.customers VALUES (1, 'Ada', '01900000-0000-7000-8000-000000000001');
ok 1: Inserted 1 row(s)

root:> SELECT CAST(ref AS TEXT) AS ref_text FROM shop.customers WHERE id = 1;
[ref_text Text]
"01900000-0000-7000-8000-000000000001"
(1 row)
