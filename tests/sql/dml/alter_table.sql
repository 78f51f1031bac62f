# ALTER TABLE (sql.md §2.6): every change is a new schema version; stored
# rows (hot, and in Parquet segments in the flushed modes, compacted in
# the flushed-after-every-statement mode) are never rewritten, and read
# through the current version: added columns show their DEFAULT (or NULL),
# dropped columns vanish, renamed ones keep their data, widened ones are
# converted.

user: alice Alice-pass-123
user: bob Bob-pass-12345

root:> CREATE NAMESPACE chat;
ok 0: Namespace 'chat' created successfully

root:> CREATE USER alice WITH PASSWORD 'Alice-pass-123' ROLE user;
ok 0: User 'alice' created

root:> CREATE USER bob WITH PASSWORD 'Bob-pass-12345' ROLE user;
ok 0: User 'bob' created

alice:> CREATE USER TABLE chat.messages (id BIGINT PRIMARY KEY, body TEXT NOT NULL, n SMALLINT, score FLOAT, extra TEXT);
ok 0: User table chat.messages created successfully

alice:> INSERT INTO chat.messages VALUES (1, 'hi from alice', 1, 1.5, 'x'), (2, 'second', NULL, NULL, NULL);
ok 2: Inserted 2 row(s)

bob:> INSERT INTO chat.messages VALUES (1, 'hi from bob', 7, 2.25, 'y');
ok 1: Inserted 1 row(s)

# ADD COLUMN: older rows read NULL, or the DEFAULT given with the ADD.
alice:> ALTER TABLE chat.messages ADD COLUMN reply_to BIGINT;
ok 0: Table chat.messages altered successfully: ADD COLUMN reply_to BIGINT (version 2)

alice:> ALTER TABLE chat.messages ADD COLUMN lang TEXT NOT NULL DEFAULT 'en';
ok 0: Table chat.messages altered successfully: ADD COLUMN lang TEXT NOT NULL DEFAULT 'en' (version 3)

alice:> SELECT * FROM chat.messages ORDER BY id;
[id BigInt pk,nn,uq | body Text nn | n SmallInt | score Float | extra Text | reply_to BigInt | lang Text nn | _seq BigInt nn | _deleted Boolean nn]
"1" | "hi from alice" | 1 | 1.5 | "x" | null | "en" | <seq> | false
"2" | "second" | null | null | null | null | "en" | <seq> | false
(2 rows)

bob:> SELECT * FROM chat.messages ORDER BY id;
[id BigInt pk,nn,uq | body Text nn | n SmallInt | score Float | extra Text | reply_to BigInt | lang Text nn | _seq BigInt nn | _deleted Boolean nn]
"1" | "hi from bob" | 7 | 2.25 | "y" | null | "en" | <seq> | false
(1 row)

alice:> INSERT INTO chat.messages (id, body, reply_to) VALUES (3, 'a reply', 1);
ok 1: Inserted 1 row(s)

alice:> INSERT INTO chat.messages (id, body, lang) VALUES (4, 'hola', 'es');
ok 1: Inserted 1 row(s)

alice:> SELECT id, reply_to, lang FROM chat.messages ORDER BY id;
[id BigInt pk,nn,uq | reply_to BigInt | lang Text nn]
"1" | null | "en"
"2" | null | "en"
"3" | "1" | "en"
"4" | null | "es"
(4 rows)

# A later SET DEFAULT applies to new rows only; older rows keep what they read.
alice:> ALTER TABLE chat.messages ALTER COLUMN lang SET DEFAULT 'fr';
ok 0: Table chat.messages altered successfully: ALTER COLUMN lang SET DEFAULT 'fr' (version 4)

alice:> INSERT INTO chat.messages (id, body) VALUES (5, 'bonjour');
ok 1: Inserted 1 row(s)

alice:> SELECT id, lang FROM chat.messages ORDER BY id;
[id BigInt pk,nn,uq | lang Text nn]
"1" | "en"
"2" | "en"
"3" | "en"
"4" | "es"
"5" | "fr"
(5 rows)

# RENAME keeps the data; the old name is gone.
alice:> ALTER TABLE chat.messages RENAME COLUMN body TO content;
ok 0: Table chat.messages altered successfully: RENAME COLUMN body TO content (version 5)

