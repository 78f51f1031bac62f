# INSERT … SELECT matches source columns by position (issue 25): their
# names never matter, so unnamed literals, NULLs and repeated expressions
# are accepted as PostgreSQL accepts them.
root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.t (id BIGINT PRIMARY KEY, a TEXT, b TEXT);
ok 0: Shared table app.t created successfully

# Unnamed literals and two NULLs (both named `NULL` by the planner).
root:> INSERT INTO app.t SELECT 1, NULL, NULL;
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.t (id, a, b) SELECT 2, NULL, NULL;
ok 1: Inserted 1 row(s)

# The same expression twice.
root:> INSERT INTO app.t SELECT 3, 'x', 'x';
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.t SELECT 4, lower('Y'), lower('Y');
ok 1: Inserted 1 row(s)

# A column list in another order than the table's.
root:> INSERT INTO app.t (b, a, id) SELECT 'bb', 'aa', 5;
ok 1: Inserted 1 row(s)

root:> CREATE TABLE app.src (id BIGINT PRIMARY KEY, v TEXT);
ok 0: Shared table app.src created successfully

root:> INSERT INTO app.src VALUES (10, 'p'), (11, 'q');
ok 2: Inserted 2 row(s)

# A column read twice, and twice under one alias.
root:> INSERT INTO app.t SELECT id, v, v FROM app.src;
ok 2: Inserted 2 row(s)

root:> INSERT INTO app.t SELECT id + 100 AS id, v AS x, v AS x FROM app.src WHERE id = 10;
ok 1: Inserted 1 row(s)

# Reordered list, computed columns, and an ORDER BY naming a source column.
root:> INSERT INTO app.t (id, b, a) SELECT id + 200, v, upper(v) FROM app.src ORDER BY v;
ok 2: Inserted 2 row(s)

# Each branch of a UNION.
root:> INSERT INTO app.t SELECT 300, NULL, 'u' UNION ALL SELECT 301, NULL, 'u';
ok 2: Inserted 2 row(s)

root:> SELECT id, a, b FROM app.t ORDER BY id;
[id BigInt pk,nn,uq | a Text | b Text]
"1" | null | null
"2" | null | null
"3" | "x" | "x"
"4" | "y" | "y"
"5" | "aa" | "bb"
"10" | "p" | "p"
"11" | "q" | "q"
"110" | "p" | "p"
"210" | "P" | "p"
"211" | "Q" | "q"
"300" | null | "u"
"301" | null | "u"
(12 rows)
