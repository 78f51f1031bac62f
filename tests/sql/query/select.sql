# SELECT over our tables (sql.md §3.5): joins, aggregates, windows, CTEs,
# subqueries, set operations, ordering and paging.

root:> CREATE NAMESPACE shop;
ok 0: Namespace 'shop' created successfully

root:> CREATE TABLE shop.customers (id BIGINT PRIMARY KEY, name TEXT NOT NULL, city TEXT, referrer BIGINT);
ok 0: Shared table shop.customers created successfully

root:> CREATE TABLE shop.orders (id BIGINT PRIMARY KEY, customer_id BIGINT, amount DECIMAL(10,2), status TEXT);
ok 0: Shared table shop.orders created successfully

root:> INSERT INTO shop.customers VALUES (1, 'Ada', 'London', NULL), (2, 'Bob', 'Paris', 1), (3, 'Cy', 'London', 1), (4, 'Di', NULL, 2);
ok 4: Inserted 4 row(s)

root:> INSERT INTO shop.orders VALUES (10, 1, 25.50, 'paid'), (11, 1, 10.00, 'paid'), (12, 2, 99.99, 'open'), (13, 3, 5.25, 'paid'), (14, 9, 1.00, 'open');
ok 5: Inserted 5 row(s)

root:> SELECT * FROM shop.customers WHERE id = 2;
[id BigInt pk,nn,uq | name Text nn | city Text | referrer BigInt | _seq BigInt nn | _deleted Boolean nn]
"2" | "Bob" | "Paris" | "1" | <seq> | false
(1 row)

root:> SELECT name, city FROM shop.customers WHERE city = 'London' ORDER BY name;
[name Text nn | city Text]
"Ada" | "London"
"Cy" | "London"
(2 rows)

root:> SELECT name FROM shop.customers WHERE city IS NULL OR name LIKE 'B%' ORDER BY name;
[name Text nn]
"Bob"
"Di"
(2 rows)

# Joins.
root:> SELECT c.name, o.id AS order_id, o.amount FROM shop.customers c JOIN shop.orders o ON o.customer_id = c.id ORDER BY o.id;
[name Text nn | order_id BigInt pk,nn,uq | amount {"Decimal":{"precision":10,"scale":2}}]
"Ada" | "10" | "25.50"
"Ada" | "11" | "10.00"
"Bob" | "12" | "99.99"
"Cy" | "13" | "5.25"
(4 rows)

root:> SELECT c.name, count(o.id) AS orders, sum(o.amount) AS total FROM shop.customers c LEFT JOIN shop.orders o ON o.customer_id = c.id GROUP BY c.name ORDER BY c.name;
[name Text nn | orders BigInt | total {"Decimal":{"precision":20,"scale":2}}]
"Ada" | "2" | "35.50"
"Bob" | "1" | "99.99"
"Cy" | "1" | "5.25"
"Di" | "0" | null
(4 rows)

root:> SELECT o.id, c.name IS NULL AS orphan FROM shop.orders o LEFT JOIN shop.customers c ON c.id = o.customer_id ORDER BY o.id;
[id BigInt pk,nn,uq | orphan Boolean]
"10" | false
"11" | false
"12" | false
"13" | false
"14" | true
(5 rows)

root:> SELECT c.name, r.name AS referred_by FROM shop.customers c JOIN shop.customers r ON c.referrer = r.id ORDER BY c.name;
[name Text nn | referred_by Text nn]
"Bob" | "Ada"
"Cy" | "Ada"
"Di" | "Bob"
(3 rows)

root:> SELECT c.name, o.status FROM shop.customers c, shop.orders o WHERE o.customer_id = c.id AND o.amount > 20 ORDER BY c.name;
[name Text nn | status Text]
"Ada" | "paid"
"Bob" | "open"
(2 rows)

