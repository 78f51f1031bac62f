root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.items (id BIGINT PRIMARY KEY, title TEXT, qty INT);
ok 0: Shared table app.items created successfully

root:> INSERT INTO app.items VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 3);
ok 3: Inserted 3 row(s)

root:> CREATE TABLE app.copy (id BIGINT PRIMARY KEY, title TEXT);
ok 0: Shared table app.copy created successfully

root:> INSERT INTO app.copy SELECT id, title FROM app.items WHERE id <= 2;
ok 2: Inserted 2 row(s)

root:> INSERT INTO app.copy (title, id) SELECT title, id + 10 FROM app.items WHERE id = 3;
ok 1: Inserted 1 row(s)

root:> SELECT id, title FROM app.copy ORDER BY id;
[id BigInt pk,nn,uq | title Text]
"1" | "a"
"2" | "b"
"13" | "c"
(3 rows)

root:> INSERT INTO app.copy SELECT id, title FROM app.items WHERE id = 1;
error 400 SQL_EXECUTION_ERROR: Duplicate primary key value '1' in table 'app.copy'

root:> CREATE TABLE app.seqs (id BIGINT PRIMARY KEY, s BIGINT);
ok 0: Shared table app.seqs created successfully

root:> INSERT INTO app.seqs SELECT id, _seq FROM app.items;
ok 3: Inserted 3 row(s)

root:> SELECT count(*) AS n FROM app.seqs s JOIN app.items i ON i.id = s.id AND i._seq = s.s;
[n BigInt]
"3"
(1 row)
