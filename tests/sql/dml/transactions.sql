# Transactions (sql.md §3.7, wire-protocol.md §3.2): BEGIN … COMMIT |
# ROLLBACK within one request. The transaction's statements see its own
# writes; nobody sees them before COMMIT, which writes them all at once;
# ROLLBACK, a failing statement or the end of the request discard them.
# Only SELECT and DML run inside. Messages name the transaction by a UUIDv7
# (shown as <txn>). Conflicts between concurrent transactions are tested in
# tests/it/transactions.rs.

user: alice Alice-pass-123
user: bob Bob-pass-12345

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.accounts (id BIGINT PRIMARY KEY, owner TEXT, balance INT NOT NULL) WITH (ACCESS_LEVEL = 'PUBLIC');
ok 0: Shared table app.accounts created successfully

root:> INSERT INTO app.accounts VALUES (1, 'ann', 100), (2, 'ben', 50);
ok 2: Inserted 2 row(s)

# A transfer: both updates or neither. Reads inside see the transaction's
# own writes, RETURNING included.
root:> BEGIN; UPDATE app.accounts SET balance = balance - 30 WHERE id = 1; UPDATE app.accounts SET balance = balance + 30 WHERE id = 2 RETURNING id, balance; SELECT id, balance FROM app.accounts ORDER BY id; COMMIT;
ok 0: Transaction started (<txn>)
[id BigInt pk,nn,uq | balance Int nn]
"2" | 80
(1 row)
[id BigInt pk,nn,uq | balance Int nn]
"1" | 70
"2" | 80
(2 rows)
ok 0: Transaction committed (<txn>)
ok 1: Updated 1 row(s)

root:> SELECT id, balance FROM app.accounts ORDER BY id;
[id BigInt pk,nn,uq | balance Int nn]
"1" | 70
"2" | 80
(2 rows)

# ROLLBACK discards everything staged; statements before BEGIN stay.
root:> INSERT INTO app.accounts VALUES (3, 'cat', 10); BEGIN; INSERT INTO app.accounts VALUES (4, 'dan', 1); DELETE FROM app.accounts WHERE id = 1; SELECT id FROM app.accounts ORDER BY id; ROLLBACK;
ok 0: Transaction started (<txn>)
[id BigInt pk,nn,uq]
"2"
"3"
"4"
(3 rows)
ok 0: Transaction rolled back (<txn>)
ok 2: Inserted 2 row(s)
ok 1: Deleted 1 row(s)

root:> SELECT id, balance FROM app.accounts ORDER BY id;
[id BigInt pk,nn,uq | balance Int nn]
"1" | 70
"2" | 80
"3" | 10
(3 rows)

# The spellings of sql.md §3.7.
root:> START TRANSACTION; INSERT INTO app.accounts VALUES (5, 'eve', 5); COMMIT WORK;
ok 0: Transaction started (<txn>)
ok 0: Transaction committed (<txn>)
ok 1: Inserted 1 row(s)

root:> BEGIN TRANSACTION; DELETE FROM app.accounts WHERE id = 5; ROLLBACK TRANSACTION;
ok 0: Transaction started (<txn>)
ok 0: Transaction rolled back (<txn>)
ok 1: Deleted 1 row(s)

root:> BEGIN WORK; UPDATE app.accounts SET owner = 'EVE' WHERE id = 5; COMMIT TRANSACTION;
ok 0: Transaction started (<txn>)
ok 0: Transaction committed (<txn>)
ok 1: Updated 1 row(s)

root:> SELECT id, owner FROM app.accounts WHERE id = 5;
[id BigInt pk,nn,uq | owner Text]
"5" | "EVE"
(1 row)

# Inserting, changing and deleting one row inside a transaction; a key
# deleted inside may be inserted again inside.
root:> BEGIN; INSERT INTO app.accounts VALUES (6, 'fay', 1); UPDATE app.accounts SET balance = 2 WHERE id = 6; DELETE FROM app.accounts WHERE id = 6; INSERT INTO app.accounts VALUES (6, 'fay', 3); DELETE FROM app.accounts WHERE id = 3; INSERT INTO app.accounts VALUES (3, 'cat', 11); SELECT id, balance FROM app.accounts WHERE id IN (3, 6) ORDER BY id; COMMIT;
ok 0: Transaction started (<txn>)
[id BigInt pk,nn,uq | balance Int nn]
"3" | 11
"6" | 3
(2 rows)
ok 0: Transaction committed (<txn>)
ok 3: Inserted 3 row(s)
ok 1: Updated 1 row(s)
ok 2: Deleted 2 row(s)

root:> SELECT id, owner, balance FROM app.accounts WHERE id IN (3, 6) ORDER BY id;
[id BigInt pk,nn,uq | owner Text | balance Int nn]
"3" | "cat" | 11
"6" | "fay" | 3
(2 rows)

# A failing statement rolls the whole transaction back: nothing of it is
# written, and the request answers that statement's error.
root:> BEGIN; INSERT INTO app.accounts VALUES (7, 'gus', 1); INSERT INTO app.accounts VALUES (1, 'dup', 1); COMMIT;
error 400 SQL_EXECUTION_ERROR: Statement 3 failed: Duplicate primary key value '1' in table 'app.accounts'

root:> BEGIN; UPDATE app.accounts SET balance = 0 WHERE id = 2; UPDATE app.accounts SET balance = NULL WHERE id = 1; COMMIT;
error 400 SQL_EXECUTION_ERROR: Statement 3 failed: Column 'balance' cannot be NULL

root:> SELECT id, balance FROM app.accounts WHERE id IN (1, 2, 7) ORDER BY id;
[id BigInt pk,nn,uq | balance Int nn]
"1" | 70
"2" | 80
(2 rows)