# Aggregates, GROUP BY, HAVING.
root:> SELECT count(*) AS n, sum(amount) AS total, min(amount) AS lo, max(amount) AS hi, avg(amount) AS mean FROM shop.orders;
[n BigInt | total {"Decimal":{"precision":20,"scale":2}} | lo {"Decimal":{"precision":10,"scale":2}} | hi {"Decimal":{"precision":10,"scale":2}} | mean {"Decimal":{"precision":14,"scale":6}}]
"5" | "141.74" | "1.00" | "99.99" | "28.348000"
(1 row)

root:> SELECT status, count(*) AS n, sum(amount) AS total FROM shop.orders GROUP BY status ORDER BY status;
[status Text | n BigInt | total {"Decimal":{"precision":20,"scale":2}}]
"open" | "2" | "100.99"
"paid" | "3" | "40.75"
(2 rows)

root:> SELECT customer_id, sum(amount) AS total FROM shop.orders GROUP BY customer_id HAVING sum(amount) > 20 ORDER BY customer_id;
[customer_id BigInt | total {"Decimal":{"precision":20,"scale":2}}]
"1" | "35.50"
"2" | "99.99"
(2 rows)

root:> SELECT city, count(*) AS n FROM shop.customers GROUP BY city ORDER BY city NULLS FIRST;
[city Text | n BigInt]
null | "1"
"London" | "2"
"Paris" | "1"
(3 rows)

root:> SELECT count(DISTINCT city) AS cities, count(city) AS with_city, count(*) AS all_rows FROM shop.customers;
[cities BigInt | with_city BigInt | all_rows BigInt]
"2" | "3" | "4"
(1 row)

# Window functions.
root:> SELECT id, customer_id, amount, row_number() OVER (PARTITION BY customer_id ORDER BY id) AS rn, sum(amount) OVER (PARTITION BY customer_id) AS customer_total FROM shop.orders ORDER BY id;
[id BigInt pk,nn,uq | customer_id BigInt | amount {"Decimal":{"precision":10,"scale":2}} | rn BigInt | customer_total {"Decimal":{"precision":20,"scale":2}}]
"10" | "1" | "25.50" | "1" | "35.50"
"11" | "1" | "10.00" | "2" | "35.50"
"12" | "2" | "99.99" | "1" | "99.99"
"13" | "3" | "5.25" | "1" | "5.25"
"14" | "9" | "1.00" | "1" | "1.00"
(5 rows)

root:> SELECT id, rank() OVER (ORDER BY amount DESC) AS rnk, lag(amount) OVER (ORDER BY id) AS prev_amount FROM shop.orders ORDER BY id;
[id BigInt pk,nn,uq | rnk BigInt | prev_amount {"Decimal":{"precision":10,"scale":2}}]
"10" | "2" | null
"11" | "3" | "25.50"
"12" | "1" | "10.00"
"13" | "4" | "99.99"
"14" | "5" | "5.25"
(5 rows)

# CTEs and subqueries.
root:> WITH totals AS (SELECT customer_id, sum(amount) AS total FROM shop.orders GROUP BY customer_id)
SELECT c.name, t.total FROM totals t JOIN shop.customers c ON c.id = t.customer_id ORDER BY t.total DESC;
[name Text nn | total {"Decimal":{"precision":20,"scale":2}}]
"Bob" | "99.99"
"Ada" | "35.50"
"Cy" | "5.25"
(3 rows)

root:> SELECT name FROM shop.customers WHERE id IN (SELECT customer_id FROM shop.orders WHERE status = 'paid') ORDER BY name;
[name Text nn]
"Ada"
"Cy"
(2 rows)

root:> SELECT name FROM shop.customers c WHERE NOT EXISTS (SELECT 1 FROM shop.orders o WHERE o.customer_id = c.id) ORDER BY name;
[name Text nn]
"Di"
(1 row)

root:> SELECT name, (SELECT count(*) FROM shop.orders o WHERE o.customer_id = c.id) AS orders FROM shop.customers c ORDER BY name;
[name Text nn | orders BigInt]
"Ada" | "2"
"Bob" | "1"
"Cy" | "1"
"Di" | "0"
(4 rows)