alice:> SELECT id, content FROM chat.messages WHERE id <= 2 ORDER BY id;
[id BigInt pk,nn,uq | content Text nn]
"1" | "hi from alice"
"2" | "second"
(2 rows)

alice:> SELECT body FROM chat.messages;
error 400 SQL_EXECUTION_ERROR: Schema error: No field named body.\nValid fields are chat.messages.id, chat.messages.content, chat.messages.n, chat.messages.score, chat.messages.extra, chat.messages.reply_to, chat.messages.lang, chat.messages._seq, chat.messages._deleted.

# MODIFY widens: SMALLINT to BIGINT, FLOAT to DOUBLE, anything to TEXT.
alice:> ALTER TABLE chat.messages MODIFY COLUMN n BIGINT;
ok 0: Table chat.messages altered successfully: MODIFY COLUMN n BIGINT (version 6)

alice:> ALTER TABLE chat.messages MODIFY score DOUBLE;
ok 0: Table chat.messages altered successfully: MODIFY COLUMN score DOUBLE (version 7)

alice:> ALTER TABLE chat.messages MODIFY COLUMN reply_to TEXT;
ok 0: Table chat.messages altered successfully: MODIFY COLUMN reply_to TEXT (version 8)

alice:> INSERT INTO chat.messages (id, content, n, score, reply_to) VALUES (6, 'big', 5000000000, 0.1, 'thread-9');
ok 1: Inserted 1 row(s)

alice:> SELECT id, n, score, reply_to FROM chat.messages ORDER BY id;
[id BigInt pk,nn,uq | n BigInt | score Double | reply_to Text]
"1" | "1" | 1.5 | null
"2" | null | null | null
"3" | null | null | "1"
"4" | null | null | null
"5" | null | null | null
"6" | "5000000000" | 0.1 | "thread-9"
(6 rows)

bob:> SELECT id, n, score FROM chat.messages;
[id BigInt pk,nn,uq | n BigInt | score Double]
"1" | "7" | 2.25
(1 row)

# DROP: the column vanishes from every row; a new column of the same name
# starts empty (columns keep stable ids, never reused).
alice:> ALTER TABLE chat.messages DROP COLUMN extra;
ok 0: Table chat.messages altered successfully: DROP COLUMN extra (version 9)

alice:> ALTER TABLE chat.messages ADD COLUMN extra TEXT;
ok 0: Table chat.messages altered successfully: ADD COLUMN extra TEXT (version 10)

alice:> SELECT id, extra FROM chat.messages ORDER BY id;
[id BigInt pk,nn,uq | extra Text]
"1" | null
"2" | null
"3" | null
"4" | null
"5" | null
"6" | null
(6 rows)

bob:> SELECT * FROM chat.messages;
[id BigInt pk,nn,uq | content Text nn | n BigInt | score Double | reply_to Text | lang Text nn | extra Text | _seq BigInt nn | _deleted Boolean nn]
"1" | "hi from bob" | "7" | 2.25 | null | "en" | null | <seq> | false
(1 row)

# UPDATE and DELETE of rows written under older versions.
alice:> UPDATE chat.messages SET content = 'edited' WHERE id = 1;
ok 1: Updated 1 row(s)

alice:> DELETE FROM chat.messages WHERE id = 2;
ok 1: Deleted 1 row(s)

alice:> SELECT id, content, n, lang, extra FROM chat.messages ORDER BY id;
[id BigInt pk,nn,uq | content Text nn | n BigInt | lang Text nn | extra Text]
"1" | "edited" | "1" | "en" | null
"3" | "a reply" | null | "en" | null
"4" | "hola" | null | "es" | null
"5" | "bonjour" | null | "fr" | null
"6" | "big" | "5000000000" | "fr" | null
(5 rows)

# NOT NULL: refused while a row holds NULL, accepted once none does.
alice:> ALTER TABLE chat.messages ALTER COLUMN n SET NOT NULL;
error 400 SQL_EXECUTION_ERROR: Column 'n' contains NULL values

alice:> UPDATE chat.messages SET n = 0 WHERE n IS NULL;
ok 3: Updated 3 row(s)

alice:> ALTER TABLE chat.messages ALTER COLUMN n SET NOT NULL;
ok 0: Table chat.messages altered successfully: ALTER COLUMN n SET NOT NULL (version 11)

