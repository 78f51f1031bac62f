root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.items (id BIGINT PRIMARY KEY, title TEXT NOT NULL, qty INT, tag TEXT);
ok 0: Shared table app.items created successfully

root:> CREATE TABLE app.log (level TEXT, msg TEXT);
ok 0: Shared table app.log created successfully

root:> INSERT INTO app.log VALUES ('info', 'x');
ok 1: Inserted 1 row(s)

root:> SELECT id FROM app.items WHERE nope = 1;
error 400 SQL_EXECUTION_ERROR: Schema error: No field named nope.\nValid fields are app.items.id, app.items.title, app.items.qty, app.items.tag, app.items._seq, app.items._deleted.

root:> UPDATE app.items SET qty = 1 WHERE nope = 1;
error 400 SQL_EXECUTION_ERROR: Schema error: No field named nope.\nValid fields are app.items.id, app.items.title, app.items.qty, app.items.tag, app.items._seq, app.items._deleted.

root:> DELETE FROM app.items WHERE nope = 1;
error 400 SQL_EXECUTION_ERROR: Schema error: No field named nope.\nValid fields are app.items.id, app.items.title, app.items.qty, app.items.tag, app.items._seq, app.items._deleted.

root:> SELECT _rowid FROM app.log;
error 400 SQL_EXECUTION_ERROR: Schema error: No field named _rowid.\nValid fields are app.log.level, app.log.msg, app.log._seq, app.log._deleted.

root:> UPDATE app.log SET msg = CAST(_rowid AS TEXT);
error 400 SQL_EXECUTION_ERROR: Schema error: No field named _rowid.\nValid fields are app.log.level, app.log.msg, app.log._seq, app.log._deleted.

root:> DELETE FROM app.log WHERE _rowid > 0;
error 400 SQL_EXECUTION_ERROR: Schema error: No field named _rowid.\nValid fields are app.log.level, app.log.msg, app.log._seq, app.log._deleted.

root:> SELECT level, msg FROM app.log;
[level Text | msg Text]
"info" | "x"
(1 row)