root:> SELECT max(n) AS most FROM (SELECT customer_id, count(*) AS n FROM shop.orders GROUP BY customer_id) sub;
[most BigInt]
"2"
(1 row)

# Set operations.
root:> SELECT city AS v FROM shop.customers WHERE city IS NOT NULL UNION SELECT status FROM shop.orders ORDER BY v;
[v Text]
"London"
"Paris"
"open"
"paid"
(4 rows)

root:> SELECT customer_id AS v FROM shop.orders UNION ALL SELECT id FROM shop.customers ORDER BY v;
[v BigInt]
"1"
"1"
"1"
"2"
"2"
"3"
"3"
"4"
"9"
(9 rows)

root:> SELECT id FROM shop.customers EXCEPT SELECT customer_id FROM shop.orders ORDER BY id;
[id BigInt pk,nn,uq]
"4"
(1 row)

root:> SELECT id FROM shop.customers INTERSECT SELECT customer_id FROM shop.orders ORDER BY id;
[id BigInt pk,nn,uq]
"1"
"2"
"3"
(3 rows)

# Ordering and paging.
root:> SELECT id FROM shop.orders ORDER BY amount DESC LIMIT 2;
[id BigInt pk,nn,uq]
"12"
"10"
(2 rows)

root:> SELECT id FROM shop.orders ORDER BY id LIMIT 2 OFFSET 2;
[id BigInt pk,nn,uq]
"12"
"13"
(2 rows)

root:> SELECT id FROM shop.orders ORDER BY id OFFSET 4;
[id BigInt pk,nn,uq]
"14"
(1 row)

root:> SELECT id FROM shop.orders ORDER BY id LIMIT 0;
[id BigInt pk,nn,uq]
(0 rows)

root:> SELECT name, city FROM shop.customers ORDER BY city DESC NULLS LAST, name;
[name Text nn | city Text]
"Bob" | "Paris"
"Ada" | "London"
"Cy" | "London"
"Di" | null
(4 rows)

# Expressions without tables, DISTINCT, CASE.
root:> SELECT 1 + 1 AS two, 'a' || 'b' AS ab, CASE WHEN 2 > 1 THEN 'yes' ELSE 'no' END AS c;
[two BigInt | ab Text | c Text]
"2" | "ab" | "yes"
(1 row)

root:> SELECT DISTINCT status FROM shop.orders ORDER BY status;
[status Text]
"open"
"paid"
(2 rows)

root:> SELECT id, CASE WHEN amount >= 25 THEN 'big' ELSE 'small' END AS size FROM shop.orders ORDER BY id;
[id BigInt pk,nn,uq | size Text]
"10" | "big"
"11" | "small"
"12" | "big"
"13" | "small"
"14" | "small"
(5 rows)

# Empty results keep their schema.
root:> SELECT id, name FROM shop.customers WHERE id < 0;
[id BigInt pk,nn,uq | name Text nn]
(0 rows)

# Errors.
root:> SELECT nope FROM shop.customers;
error 400 SQL_EXECUTION_ERROR: Schema error: No field named nope. Did you mean 'shop.customers.name'?\nValid fields are shop.customers.id, shop.customers.name, shop.customers.city, shop.customers.referrer, shop.customers._seq, shop.customers._deleted.

root:> SELECT * FROM shop.nope;
error 400 TABLE_NOT_FOUND: Table 'shop.nope' not found

root:> SELECT * FROM nope.customers;
error 400 TABLE_NOT_FOUND: Table 'nope.customers' not found

root:> SELECT * FROM shop.customers WHERE;
error 400 INVALID_SQL: sql parser error: Expected: an expression, found: EOF

root:> SELEC 1;
error 400 INVALID_SQL: sql parser error: Expected: an SQL statement, found: SELEC at Line: 1, Column: 1
