# Value encoding of every type (wire-protocol.md §3.4-3.5): BIGINT as
# strings, timestamps as µs numbers, DECIMAL as strings with exactly `s`
# decimals, bytes as arrays, dates as days, times as µs since midnight.

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.all_types (
    id BIGINT PRIMARY KEY,
    b BOOLEAN, s SMALLINT, i INT, big BIGINT,
    f FLOAT, d DOUBLE, dec DECIMAL(10,2),
    t TEXT, bin BYTES, j JSON, u UUID,
    ts TIMESTAMP, dt DATETIME, da DATE, ti TIME
);
ok 0: Shared table app.all_types created successfully

root:> INSERT INTO app.all_types VALUES (1, true, 7, 42, 9007199254740993, 1.5, 2.25, 200.75, 'hi', 'hi', '{"a":1,"b":[true,null]}', '01900000-0000-7000-8000-000000000001', '2026-01-14 17:07:29.929', '2026-01-14T17:07:29.929Z', '2025-05-06', '10:00:00');
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.all_types VALUES (2, false, -32768, -2147483648, -9223372036854775808, -0.5, 1e100, -0.01, '', X'00FF', '[]', '00000000-0000-0000-0000-000000000000', '1970-01-01 00:00:00', '1969-12-31 23:59:59', '1970-01-01', '00:00:00.000001');
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.all_types VALUES (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.all_types (id, dec, t) VALUES (4, 5, 'unicode: é ✓ 😀 "quoted" \ back');
ok 1: Inserted 1 row(s)

root:> SELECT * FROM app.all_types ORDER BY id;
[id BigInt pk,nn,uq | b Boolean | s SmallInt | i Int | big BigInt | f Float | d Double | dec {"Decimal":{"precision":10,"scale":2}} | t Text | bin Bytes | j Json | u Uuid | ts Timestamp | dt DateTime | da Date | ti Time | _seq BigInt nn | _deleted Boolean nn]
"1" | true | 7 | 42 | "9007199254740993" | 1.5 | 2.25 | "200.75" | "hi" | [104,105] | "{\"a\":1,\"b\":[true,null]}" | "01900000-0000-7000-8000-000000000001" | 1768410449929000 | 1768410449929000 | 20214 | 36000000000 | <seq> | false
"2" | false | -32768 | -2147483648 | "-9223372036854775808" | -0.5 | 1e+100 | "-0.01" | "" | [0,255] | "[]" | "00000000-0000-0000-0000-000000000000" | 0 | -1000000 | 0 | 1 | <seq> | false
"3" | null | null | null | null | null | null | null | null | null | null | null | null | null | null | null | <seq> | false
"4" | null | null | null | null | null | null | "5.00" | "unicode: é ✓ 😀 \"quoted\" \\ back" | null | null | null | null | null | null | null | <seq> | false
(4 rows)

# Small BIGINTs are strings too, and so are the PK and _seq.
root:> SELECT id, big FROM app.all_types WHERE id = 4;
[id BigInt pk,nn,uq | big BigInt]
"4" | null
(1 row)

# Computed columns map from Arrow types.
root:> SELECT CAST(1 AS TINYINT) AS i8, CAST(1 AS SMALLINT) AS i16, CAST(1 AS INT) AS i32, CAST(1 AS BIGINT) AS i64, 1 AS lit, CAST(1 AS INT UNSIGNED) AS u32, CAST(1 AS BIGINT UNSIGNED) AS u64;
[i8 SmallInt | i16 SmallInt | i32 Int | i64 BigInt | lit BigInt | u32 BigInt | u64 BigInt]
1 | 1 | 1 | "1" | "1" | "1" | "1"
(1 row)

root:> SELECT CAST(1.5 AS FLOAT) AS f32, CAST(1.5 AS DOUBLE) AS f64, 1.5 AS lit, CAST(1.5 AS DECIMAL(5,3)) AS dec, true AS flag, 'x' AS txt;
[f32 Float | f64 Double | lit Double | dec {"Decimal":{"precision":5,"scale":3}} | flag Boolean | txt Text]
1.5 | 1.5 | 1.5 | "1.500" | true | "x"
(1 row)

root:> SELECT CAST('2024-01-01' AS DATE) AS d, CAST('2024-01-01T00:00:01' AS TIMESTAMP) AS ts, to_timestamp_millis(1000) AS ms, to_timestamp_seconds(1) AS secs, CAST('01:02:03' AS TIME) AS t;
[d Date | ts Timestamp | ms Timestamp | secs Timestamp | t Time]
19723 | 1704067201000000 | 1000000 | 1000000 | 3723000000
(1 row)

root:> SELECT make_array(1, 2, 3) AS list, named_struct('a', 1, 'b', 'x') AS st, INTERVAL '1 day' AS iv, CAST(NULL AS TEXT) AS nul;
[list Json | st Json | iv Text | nul Text]
["1","2","3"] | {"a":"1","b":"x"} | "1 days" | null
(1 row)

root:> SELECT sum(i) AS sum_int, count(*) AS cnt, avg(i) AS avg_int, sum(dec) AS sum_dec FROM app.all_types;
[sum_int BigInt | cnt BigInt | avg_int Double | sum_dec {"Decimal":{"precision":20,"scale":2}}]
"-2147483606" | "4" | -1073741803.0 | "205.74"
(1 row)

root:> SELECT ts, dt, ts + INTERVAL '1 second' AS later, date_trunc('day', ts) AS day FROM app.all_types WHERE id = 1;
[ts Timestamp | dt DateTime | later Timestamp | day Timestamp]
1768410449929000 | 1768410449929000 | 1768410450929000 | 1768348800000000
(1 row)

root:> SELECT u, j, length(j) AS j_len FROM app.all_types WHERE id = 1;
[u Uuid | j Json | j_len Int]
"01900000-0000-7000-8000-000000000001" | "{\"a\":1,\"b\":[true,null]}" | 23
(1 row)

root:> SELECT bin, encode(bin, 'hex') AS hex FROM app.all_types WHERE id IN (1, 2) ORDER BY id;
[bin Bytes | hex Text]
[104,105] | "6869"
[0,255] | "00ff"
(2 rows)

# NaN and infinities cannot be encoded: the statement fails.
root:> SELECT CAST('NaN' AS DOUBLE) AS x;
error 400 SQL_EXECUTION_ERROR: Column 'x' holds a non-finite float (NaN or infinity), which JSON cannot carry

root:> SELECT 1.0 / 0.0 AS inf;
error 400 SQL_EXECUTION_ERROR: Column 'inf' holds a non-finite float (NaN or infinity), which JSON cannot carry

root:> SELECT CAST('-inf' AS FLOAT) AS x;
error 400 SQL_EXECUTION_ERROR: Column 'x' holds a non-finite float (NaN or infinity), which JSON cannot carry
