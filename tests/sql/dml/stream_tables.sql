# STREAM tables are append-only (sql.md §2.5): INSERT and SELECT work,
# UPDATE and DELETE are refused. TTL eviction is covered elsewhere.

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE STREAM TABLE app.typing (user_id TEXT, room TEXT) TTL 1h;
ok 0: Stream table app.typing created successfully

root:> INSERT INTO app.typing VALUES ('alice', 'lobby'), ('bob', 'lobby');
ok 2: Inserted 2 row(s)

root:> SELECT user_id, room, _deleted FROM app.typing ORDER BY user_id;
[user_id Text | room Text | _deleted Boolean nn]
"alice" | "lobby" | false
"bob" | "lobby" | false
(2 rows)

root:> UPDATE app.typing SET room = 'kitchen' WHERE user_id = 'alice';
error 400 SQL_EXECUTION_ERROR: STREAM tables are append-only

root:> DELETE FROM app.typing WHERE user_id = 'bob';
error 400 SQL_EXECUTION_ERROR: STREAM tables are append-only

root:> DELETE FROM app.typing;
error 400 SQL_EXECUTION_ERROR: STREAM tables are append-only

root:> SELECT count(*) AS n FROM app.typing;
[n BigInt]
"2"
(1 row)

root:> DESCRIBE app.typing;
[column_name Text nn | ordinal_position Int | column_id Int | data_type Text | is_nullable Boolean | is_primary_key Boolean | column_default Text | column_comment Text | schema_version Int]
"user_id" | 1 | 1 | "TEXT" | true | false | null | null | 1
"room" | 2 | 2 | "TEXT" | true | false | null | null | 1
"_seq" | 3 | null | "BIGINT" | false | false | null | "Row version id (Snowflake)" | 1
"_deleted" | 4 | null | "BOOLEAN" | false | false | null | "Delete tombstone flag" | 1
(4 rows)