alice:> INSERT INTO chat.messages (id, content) VALUES (7, 'no n');
error 400 SQL_EXECUTION_ERROR: Column 'n' cannot be NULL

alice:> ALTER TABLE chat.messages ALTER COLUMN n DROP NOT NULL;
ok 0: Table chat.messages altered successfully: ALTER COLUMN n DROP NOT NULL (version 12)

alice:> INSERT INTO chat.messages (id, content) VALUES (7, 'no n');
ok 1: Inserted 1 row(s)

alice:> ALTER TABLE chat.messages ADD COLUMN must TEXT NOT NULL;
error 400 SQL_EXECUTION_ERROR: Cannot add NOT NULL column 'must' without DEFAULT to a non-empty table

alice:> DESCRIBE TABLE chat.messages;
[column_name Text nn | ordinal_position Int | column_id Int | data_type Text | is_nullable Boolean | is_primary_key Boolean | column_default Text | column_comment Text | schema_version Int]
"id" | 1 | 1 | "BIGINT" | false | true | null | null | 12
"content" | 2 | 2 | "TEXT" | false | false | null | null | 12
"n" | 3 | 3 | "BIGINT" | true | false | null | null | 12
"score" | 4 | 4 | "DOUBLE" | true | false | null | null | 12
"reply_to" | 5 | 6 | "TEXT" | true | false | null | null | 12
"lang" | 6 | 7 | "TEXT" | false | false | "'fr'" | null | 12
"extra" | 7 | 8 | "TEXT" | true | false | null | null | 12
"_seq" | 8 | null | "BIGINT" | false | false | null | "Row version id (Snowflake)" | 12
"_deleted" | 9 | null | "BOOLEAN" | false | false | null | "Delete tombstone flag" | 12
(9 rows)

root:> SELECT schema_version, json_length(columns) AS columns, is_latest FROM system.schemas WHERE table_id = 'chat.messages' ORDER BY schema_version;
[schema_version Int nn | columns BigInt | is_latest Boolean nn]
1 | "5" | false
2 | "6" | false
3 | "7" | false
4 | "7" | false
5 | "7" | false
6 | "7" | false
7 | "7" | false
8 | "7" | false
9 | "6" | false
10 | "7" | false
11 | "7" | false
12 | "7" | true
(12 rows)

# A change that changes nothing makes no version.
alice:> ALTER TABLE chat.messages ALTER COLUMN n DROP NOT NULL;
ok 0: Table chat.messages unchanged: ALTER COLUMN n DROP NOT NULL (version 12 - no changes needed)

alice:> ALTER TABLE chat.messages RENAME COLUMN n TO n;
ok 0: Table chat.messages unchanged: RENAME COLUMN n TO n (version 12 - no changes needed)

alice:> ALTER TABLE chat.messages MODIFY COLUMN n BIGINT;
ok 0: Table chat.messages unchanged: MODIFY COLUMN n BIGINT (version 12 - no changes needed)

# Errors: nothing changes.
alice:> ALTER TABLE chat.messages DROP COLUMN id;
error 400 SQL_EXECUTION_ERROR: Cannot drop, rename or change the PRIMARY KEY column 'id'

alice:> ALTER TABLE chat.messages RENAME COLUMN id TO key;
error 400 SQL_EXECUTION_ERROR: Cannot drop, rename or change the PRIMARY KEY column 'id'

alice:> ALTER TABLE chat.messages MODIFY COLUMN id TEXT;
error 400 SQL_EXECUTION_ERROR: Cannot drop, rename or change the PRIMARY KEY column 'id'

alice:> ALTER TABLE chat.messages ALTER COLUMN id DROP NOT NULL;
error 400 SQL_EXECUTION_ERROR: Column 'id' is a PRIMARY KEY and cannot be nullable

alice:> ALTER TABLE chat.messages DROP COLUMN nope;
error 400 SQL_EXECUTION_ERROR: Column 'nope' not found in table 'chat.messages'

alice:> ALTER TABLE chat.messages ADD COLUMN lang TEXT;
error 400 SQL_EXECUTION_ERROR: Column 'lang' already exists

alice:> ALTER TABLE chat.messages RENAME COLUMN content TO lang;
error 400 SQL_EXECUTION_ERROR: Column 'lang' already exists

