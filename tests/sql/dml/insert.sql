# INSERT (sql.md §3.1): multi-row, column lists, defaults, and every error.

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.items (id BIGINT PRIMARY KEY, title TEXT NOT NULL, qty INT DEFAULT 1, note TEXT);
ok 0: Shared table app.items created successfully

root:> INSERT INTO app.items VALUES (1, 'one', 10, 'n1');
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.items VALUES (2, 'two', 20, NULL), (3, 'three', 30, 'n3'), (4, 'four', 40, 'n4');
ok 3: Inserted 3 row(s)

# Column list in any order; omitted columns get DEFAULT or NULL.
root:> INSERT INTO app.items (title, id) VALUES ('five', 5);
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.items (id, title, qty) VALUES (6, 'six', NULL);
ok 1: Inserted 1 row(s)

root:> SELECT id, title, qty, note FROM app.items ORDER BY id;
[id BigInt pk,nn,uq | title Text nn | qty Int | note Text]
"1" | "one" | 10 | "n1"
"2" | "two" | 20 | null
"3" | "three" | 30 | "n3"
"4" | "four" | 40 | "n4"
"5" | "five" | 1 | null
"6" | "six" | null | null
(6 rows)

# Duplicate keys: against stored rows, and within one statement (atomic: nothing written).
root:> INSERT INTO app.items VALUES (1, 'dup', 0, NULL);
error 400 SQL_EXECUTION_ERROR: Duplicate primary key value '1' in table 'app.items'

root:> INSERT INTO app.items VALUES (7, 'seven', 0, NULL), (7, 'seven again', 0, NULL);
error 400 SQL_EXECUTION_ERROR: Duplicate primary key value '7' in table 'app.items'

root:> INSERT INTO app.items VALUES (8, 'eight', 0, NULL), (2, 'two again', 0, NULL);
error 400 SQL_EXECUTION_ERROR: Duplicate primary key value '2' in table 'app.items'

root:> SELECT id FROM app.items WHERE id >= 7;
[id BigInt pk,nn,uq]
(0 rows)

# NOT NULL, explicitly and by omission; the PK is NOT NULL too.
root:> INSERT INTO app.items (id, title) VALUES (9, NULL);
error 400 SQL_EXECUTION_ERROR: Column 'title' cannot be NULL

root:> INSERT INTO app.items (id) VALUES (9);
error 400 SQL_EXECUTION_ERROR: Column 'title' cannot be NULL

root:> INSERT INTO app.items (title) VALUES ('no id');
error 400 SQL_EXECUTION_ERROR: Column 'id' cannot be NULL

root:> INSERT INTO app.items VALUES (NULL, 'null id', 1, NULL);
error 400 SQL_EXECUTION_ERROR: Column 'id' cannot be NULL

# Wrong value counts.
root:> INSERT INTO app.items VALUES (10, 'ten');
error 400 SQL_EXECUTION_ERROR: INSERT has 2 values but 4 columns

root:> INSERT INTO app.items (id, title) VALUES (10, 'ten', 3);
error 400 SQL_EXECUTION_ERROR: INSERT has 3 values but 2 columns

root:> INSERT INTO app.items VALUES (10, 'ten', 1, 'n', 'extra');
error 400 SQL_EXECUTION_ERROR: INSERT has 5 values but 4 columns

# Unknown columns and tables.
root:> INSERT INTO app.items (id, title, color) VALUES (10, 'ten', 'red');
error 400 SQL_EXECUTION_ERROR: Column 'color' not found in table 'app.items'

root:> INSERT INTO app.nope VALUES (1);
error 400 TABLE_NOT_FOUND: Table 'app.nope' not found

root:> INSERT INTO nope.items VALUES (1);
error 400 TABLE_NOT_FOUND: Table 'nope.items' not found

# System columns are not writable.
root:> INSERT INTO app.items (id, title, _seq) VALUES (10, 'ten', 5);
error 400 SQL_EXECUTION_ERROR: System column '_seq' cannot be written

root:> INSERT INTO app.items (id, title, _deleted) VALUES (10, 'ten', true);
error 400 SQL_EXECUTION_ERROR: System column '_deleted' cannot be written

# Casts.
root:> INSERT INTO app.items (id, title) VALUES ('11', 'string id');
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.items (id, title, qty) VALUES (12, 'int from text', '12');
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.items (id, title) VALUES (13, 42);
ok 1: Inserted 1 row(s)

root:> SELECT id, title, qty FROM app.items WHERE id > 10 ORDER BY id;
[id BigInt pk,nn,uq | title Text nn | qty Int]
"11" | "string id" | 1
"12" | "int from text" | 12
"13" | "42" | 1
(3 rows)

root:> SELECT count(*) AS n FROM app.items;
[n BigInt]
"9"
(1 row)
