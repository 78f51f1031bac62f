# A table without a declared key (sql.md §2.4, ours): a hidden row id keeps
# each row's identity; it is never returned or described.

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.log (level TEXT, msg TEXT);
ok 0: Shared table app.log created successfully

root:> DESCRIBE app.log;
[column_name Text nn | ordinal_position Int | column_id Int | data_type Text | is_nullable Boolean | is_primary_key Boolean | column_default Text | column_comment Text | schema_version Int]
"level" | 1 | 1 | "TEXT" | true | false | null | null | 1
"msg" | 2 | 2 | "TEXT" | true | false | null | null | 1
"_seq" | 3 | null | "BIGINT" | false | false | null | "Row version id (Snowflake)" | 1
"_deleted" | 4 | null | "BOOLEAN" | false | false | null | "Delete tombstone flag" | 1
(4 rows)

root:> SELECT column_name FROM system.columns WHERE table_name = 'log' ORDER BY ordinal;
[column_name Text nn]
"level"
"msg"
(2 rows)

# Identical rows are distinct rows.
root:> INSERT INTO app.log VALUES ('info', 'same'), ('info', 'same'), ('warn', 'other');
ok 3: Inserted 3 row(s)

root:> SELECT * FROM app.log ORDER BY level, msg;
[level Text | msg Text | _seq BigInt nn | _deleted Boolean nn]
"info" | "same" | <seq> | false
"info" | "same" | <seq> | false
"warn" | "other" | <seq> | false
(3 rows)

root:> SELECT count(*) AS n, count(DISTINCT _seq) AS versions FROM app.log;
[n BigInt | versions BigInt]
"3" | "3"
(1 row)

# UPDATE and DELETE keep identities: both copies are updated, nothing is duplicated.
root:> UPDATE app.log SET msg = 'changed' WHERE msg = 'same';
ok 2: Updated 2 row(s)

root:> SELECT level, msg FROM app.log ORDER BY level, msg;
[level Text | msg Text]
"info" | "changed"
"info" | "changed"
"warn" | "other"
(3 rows)

root:> DELETE FROM app.log WHERE level = 'warn';
ok 1: Deleted 1 row(s)

root:> SELECT level, msg FROM app.log ORDER BY level, msg;
[level Text | msg Text]
"info" | "changed"
"info" | "changed"
(2 rows)

root:> UPDATE app.log SET level = 'debug';
ok 2: Updated 2 row(s)

root:> SELECT level, msg FROM app.log;
[level Text | msg Text]
"debug" | "changed"
"debug" | "changed"
(2 rows)

root:> DELETE FROM app.log;
ok 2: Deleted 2 row(s)

root:> SELECT * FROM app.log;
[level Text | msg Text | _seq BigInt nn | _deleted Boolean nn]
(0 rows)

root:> INSERT INTO app.log (msg) VALUES ('only msg');
ok 1: Inserted 1 row(s)

root:> SELECT level, msg FROM app.log;
[level Text | msg Text]
null | "only msg"
(1 row)