alice:> ALTER TABLE chat.messages MODIFY COLUMN content INT;
error 400 SQL_EXECUTION_ERROR: Cannot change column 'content' from TEXT to INT

alice:> ALTER TABLE chat.messages MODIFY COLUMN n INT;
error 400 SQL_EXECUTION_ERROR: Cannot change column 'n' from BIGINT to INT

alice:> ALTER TABLE chat.messages ADD COLUMN _hidden INT;
error 400 SQL_EXECUTION_ERROR: Column name '_hidden' is reserved and cannot be used

alice:> ALTER TABLE chat.messages ADD COLUMN at TIMESTAMP DEFAULT SNOWFLAKE_ID();
error 400 SQL_EXECUTION_ERROR: DEFAULT SNOWFLAKE_ID() requires a BIGINT column

alice:> ALTER TABLE chat.messages ALTER COLUMN n SET DEFAULT 'abc';
error 400 SQL_EXECUTION_ERROR: Invalid DEFAULT for column 'n': Cannot cast 'abc' to BIGINT for column 'n'

alice:> ALTER TABLE chat.messages ADD COLUMN k INT DEFAULT 'abc';
error 400 SQL_EXECUTION_ERROR: Invalid DEFAULT for column 'k': Cannot cast 'abc' to INT for column 'k'

alice:> ALTER TABLE chat.messages SET ACCESS LEVEL public;
error 400 SQL_EXECUTION_ERROR: SET ACCESS LEVEL is only valid for SHARED tables

alice:> ALTER TABLE chat.messages SET TBLPROPERTIES (TTL_SECONDS = 5);
error 400 SQL_EXECUTION_ERROR: TTL_SECONDS is only valid for STREAM tables

alice:> ALTER TABLE chat.nope ADD COLUMN x INT;
error 400 TABLE_NOT_FOUND: Table 'chat.nope' not found

alice:> ALTER TABLE system.users ADD COLUMN x INT;
error 403 PERMISSION_DENIED: System table 'system.users' is read-only

# Defaults that differ per row fill nothing for older rows; NOW() is
# evaluated once, at the ALTER, for all of them.
alice:> ALTER TABLE chat.messages ADD COLUMN tag BIGINT DEFAULT SNOWFLAKE_ID();
ok 0: Table chat.messages altered successfully: ADD COLUMN tag BIGINT DEFAULT SNOWFLAKE_ID() (version 13)

alice:> ALTER TABLE chat.messages ADD COLUMN seen TIMESTAMP DEFAULT NOW();
ok 0: Table chat.messages altered successfully: ADD COLUMN seen TIMESTAMP DEFAULT NOW() (version 14)

alice:> INSERT INTO chat.messages (id, content) VALUES (8, 'after');
ok 1: Inserted 1 row(s)

alice:> SELECT id, tag IS NULL AS no_tag, seen IS NOT NULL AS has_seen FROM chat.messages ORDER BY id;
[id BigInt pk,nn,uq | no_tag Boolean | has_seen Boolean]
"1" | true | true
"3" | true | true
"4" | true | true
"5" | true | true
"6" | true | true
"7" | true | true
"8" | false | true
(7 rows)

alice:> SELECT count(DISTINCT seen) AS distinct_seen FROM chat.messages WHERE id < 8;
[distinct_seen BigInt]
"1"
(1 row)

alice:> ALTER TABLE chat.messages ADD COLUMN uid TEXT NOT NULL DEFAULT ULID();
error 400 SQL_EXECUTION_ERROR: Cannot add NOT NULL column 'uid' with a per-row DEFAULT to a non-empty table

# SHARED tables: the access level and the table options are versions too;
# a user may not alter a SHARED table.
root:> CREATE SHARED TABLE chat.rooms (id TEXT PRIMARY KEY, title TEXT) WITH (ACCESS_LEVEL = 'PRIVATE');
ok 0: Shared table chat.rooms created successfully

root:> INSERT INTO chat.rooms VALUES ('r1', 'General');
ok 1: Inserted 1 row(s)

alice:> SELECT * FROM chat.rooms;
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'chat.rooms'

alice:> ALTER TABLE chat.rooms ADD COLUMN topic TEXT;
error 403 PERMISSION_DENIED: Insufficient privileges to alter SHARED tables

