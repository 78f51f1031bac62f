# AUTO_INCREMENT / SERIAL (sql.md §2.4): the column becomes BIGINT with
# DEFAULT SNOWFLAKE_ID(); values are unique and increasing, not dense, so
# they are compared, not printed.

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.a (id INT AUTO_INCREMENT PRIMARY KEY, v TEXT);
ok 0: Shared table app.a created successfully

root:> CREATE TABLE app.b (id BIGINT AUTOINCREMENT PRIMARY KEY, v TEXT);
ok 0: Shared table app.b created successfully

root:> CREATE TABLE app.c (id SERIAL PRIMARY KEY, v TEXT);
ok 0: Shared table app.c created successfully

# Without a declared key, the only AUTO_INCREMENT column becomes the key.
root:> CREATE TABLE app.d (id INT AUTO_INCREMENT, v TEXT);
ok 0: Shared table app.d created successfully

root:> CREATE TABLE app.e (id BIGSERIAL, v TEXT);
ok 0: Shared table app.e created successfully

root:> DESCRIBE app.a;
[column_name Text nn | ordinal_position Int | column_id Int | data_type Text | is_nullable Boolean | is_primary_key Boolean | column_default Text | column_comment Text | schema_version Int]
"id" | 1 | 1 | "BIGINT" | false | true | "SNOWFLAKE_ID()" | null | 1
"v" | 2 | 2 | "TEXT" | true | false | null | null | 1
"_seq" | 3 | null | "BIGINT" | false | false | null | "Row version id (Snowflake)" | 1
"_deleted" | 4 | null | "BOOLEAN" | false | false | null | "Delete tombstone flag" | 1
(4 rows)

root:> DESCRIBE app.d;
[column_name Text nn | ordinal_position Int | column_id Int | data_type Text | is_nullable Boolean | is_primary_key Boolean | column_default Text | column_comment Text | schema_version Int]
"id" | 1 | 1 | "BIGINT" | false | true | "SNOWFLAKE_ID()" | null | 1
"v" | 2 | 2 | "TEXT" | true | false | null | null | 1
"_seq" | 3 | null | "BIGINT" | false | false | null | "Row version id (Snowflake)" | 1
"_deleted" | 4 | null | "BOOLEAN" | false | false | null | "Delete tombstone flag" | 1
(4 rows)

root:> DESCRIBE app.e;
[column_name Text nn | ordinal_position Int | column_id Int | data_type Text | is_nullable Boolean | is_primary_key Boolean | column_default Text | column_comment Text | schema_version Int]
"id" | 1 | 1 | "BIGINT" | false | true | "SNOWFLAKE_ID()" | null | 1
"v" | 2 | 2 | "TEXT" | true | false | null | null | 1
"_seq" | 3 | null | "BIGINT" | false | false | null | "Row version id (Snowflake)" | 1
"_deleted" | 4 | null | "BOOLEAN" | false | false | null | "Delete tombstone flag" | 1
(4 rows)

root:> INSERT INTO app.a (v) VALUES ('x'), ('y'), ('z');
ok 3: Inserted 3 row(s)

root:> INSERT INTO app.d (v) VALUES ('x'), ('y');
ok 2: Inserted 2 row(s)

root:> INSERT INTO app.e (v) VALUES ('x');
ok 1: Inserted 1 row(s)

root:> SELECT count(*) AS n, count(DISTINCT id) AS distinct_ids, min(id) > 0 AS positive FROM app.a;
[n BigInt | distinct_ids BigInt | positive Boolean]
"3" | "3" | true
(1 row)

# Increasing in insertion order.
root:> SELECT v, id > lag(id) OVER (ORDER BY v) AS increasing FROM app.a ORDER BY v;
[v Text | increasing Boolean]
"x" | null
"y" | true
"z" | true
(3 rows)

root:> SELECT arrow_typeof(id) AS t, v FROM app.d ORDER BY v;
[t Text | v Text]
"Int64" | "x"
"Int64" | "y"
(2 rows)

# Snowflake layout: the top bits are ms since 2024-01-01, so the id is far above 2^40.
root:> SELECT id > 1099511627776 AS snowflake_sized FROM app.e;
[snowflake_sized Boolean]
true
(1 row)

# An explicit value is used as given.
root:> INSERT INTO app.a (id, v) VALUES (42, 'explicit');
ok 1: Inserted 1 row(s)

root:> SELECT id, v FROM app.a WHERE id = 42;
[id BigInt pk,nn,uq | v Text]
"42" | "explicit"
(1 row)

root:> INSERT INTO app.a (id, v) VALUES (42, 'again');
error 400 SQL_EXECUTION_ERROR: Duplicate primary key value '42' in table 'app.a'

root:> INSERT INTO app.c VALUES (7, 'all columns');
ok 1: Inserted 1 row(s)

root:> SELECT id, v FROM app.c;
[id BigInt pk,nn,uq | v Text]
"7" | "all columns"
(1 row)

# Errors.
root:> CREATE TABLE app.x1 (id TEXT AUTO_INCREMENT PRIMARY KEY);
error 400 SQL_EXECUTION_ERROR: AUTO_INCREMENT requires an integer column

root:> CREATE TABLE app.x2 (id BIGINT PRIMARY KEY, f DOUBLE AUTO_INCREMENT);
error 400 SQL_EXECUTION_ERROR: AUTO_INCREMENT requires an integer column

root:> SELECT table_name FROM system.tables WHERE table_name LIKE 'x%';
[table_name Text nn]
(0 rows)

# Two AUTO_INCREMENT columns and no key: neither becomes the key (hidden row id).
root:> CREATE TABLE app.two (a INT AUTO_INCREMENT, b INT AUTO_INCREMENT, v TEXT);
ok 0: Shared table app.two created successfully

root:> DESCRIBE app.two;
[column_name Text nn | ordinal_position Int | column_id Int | data_type Text | is_nullable Boolean | is_primary_key Boolean | column_default Text | column_comment Text | schema_version Int]
"a" | 1 | 1 | "BIGINT" | true | false | "SNOWFLAKE_ID()" | null | 1
"b" | 2 | 2 | "BIGINT" | true | false | "SNOWFLAKE_ID()" | null | 1
"v" | 3 | 3 | "TEXT" | true | false | null | null | 1
"_seq" | 4 | null | "BIGINT" | false | false | null | "Row version id (Snowflake)" | 1
"_deleted" | 5 | null | "BOOLEAN" | false | false | null | "Delete tombstone flag" | 1
(5 rows)

root:> INSERT INTO app.two (v) VALUES ('x'), ('y');
ok 2: Inserted 2 row(s)

root:> SELECT count(*) AS n, count(DISTINCT a) AS a_values, count(DISTINCT b) AS b_values, bool_and(a <> b) AS differ FROM app.two;
[n BigInt | a_values BigInt | b_values BigInt | differ Boolean]
"2" | "2" | "2" | true
(1 row)
