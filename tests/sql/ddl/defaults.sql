# DEFAULT literals and functions (sql.md §2.4), evaluated per row at
# INSERT for omitted columns. Varying values are checked through
# expressions rather than printed.
mask: created_at, at_now, at_current, on_date

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.lits (
    id BIGINT PRIMARY KEY,
    n INT DEFAULT 7,
    big BIGINT DEFAULT 9000000000,
    f DOUBLE DEFAULT 1.5,
    s TEXT DEFAULT 'hello',
    b BOOLEAN DEFAULT true,
    d DECIMAL(6,2) DEFAULT 12.5,
    j JSON DEFAULT '{"k":1}',
    neg INT DEFAULT -3,
    nul TEXT DEFAULT NULL,
    dt DATE DEFAULT '2024-02-29',
    ts TIMESTAMP DEFAULT '2024-01-01 00:00:00'
);
ok 0: Shared table app.lits created successfully

root:> DESCRIBE app.lits;
[column_name Text nn | ordinal_position Int | column_id Int | data_type Text | is_nullable Boolean | is_primary_key Boolean | column_default Text | column_comment Text | schema_version Int]
"id" | 1 | 1 | "BIGINT" | false | true | null | null | 1
"n" | 2 | 2 | "INT" | true | false | "7" | null | 1
"big" | 3 | 3 | "BIGINT" | true | false | "9000000000" | null | 1
"f" | 4 | 4 | "DOUBLE" | true | false | "1.5" | null | 1
"s" | 5 | 5 | "TEXT" | true | false | "'hello'" | null | 1
"b" | 6 | 6 | "BOOLEAN" | true | false | "true" | null | 1
"d" | 7 | 7 | "DECIMAL(6,2)" | true | false | "12.5" | null | 1
"j" | 8 | 8 | "JSON" | true | false | "'{\"k\":1}'" | null | 1
"neg" | 9 | 9 | "INT" | true | false | "-3" | null | 1
"nul" | 10 | 10 | "TEXT" | true | false | "NULL" | null | 1
"dt" | 11 | 11 | "DATE" | true | false | "'2024-02-29'" | null | 1
"ts" | 12 | 12 | "TIMESTAMP" | true | false | "'2024-01-01 00:00:00'" | null | 1
"_seq" | 13 | null | "BIGINT" | false | false | null | "Row version id (Snowflake)" | 1
"_deleted" | 14 | null | "BOOLEAN" | false | false | null | "Delete tombstone flag" | 1
(14 rows)

root:> INSERT INTO app.lits (id) VALUES (1);
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.lits (id, n, s) VALUES (2, 8, 'given');
ok 1: Inserted 1 row(s)

# An explicit NULL is a value, not an omission.
root:> INSERT INTO app.lits (id, n, s) VALUES (3, NULL, NULL);
ok 1: Inserted 1 row(s)

root:> SELECT * FROM app.lits ORDER BY id;
[id BigInt pk,nn,uq | n Int | big BigInt | f Double | s Text | b Boolean | d {"Decimal":{"precision":6,"scale":2}} | j Json | neg Int | nul Text | dt Date | ts Timestamp | _seq BigInt nn | _deleted Boolean nn]
"1" | 7 | "9000000000" | 1.5 | "hello" | true | "12.50" | "{\"k\":1}" | -3 | null | 19782 | 1704067200000000 | <seq> | false
"2" | 8 | "9000000000" | 1.5 | "given" | true | "12.50" | "{\"k\":1}" | -3 | null | 19782 | 1704067200000000 | <seq> | false
"3" | null | "9000000000" | 1.5 | null | true | "12.50" | "{\"k\":1}" | -3 | null | 19782 | 1704067200000000 | <seq> | false
(3 rows)

root:> CREATE TABLE app.fns (
    id BIGINT PRIMARY KEY,
    at_now TIMESTAMP DEFAULT NOW(),
    at_current DATETIME DEFAULT CURRENT_TIMESTAMP,
    on_date DATE DEFAULT NOW(),
    sf BIGINT DEFAULT SNOWFLAKE_ID(),
    u UUID DEFAULT UUID_V7(),
    u_text TEXT DEFAULT UUID_V7(),
    ul TEXT DEFAULT ULID()
);
ok 0: Shared table app.fns created successfully

root:> DESCRIBE app.fns;
[column_name Text nn | ordinal_position Int | column_id Int | data_type Text | is_nullable Boolean | is_primary_key Boolean | column_default Text | column_comment Text | schema_version Int]
"id" | 1 | 1 | "BIGINT" | false | true | null | null | 1
"at_now" | 2 | 2 | "TIMESTAMP" | true | false | "NOW()" | null | 1
"at_current" | 3 | 3 | "DATETIME" | true | false | "NOW()" | null | 1
"on_date" | 4 | 4 | "DATE" | true | false | "NOW()" | null | 1
"sf" | 5 | 5 | "BIGINT" | true | false | "SNOWFLAKE_ID()" | null | 1
"u" | 6 | 6 | "UUID" | true | false | "UUID_V7()" | null | 1
"u_text" | 7 | 7 | "TEXT" | true | false | "UUID_V7()" | null | 1
"ul" | 8 | 8 | "TEXT" | true | false | "ULID()" | null | 1
"_seq" | 9 | null | "BIGINT" | false | false | null | "Row version id (Snowflake)" | 1
"_deleted" | 10 | null | "BOOLEAN" | false | false | null | "Delete tombstone flag" | 1
(10 rows)

root:> INSERT INTO app.fns (id) VALUES (1), (2), (3);
ok 3: Inserted 3 row(s)

