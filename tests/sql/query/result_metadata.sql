# Flags describe the result column, not the table column it came from: a
# LEFT JOIN's outer side, lag(), or a UNION with NULL can be null, so they
# carry no `pk,nn,uq`/`nn` (clients trust `nn`; wire-protocol.md §3.3).

root:> CREATE NAMESPACE shop;
ok 0: Namespace 'shop' created successfully

root:> CREATE TABLE shop.customers (id BIGINT PRIMARY KEY, name TEXT NOT NULL, ref UUID);
ok 0: Shared table shop.customers created successfully

root:> CREATE TABLE shop.orders (id BIGINT PRIMARY KEY, customer_id BIGINT);
ok 0: Shared table shop.orders created successfully

root:> INSERT INTO shop.customers VALUES (1, 'Ada', '01900000-0000-7000-8000-000000000001'), (2, 'Di', NULL);
ok 2: Inserted 2 row(s)

root:> INSERT INTO shop.orders VALUES (10, 1), (11, 9);
ok 2: Inserted 2 row(s)

root:> SELECT c.name, o.id AS order_id FROM shop.customers c LEFT JOIN shop.orders o ON o.customer_id = c.id ORDER BY c.id;
[name Text nn | order_id BigInt]
"Ada" | "10"
"Di" | null
(2 rows)

root:> SELECT o.id, c.name FROM shop.orders o LEFT JOIN shop.customers c ON c.id = o.customer_id ORDER BY o.id;
[id BigInt pk,nn,uq | name Text]
"10" | "Ada"
"11" | null
(2 rows)

root:> SELECT id, lag(id) OVER (ORDER BY id) AS prev FROM shop.orders ORDER BY id;
[id BigInt pk,nn,uq | prev BigInt]
"10" | null
"11" | "10"
(2 rows)

root:> SELECT id FROM shop.orders WHERE id = 10 UNION ALL SELECT NULL ORDER BY id NULLS LAST;
[id BigInt]
"10"
null
(2 rows)
