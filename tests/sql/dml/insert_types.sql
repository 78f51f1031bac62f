# Literal conversion and validation per column type (sql.md §3.1):
# JSON must be valid, UUIDs canonical, timestamps from text or µs.
mask: created_at

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.v (id INT PRIMARY KEY, j JSON, u UUID, ts TIMESTAMP, dt DATETIME, d DATE, t TIME, b BYTES, dec DECIMAL(6,2), flag BOOLEAN, small SMALLINT, f FLOAT);
ok 0: Shared table app.v created successfully

root:> INSERT INTO app.v (id, j) VALUES (1, '{"a":[1,2,{"b":null}]}'), (2, '[1, 2]'), (3, '"str"'), (4, '42');
ok 4: Inserted 4 row(s)

root:> INSERT INTO app.v (id, j) VALUES (5, '{bad json');
error 400 SQL_EXECUTION_ERROR: Invalid JSON for column 'j'

root:> INSERT INTO app.v (id, j) VALUES (5, '');
error 400 SQL_EXECUTION_ERROR: Invalid JSON for column 'j'

root:> INSERT INTO app.v (id, u) VALUES (10, '0190a6e2-5c2b-7d3e-8f4a-1b2c3d4e5f60');
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.v (id, u) VALUES (11, '0190A6E2-5C2B-7D3E-8F4A-1B2C3D4E5F61');
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.v (id, u) VALUES (12, 'not-a-uuid');
error 400 SQL_EXECUTION_ERROR: Cannot cast 'not-a-uuid' to UUID for column 'u'

root:> INSERT INTO app.v (id, u) VALUES (12, '0190a6e2-5c2b-7d3e-8f4a');
error 400 SQL_EXECUTION_ERROR: Cannot cast '0190a6e2-5c2b-7d3e-8f4a' to UUID for column 'u'

root:> INSERT INTO app.v (id, ts, dt) VALUES (20, '2024-01-01T00:00:00Z', '2024-01-01 12:30:00');
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.v (id, ts, dt) VALUES (21, '2024-06-15 08:00:00.123456', '2024-06-15T10:00:00+02:00');
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.v (id, ts) VALUES (22, '2024-06-15');
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.v (id, ts) VALUES (23, 1718438400000000);
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.v (id, d, t) VALUES (30, '2024-02-29', '10:00:00');
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.v (id, b) VALUES (40, 'hi'), (41, X'00FF10');
ok 2: Inserted 2 row(s)

root:> INSERT INTO app.v (id, dec) VALUES (50, 12.34), (51, '200.75'), (52, 7);
ok 3: Inserted 3 row(s)

root:> INSERT INTO app.v (id, flag) VALUES (60, true), (61, 'false');
ok 2: Inserted 2 row(s)

root:> INSERT INTO app.v (id, small) VALUES (70, 32767);
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.v (id, f) VALUES (80, 1.5);
ok 1: Inserted 1 row(s)

root:> SELECT * FROM app.v ORDER BY id;
[id Int pk,nn,uq | j Json | u Uuid | ts Timestamp | dt DateTime | d Date | t Time | b Bytes | dec {"Decimal":{"precision":6,"scale":2}} | flag Boolean | small SmallInt | f Float | _seq BigInt nn | _deleted Boolean nn]
1 | "{\"a\":[1,2,{\"b\":null}]}" | null | null | null | null | null | null | null | null | null | null | <seq> | false
2 | "[1, 2]" | null | null | null | null | null | null | null | null | null | null | <seq> | false
3 | "\"str\"" | null | null | null | null | null | null | null | null | null | null | <seq> | false
4 | "42" | null | null | null | null | null | null | null | null | null | null | <seq> | false
10 | null | "0190a6e2-5c2b-7d3e-8f4a-1b2c3d4e5f60" | null | null | null | null | null | null | null | null | null | <seq> | false
11 | null | "0190a6e2-5c2b-7d3e-8f4a-1b2c3d4e5f61" | null | null | null | null | null | null | null | null | null | <seq> | false
20 | null | null | 1704067200000000 | 1704112200000000 | null | null | null | null | null | null | null | <seq> | false
21 | null | null | 1718438400123456 | 1718438400000000 | null | null | null | null | null | null | null | <seq> | false
22 | null | null | 1718409600000000 | null | null | null | null | null | null | null | null | <seq> | false
23 | null | null | 1718438400000000 | null | null | null | null | null | null | null | null | <seq> | false
30 | null | null | null | null | 19782 | 36000000000 | null | null | null | null | null | <seq> | false
40 | null | null | null | null | null | null | [104,105] | null | null | null | null | <seq> | false
41 | null | null | null | null | null | null | [0,255,16] | null | null | null | null | <seq> | false
50 | null | null | null | null | null | null | null | "12.34" | null | null | null | <seq> | false
51 | null | null | null | null | null | null | null | "200.75" | null | null | null | <seq> | false
52 | null | null | null | null | null | null | null | "7.00" | null | null | null | <seq> | false
60 | null | null | null | null | null | null | null | null | true | null | null | <seq> | false
61 | null | null | null | null | null | null | null | null | false | null | null | <seq> | false
70 | null | null | null | null | null | null | null | null | null | 32767 | null | <seq> | false
80 | null | null | null | null | null | null | null | null | null | null | 1.5 | <seq> | false
(20 rows)