# A transaction still open at the end of the request is rolled back.
root:> BEGIN; INSERT INTO app.accounts VALUES (8, 'hal', 1);
error 400 SQL_EXECUTION_ERROR: Transaction left open at end of request; rolled back

root:> SELECT count(*) AS c FROM app.accounts WHERE id = 8;
[c BigInt]
"0"
(1 row)

# Errors: nested BEGIN, COMMIT/ROLLBACK without a transaction, statements
# other than SELECT and DML inside.
root:> BEGIN; BEGIN;
error 400 SQL_EXECUTION_ERROR: Statement 2 failed: Transaction already in progress

root:> COMMIT;
error 400 SQL_EXECUTION_ERROR: No active transaction

root:> ROLLBACK;
error 400 SQL_EXECUTION_ERROR: No active transaction

root:> BEGIN; CREATE TABLE app.nope (id INT PRIMARY KEY); COMMIT;
error 400 SQL_EXECUTION_ERROR: Statement 2 failed: CREATE TABLE is not allowed inside a transaction

root:> BEGIN; DROP TABLE app.accounts; COMMIT;
error 400 SQL_EXECUTION_ERROR: Statement 2 failed: DROP TABLE is not allowed inside a transaction

root:> BEGIN; CREATE USER carl WITH PASSWORD 'Carl-pass-123' ROLE user; COMMIT;
error 400 SQL_EXECUTION_ERROR: Statement 2 failed: CREATE USER is not allowed inside a transaction

root:> BEGIN; STORAGE FLUSH TABLE app.accounts; COMMIT;
error 400 SQL_EXECUTION_ERROR: Statement 2 failed: STORAGE FLUSH TABLE is not allowed inside a transaction

root:> SELECT count(*) AS c FROM app.accounts;
[c BigInt]
"5"
(1 row)

# An empty transaction commits nothing.
root:> BEGIN; COMMIT;
ok 0: Transaction started (<txn>)
ok 0: Transaction committed (<txn>)

# Several tables in one transaction, USER and STREAM tables too: each
# statement acts in the caller's own partition, and other users see none of
# it.
root:> CREATE USER alice WITH PASSWORD 'Alice-pass-123' ROLE user;
ok 0: User 'alice' created

root:> CREATE USER bob WITH PASSWORD 'Bob-pass-12345' ROLE user;
ok 0: User 'bob' created

root:> CREATE USER TABLE app.inbox (id BIGINT PRIMARY KEY, body TEXT);
ok 0: User table app.inbox created successfully

root:> CREATE STREAM TABLE app.events (id BIGINT PRIMARY KEY, kind TEXT) WITH (TTL_SECONDS = 3600);
ok 0: Stream table app.events created successfully

alice:> BEGIN; INSERT INTO app.inbox VALUES (1, 'hi'), (2, 'there'); INSERT INTO app.events VALUES (1, 'sent'); UPDATE app.inbox SET body = 'hello' WHERE id = 1; SELECT id, body FROM app.inbox ORDER BY id; SELECT id, kind FROM app.events; COMMIT;
ok 0: Transaction started (<txn>)
[id BigInt pk,nn,uq | body Text]
"1" | "hello"
"2" | "there"
(2 rows)
[id BigInt pk,nn,uq | kind Text]
"1" | "sent"
(1 row)
ok 0: Transaction committed (<txn>)
ok 3: Inserted 3 row(s)
ok 1: Updated 1 row(s)

bob:> SELECT count(*) AS c FROM app.inbox;
[c BigInt]
"0"
(1 row)

bob:> BEGIN; INSERT INTO app.inbox VALUES (1, 'bob''s own'); SELECT id, body FROM app.inbox; COMMIT;
ok 0: Transaction started (<txn>)
[id BigInt pk,nn,uq | body Text]
"1" | "bob's own"
(1 row)
ok 0: Transaction committed (<txn>)
ok 1: Inserted 1 row(s)

alice:> SELECT id, body FROM app.inbox ORDER BY id;
[id BigInt pk,nn,uq | body Text]
"1" | "hello"
"2" | "there"
(2 rows)

# STREAM tables are append-only inside as outside; the failure takes the
# DELETE before it back.
alice:> BEGIN; DELETE FROM app.inbox WHERE id = 2; UPDATE app.events SET kind = 'x' WHERE id = 1; COMMIT;
error 400 SQL_EXECUTION_ERROR: Statement 3 failed: STREAM tables are append-only

alice:> SELECT id, body FROM app.inbox ORDER BY id;
[id BigInt pk,nn,uq | body Text]
"1" | "hello"
"2" | "there"
(2 rows)

# EXECUTE AS USER inside a transaction acts in the target's partition.
root:> BEGIN; EXECUTE AS USER 'alice' (INSERT INTO app.inbox VALUES (3, 'from root')); EXECUTE AS USER 'alice' (SELECT id FROM app.inbox ORDER BY id); COMMIT;
ok 0: Transaction started (<txn>)
[id BigInt pk,nn,uq]
"1"
"2"
"3"
(3 rows)
ok 0: Transaction committed (<txn>)
ok 1: Inserted 1 row(s)

alice:> SELECT id, body FROM app.inbox ORDER BY id;
[id BigInt pk,nn,uq | body Text]
"1" | "hello"
"2" | "there"
"3" | "from root"
(3 rows)

# Permissions are checked inside as outside.
alice:> BEGIN; INSERT INTO app.accounts VALUES (9, 'x', 1); COMMIT;
error 403 PERMISSION_DENIED: Statement 2 failed: Insufficient privileges to write to table 'app.accounts'