root:> ALTER TABLE chat.rooms SET ACCESS LEVEL public;
ok 0: Table chat.rooms altered successfully: SET ACCESS LEVEL public (version 2)

alice:> SELECT id, title FROM chat.rooms;
[id Text pk,nn,uq | title Text]
"r1" | "General"
(1 row)

root:> ALTER TABLE chat.rooms SET ACCESS LEVEL PUBLIC;
ok 0: Table chat.rooms unchanged: SET ACCESS LEVEL public (version 2 - no changes needed)

root:> ALTER TABLE chat.rooms SET TBLPROPERTIES (FLUSH_POLICY = 'rows:50,interval:60', DELETED_RETENTION_HOURS = 0);
ok 0: Table chat.rooms altered successfully: SET TBLPROPERTIES (FLUSH_POLICY = 'rows:50,interval:60', DELETED_RETENTION_HOURS = 0) (version 3)

root:> ALTER TABLE chat.rooms SET TBLPROPERTIES (TTL_SECONDS = 5);
error 400 SQL_EXECUTION_ERROR: TTL_SECONDS is only valid for STREAM tables

root:> SELECT schema_version, options, access_level, is_latest FROM system.schemas WHERE table_id = 'chat.rooms' ORDER BY schema_version;
[schema_version Int nn | options Json | access_level Text | is_latest Boolean nn]
1 | "{\"access_level\":\"private\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}" | "private" | false
2 | "{\"access_level\":\"public\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}" | "public" | false
3 | "{\"access_level\":\"public\",\"deleted_retention_hours\":0,\"flush_policy\":\"rows:50,interval:60\",\"storage_id\":\"local\"}" | "public" | true
(3 rows)

# Tables without a PRIMARY KEY (hidden row id) and STREAM tables.
alice:> CREATE USER TABLE chat.notes (body TEXT);
ok 0: User table chat.notes created successfully

alice:> INSERT INTO chat.notes VALUES ('one'), ('two');
ok 2: Inserted 2 row(s)

alice:> ALTER TABLE chat.notes ADD COLUMN pinned BOOLEAN NOT NULL DEFAULT false;
ok 0: Table chat.notes altered successfully: ADD COLUMN pinned BOOLEAN NOT NULL DEFAULT false (version 2)

alice:> UPDATE chat.notes SET pinned = true WHERE body = 'two';
ok 1: Updated 1 row(s)

alice:> SELECT body, pinned FROM chat.notes ORDER BY body;
[body Text | pinned Boolean nn]
"one" | false
"two" | true
(2 rows)

alice:> CREATE STREAM TABLE chat.typing (room TEXT, who TEXT) WITH (TTL_SECONDS = 3600);
ok 0: Stream table chat.typing created successfully

alice:> ALTER TABLE chat.typing SET TBLPROPERTIES (TTL_SECONDS = 60);
ok 0: Table chat.typing altered successfully: SET TBLPROPERTIES (TTL_SECONDS = 60) (version 2)

alice:> ALTER TABLE chat.typing SET TBLPROPERTIES (FLUSH_POLICY = 'rows:5');
error 400 SQL_EXECUTION_ERROR: FLUSH_POLICY is only valid for USER and SHARED tables

alice:> SELECT options FROM system.tables WHERE table_name = 'typing';
[options Json]
"{\"ttl_seconds\":60}"
(1 row)

# DDL is refused inside a transaction (sql.md §3.7).
alice:> BEGIN; ALTER TABLE chat.notes ADD COLUMN late INT; COMMIT;
error 400 SQL_EXECUTION_ERROR: Statement 2 failed: ALTER TABLE is not allowed inside a transaction

# MODIFY converts every stored value, hot or flushed, on read: DECIMAL to a
# larger precision, and any type to TEXT as CAST(x AS TEXT) writes it
# (BYTES as \x and hex, as PostgreSQL does).
root:> CREATE SHARED TABLE chat.kinds (id INT PRIMARY KEY, d DECIMAL(5,2), f FLOAT, t TIMESTAMP, b BOOLEAN, raw BYTES, u UUID, day DATE) WITH (ACCESS_LEVEL = 'PUBLIC');
ok 0: Shared table chat.kinds created successfully