mask: sf, u, u_text, ul
root:> SELECT * FROM app.fns WHERE id = 1;
[id BigInt pk,nn,uq | at_now Timestamp | at_current DateTime | on_date Date | sf BigInt | u Uuid | u_text Text | ul Text | _seq BigInt nn | _deleted Boolean nn]
"1" | <masked> | <masked> | <masked> | <masked> | <masked> | <masked> | <masked> | <seq> | false
(1 row)
unmask: sf, u, u_text, ul

# NOW() is the statement start time: the same for every row of one INSERT.
root:> SELECT count(DISTINCT at_now) AS now_values, count(DISTINCT at_current) AS current_values, count(DISTINCT sf) AS snowflakes, count(DISTINCT u) AS uuids, count(DISTINCT ul) AS ulids FROM app.fns;
[now_values BigInt | current_values BigInt | snowflakes BigInt | uuids BigInt | ulids BigInt]
"1" | "1" | "3" | "3" | "3"
(1 row)

# ...and it is the current time (within a day of the query's own now()).
root:> SELECT bool_and(abs(extract(epoch FROM now()) - extract(epoch FROM at_now)) < 86400) AS recent FROM app.fns;
[recent Boolean]
true
(1 row)

root:> SELECT id, length(u_text) AS uuid_len, substr(u_text, 15, 1) AS uuid_version, length(ul) AS ulid_len, ul = upper(ul) AS ulid_upper, sf > 1099511627776 AS snowflake_sized FROM app.fns ORDER BY id;
[id BigInt pk,nn,uq | uuid_len Int | uuid_version Text | ulid_len Int | ulid_upper Boolean | snowflake_sized Boolean]
"1" | 36 | "7" | 26 | true | true
"2" | 36 | "7" | 26 | true | true
"3" | 36 | "7" | 26 | true | true
(3 rows)

root:> SELECT id, substr(CAST(u AS TEXT), 15, 1) AS version, u <> CAST(u_text AS UUID) AS distinct_from_text FROM app.fns ORDER BY id;
error 400 SQL_EXECUTION_ERROR: This feature is not implemented: Unsupported SQL type UUID

# Given values win over defaults.
root:> INSERT INTO app.fns (id, sf, u_text, ul) VALUES (4, 5, 'mine', 'also mine');
ok 1: Inserted 1 row(s)

root:> SELECT id, sf, u_text, ul FROM app.fns WHERE id = 4;
[id BigInt pk,nn,uq | sf BigInt | u_text Text | ul Text]
"4" | "5" | "mine" | "also mine"
(1 row)

# The functions are ordinary SQL functions too.
root:> SELECT length(ULID()) AS ulid_len, length(CAST(UUID_V7() AS TEXT)) AS uuid_len, SNOWFLAKE_ID() > 0 AS positive;
[ulid_len Int | uuid_len Int | positive Boolean]
26 | 36 | true
(1 row)

# CURRENT_USER() is the effective user.
root:> CREATE TABLE app.owned (id BIGINT PRIMARY KEY, who TEXT DEFAULT CURRENT_USER());
ok 0: Shared table app.owned created successfully

root:> INSERT INTO app.owned (id) VALUES (1);
ok 1: Inserted 1 row(s)

root:> SELECT id, who, CURRENT_USER() AS me FROM app.owned;
[id BigInt pk,nn,uq | who Text | me Text]
"1" | "root" | "root"
(1 row)

# Wrong column types for default functions and literals.
root:> CREATE TABLE app.x1 (id BIGINT PRIMARY KEY, v INT DEFAULT SNOWFLAKE_ID());
error 400 SQL_EXECUTION_ERROR: DEFAULT SNOWFLAKE_ID() requires a BIGINT column

root:> CREATE TABLE app.x2 (id BIGINT PRIMARY KEY, v BIGINT DEFAULT NOW());
error 400 SQL_EXECUTION_ERROR: DEFAULT NOW() requires a TIMESTAMP, DATETIME or DATE column

root:> CREATE TABLE app.x3 (id BIGINT PRIMARY KEY, v INT DEFAULT ULID());
error 400 SQL_EXECUTION_ERROR: DEFAULT ULID() requires a TEXT column

root:> CREATE TABLE app.x4 (id BIGINT PRIMARY KEY, v BIGINT DEFAULT UUID_V7());
error 400 SQL_EXECUTION_ERROR: DEFAULT UUID_V7() requires a UUID or TEXT column

# A literal DEFAULT that does not fit its column is refused up front.
root:> CREATE TABLE app.x5 (id BIGINT PRIMARY KEY, v INT DEFAULT 'abc');
error 400 SQL_EXECUTION_ERROR: Invalid DEFAULT for column 'v': Cannot cast 'abc' to INT for column 'v'

root:> CREATE TABLE app.x6 (id BIGINT PRIMARY KEY, v TEXT DEFAULT RANDOM_THING());
error 400 SQL_EXECUTION_ERROR: Unsupported DEFAULT 'RANDOM_THING()' for column 'v': use a literal, NOW(), CURRENT_TIMESTAMP, SNOWFLAKE_ID(), UUID_V7(), ULID() or CURRENT_USER()

root:> CREATE TABLE app.x7 (id BIGINT PRIMARY KEY, v UUID DEFAULT ULID());
error 400 SQL_EXECUTION_ERROR: DEFAULT ULID() requires a TEXT column

root:> CREATE TABLE app.x8 (id BIGINT PRIMARY KEY, v JSON DEFAULT '{not json');
ok 0: Shared table app.x8 created successfully

root:> SELECT table_name FROM system.tables WHERE table_name LIKE 'x%';
[table_name Text nn]
"x8"
(1 row)

# A JSON DEFAULT is validated when it is used.
root:> INSERT INTO app.x8 (id) VALUES (1);
error 400 SQL_EXECUTION_ERROR: Invalid JSON for column 'v'