root:> INSERT INTO chat.kinds VALUES (1, 123.45, 1.5, '2026-01-02 03:04:05.678', true, 'hi', '0190b4c2-7a3e-7000-8000-000000000001', '2026-12-07'), (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
ok 2: Inserted 2 row(s)

root:> ALTER TABLE chat.kinds MODIFY COLUMN d DECIMAL(10,2);
ok 0: Table chat.kinds altered successfully: MODIFY COLUMN d DECIMAL(10,2) (version 2)

root:> ALTER TABLE chat.kinds MODIFY COLUMN d DECIMAL(12,3);
error 400 SQL_EXECUTION_ERROR: Cannot change column 'd' from DECIMAL(10,2) to DECIMAL(12,3)

root:> ALTER TABLE chat.kinds MODIFY COLUMN f TEXT;
ok 0: Table chat.kinds altered successfully: MODIFY COLUMN f TEXT (version 3)

root:> ALTER TABLE chat.kinds MODIFY COLUMN t TEXT;
ok 0: Table chat.kinds altered successfully: MODIFY COLUMN t TEXT (version 4)

root:> ALTER TABLE chat.kinds MODIFY COLUMN b TEXT;
ok 0: Table chat.kinds altered successfully: MODIFY COLUMN b TEXT (version 5)

root:> ALTER TABLE chat.kinds MODIFY COLUMN raw TEXT;
ok 0: Table chat.kinds altered successfully: MODIFY COLUMN raw TEXT (version 6)

root:> ALTER TABLE chat.kinds MODIFY COLUMN u TEXT;
ok 0: Table chat.kinds altered successfully: MODIFY COLUMN u TEXT (version 7)

root:> ALTER TABLE chat.kinds MODIFY COLUMN day TEXT NOT NULL;
error 400 SQL_EXECUTION_ERROR: Column 'day' contains NULL values

root:> ALTER TABLE chat.kinds MODIFY COLUMN day TEXT;
ok 0: Table chat.kinds altered successfully: MODIFY COLUMN day TEXT (version 8)

root:> ALTER TABLE chat.kinds MODIFY COLUMN id BIGINT;
error 400 SQL_EXECUTION_ERROR: Cannot drop, rename or change the PRIMARY KEY column 'id'

root:> INSERT INTO chat.kinds VALUES (3, 99999999.99, 'three', 'later', 'no', 'x', 'not-a-uuid', 'any day');
ok 1: Inserted 1 row(s)

root:> SELECT * FROM chat.kinds ORDER BY id;
[id Int pk,nn,uq | d {"Decimal":{"precision":10,"scale":2}} | f Text | t Text | b Text | raw Text | u Text | day Text | _seq BigInt nn | _deleted Boolean nn]
1 | "123.45" | "1.5" | "2026-01-02T03:04:05.678" | "true" | "\\x6869" | "0190b4c2-7a3e-7000-8000-000000000001" | "2026-12-07" | <seq> | false
2 | null | null | null | null | null | null | null | <seq> | false
3 | "99999999.99" | "three" | "later" | "no" | "x" | "not-a-uuid" | "any day" | <seq> | false
(3 rows)

root:> SELECT id FROM chat.kinds WHERE f = '1.5' AND b = 'true' AND raw = '\x6869';
[id Int pk,nn,uq]
1
(1 row)

# Not supported, or not for ALTER TABLE.
root:> ALTER TABLE chat.kinds ADD COLUMN k2 INT PRIMARY KEY;
error 400 SQL_EXECUTION_ERROR: Cannot add a PRIMARY KEY column with ALTER TABLE

root:> ALTER TABLE chat.kinds ADD COLUMN k3 BIGSERIAL;
error 400 SQL_EXECUTION_ERROR: Cannot add an AUTO_INCREMENT column with ALTER TABLE

root:> ALTER TABLE chat.kinds OWNER TO bob;
error 400 INVALID_SQL: Unsupported ALTER TABLE operation: expected ADD, DROP, RENAME COLUMN, MODIFY, ALTER COLUMN, SET ACCESS LEVEL or SET TBLPROPERTIES

root:> ALTER TABLE chat.kinds ALTER COLUMN nope SET NOT NULL;
error 400 SQL_EXECUTION_ERROR: Column 'nope' not found in table 'chat.kinds'
