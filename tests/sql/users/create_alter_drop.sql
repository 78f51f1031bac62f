# CREATE USER / ALTER USER / DROP USER (sql.md §5), the role aliases of
# wire-protocol.md §5.6, and what system.users (sql.md §8) shows after each
# step. Timestamps are masked; `deleted_at` stays visible as null/<masked>.
mask: created_at, updated_at, last_login_at, last_seen, deleted_at, locked_until

# §5: the full form — password, role and email.
root:> CREATE USER alice WITH PASSWORD 'alice-secret-1' ROLE user EMAIL 'alice@example.com';
ok 0: User 'alice' created

root:> SELECT user_id, password_hash, role, email, auth_type, failed_login_attempts, deleted_at FROM system.users WHERE user_id = 'alice';
[user_id Text pk,nn,uq | password_hash Text | role Text nn | email Text | auth_type Text | failed_login_attempts BigInt | deleted_at Timestamp]
"alice" | "***" | "user" | "alice@example.com" | "internal" | "0" | null
(1 row)

# §5: the settings may come in any order; ROLE and EMAIL are optional
# (spec silent on a missing ROLE: pinned — the server defaults to `user`).
root:> CREATE USER svc1 WITH ROLE service PASSWORD 'svc1-secret-1';
ok 0: User 'svc1' created

root:> CREATE USER plain1 WITH PASSWORD 'plain1-secret';
ok 0: User 'plain1' created

# §5: keywords are case-insensitive, role names too.
root:> create user ops1 with password 'ops1-secret-1' role DBA email 'ops@example.com';
ok 0: User 'ops1' created

root:> CREATE USER sys2 WITH PASSWORD 'sys2-secret-1' ROLE system;
ok 0: User 'sys2' created

# wire-protocol.md §5.6 role aliases: admin→dba; developer, analyst→service;
# viewer, readonly→user. The role may also be a quoted string.
root:> CREATE USER a_admin WITH PASSWORD 'alias-secret-1' ROLE admin;
ok 0: User 'a_admin' created

root:> CREATE USER a_developer WITH PASSWORD 'alias-secret-1' ROLE developer;
ok 0: User 'a_developer' created

root:> CREATE USER a_analyst WITH PASSWORD 'alias-secret-1' ROLE 'analyst';
ok 0: User 'a_analyst' created

root:> CREATE USER a_viewer WITH PASSWORD 'alias-secret-1' ROLE viewer;
ok 0: User 'a_viewer' created

root:> CREATE USER a_readonly WITH PASSWORD 'alias-secret-1' ROLE ReadOnly;
ok 0: User 'a_readonly' created

root:> SELECT user_id, role FROM system.users WHERE user_id IN ('a_admin', 'a_developer', 'a_analyst', 'a_viewer', 'a_readonly') ORDER BY user_id;
[user_id Text pk,nn,uq | role Text nn]
"a_admin" | "dba"
"a_analyst" | "service"
"a_developer" | "service"
"a_readonly" | "user"
"a_viewer" | "user"
(5 rows)

# §5 names: case-sensitive, quoted or bare; `-` allowed; 1–128 characters.
root:> CREATE USER "Bob" WITH PASSWORD 'bob-secret-123' ROLE user;
ok 0: User 'Bob' created

root:> CREATE USER 'Carol-01' WITH PASSWORD 'carol-secret-1' ROLE user;
ok 0: User 'Carol-01' created

root:> CREATE USER DaveX WITH PASSWORD 'dave-secret-12' ROLE user;
ok 0: User 'DaveX' created

root:> CREATE USER svc-02 WITH PASSWORD 'svc2-secret-12' ROLE service;
ok 0: User 'svc-02' created

# Case-sensitive: `bob` is a different user from `Bob`.
root:> CREATE USER bob WITH PASSWORD 'bob-secret-456' ROLE user;
ok 0: User 'bob' created

root:> CREATE USER "Bob" WITH PASSWORD 'bob-secret-789' ROLE user;
error 400 SQL_EXECUTION_ERROR: User 'Bob' already exists

root:> SELECT user_id, role FROM system.users WHERE user_id IN ('Bob', 'bob', 'Carol-01', 'DaveX', 'davex', 'svc-02') ORDER BY user_id;
[user_id Text pk,nn,uq | role Text nn]
"Bob" | "user"
"Carol-01" | "user"
"DaveX" | "user"
"bob" | "user"
"svc-02" | "service"
(5 rows)

root:> CREATE USER u1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567 WITH PASSWORD 'long-name-secret' ROLE user;
ok 0: User 'u1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567' created

# 129 characters: too long.
root:> CREATE USER u12345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678 WITH PASSWORD 'long-name-secret' ROLE user;
error 400 SQL_EXECUTION_ERROR: Invalid user name 'u12345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678'

# §5 CREATE USER … WITH INTERNAL ROLE: no password (cannot log in).
root:> CREATE USER worker WITH INTERNAL ROLE service EMAIL 'worker@example.com';
ok 0: User 'worker' created

root:> SELECT user_id, password_hash, role, email, auth_type FROM system.users WHERE user_id = 'worker';
[user_id Text pk,nn,uq | password_hash Text | role Text nn | email Text | auth_type Text]
"worker" | "***" | "service" | "worker@example.com" | "internal"
(1 row)

# An INTERNAL user cannot log in, whatever password is tried.
user: worker worker-secret-1
worker:> SELECT 1 AS one;
error 401 INVALID_CREDENTIALS: Invalid credentials

# Every user so far, as system.users lists them.
root:> SELECT user_id, role, email, deleted_at FROM system.users ORDER BY user_id;
[user_id Text pk,nn,uq | role Text nn | email Text | deleted_at Timestamp]
"Bob" | "user" | null | null
"Carol-01" | "user" | null | null
"DaveX" | "user" | null | null
"a_admin" | "dba" | null | null
"a_analyst" | "service" | null | null
"a_developer" | "service" | null | null
"a_readonly" | "user" | null | null
"a_viewer" | "user" | null | null
"alice" | "user" | "alice@example.com" | null
"bob" | "user" | null | null
"ops1" | "dba" | "ops@example.com" | null
"plain1" | "user" | null | null
"root" | "system" | "root@localhost" | null
"svc-02" | "service" | null | null
"svc1" | "service" | null | null
"sys2" | "system" | null | null
"u1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567" | "user" | null | null
"worker" | "service" | "worker@example.com" | null
(18 rows)

# §5 errors: `User 'x' already exists`.
root:> CREATE USER alice WITH PASSWORD 'another-secret' ROLE dba;
error 400 SQL_EXECUTION_ERROR: User 'alice' already exists

root:> CREATE USER root WITH PASSWORD 'another-secret' ROLE user;
error 400 SQL_EXECUTION_ERROR: User 'root' already exists

# §5 errors: `Invalid role 'x'. Valid roles: user, service, dba, system`.
root:> CREATE USER eve WITH PASSWORD 'eve-secret-123' ROLE superuser;
error 400 SQL_EXECUTION_ERROR: Invalid role 'superuser'. Valid roles: user, service, dba, system

root:> CREATE USER eve WITH PASSWORD 'eve-secret-123' ROLE anonymous;
error 400 SQL_EXECUTION_ERROR: Invalid role 'anonymous'. Valid roles: user, service, dba, system

# §5 errors: `Password too weak: …` (length 8–256, common-password list):
# in tests/sql/bugs/weak_password_message.sql while the message repeats its
# prefix.

# §5 errors: `Invalid user name 'x'` — outside `A–Z a–z 0–9 _ -`.
root:> CREATE USER 'eve smith' WITH PASSWORD 'eve-secret-123' ROLE user;
error 400 SQL_EXECUTION_ERROR: Invalid user name 'eve smith'

root:> CREATE USER 'eve@home' WITH PASSWORD 'eve-secret-123' ROLE user;
error 400 SQL_EXECUTION_ERROR: Invalid user name 'eve@home'

root:> CREATE USER "eve.smith" WITH PASSWORD 'eve-secret-123' ROLE user;
error 400 SQL_EXECUTION_ERROR: Invalid user name 'eve.smith'

root:> CREATE USER '' WITH PASSWORD 'eve-secret-123' ROLE user;
error 400 SQL_EXECUTION_ERROR: Invalid user name ''

# §5: `anonymous` is reserved (any case).
root:> CREATE USER anonymous WITH PASSWORD 'anon-secret-1' ROLE user;
error 400 SQL_EXECUTION_ERROR: Invalid user name 'anonymous'

root:> CREATE USER 'Anonymous' WITH PASSWORD 'anon-secret-1' ROLE user;
error 400 SQL_EXECUTION_ERROR: Invalid user name 'Anonymous'

# Invalid email (pinned: the spec names no message; the server's is
# `Invalid email 'x'`).
root:> CREATE USER eve WITH PASSWORD 'eve-secret-123' ROLE user EMAIL 'not-an-email';
error 400 SQL_EXECUTION_ERROR: Invalid email 'not-an-email'

# A CREATE USER must have PASSWORD or INTERNAL ROLE, not both.
root:> CREATE USER eve WITH ROLE user;
error 400 INVALID_SQL: sql parser error: Expected: PASSWORD or INTERNAL ROLE, found: EOF

root:> CREATE USER eve WITH INTERNAL ROLE user PASSWORD 'eve-secret-123';
error 400 SQL_EXECUTION_ERROR: A user created WITH INTERNAL ROLE cannot have a PASSWORD

# None of the refused statements created anything.
root:> SELECT count(*) AS n FROM system.users WHERE user_id IN ('eve', 'anonymous', 'Anonymous');
[n BigInt]
"0"
(1 row)

# §5 ALTER USER … SET PASSWORD: the new password logs in, the old one not.
user: alice alice-secret-1
alice:> SELECT CURRENT_USER() AS me;
[me Text]
"alice"
(1 row)

root:> ALTER USER alice SET PASSWORD 'alice-secret-2';
ok 0: User 'alice' updated

alice:> SELECT CURRENT_USER() AS me;
error 401 INVALID_CREDENTIALS: Invalid credentials

user: alice alice-secret-2
alice:> SELECT CURRENT_USER() AS me;
[me Text]
"alice"
(1 row)

# wire-protocol.md §5.4: 5 consecutive failures lock the account 15 minutes;
# an ALTER USER … SET PASSWORD resets the counter and the lock.
user: alice wrong-password-1
alice:> SELECT 1 AS one;
error 401 INVALID_CREDENTIALS: Invalid credentials

alice:> SELECT 1 AS one;
error 401 INVALID_CREDENTIALS: Invalid credentials

alice:> SELECT 1 AS one;
error 401 INVALID_CREDENTIALS: Invalid credentials

alice:> SELECT 1 AS one;
error 401 INVALID_CREDENTIALS: Invalid credentials

alice:> SELECT 1 AS one;
error 401 INVALID_CREDENTIALS: Invalid credentials

# (The locked answer, 401 ACCOUNT_LOCKED, names the unlock time, so it is
# not pinned here: wire.rs and users.rs cover it. `locked_until` is set.)

root:> SELECT user_id, failed_login_attempts, locked_until FROM system.users WHERE user_id = 'alice';
[user_id Text pk,nn,uq | failed_login_attempts BigInt | locked_until Timestamp]
"alice" | "0" | <masked>
(1 row)

root:> ALTER USER alice SET PASSWORD 'alice-secret-3';
ok 0: User 'alice' updated

root:> SELECT user_id, failed_login_attempts, locked_until FROM system.users WHERE user_id = 'alice';
[user_id Text pk,nn,uq | failed_login_attempts BigInt | locked_until Timestamp]
"alice" | "0" | null
(1 row)

user: alice alice-secret-3
alice:> SELECT CURRENT_USER() AS me;
[me Text]
"alice"
(1 row)

# §5 ALTER USER … SET ROLE (aliases apply) and SET EMAIL.
root:> ALTER USER alice SET ROLE service;
ok 0: User 'alice' updated

root:> ALTER USER alice SET EMAIL 'alice@corp.example';
ok 0: User 'alice' updated

root:> SELECT user_id, role, email FROM system.users WHERE user_id = 'alice';
[user_id Text pk,nn,uq | role Text nn | email Text]
"alice" | "service" | "alice@corp.example"
(1 row)

root:> ALTER USER alice SET ROLE admin;
ok 0: User 'alice' updated

root:> SELECT user_id, role FROM system.users WHERE user_id = 'alice';
[user_id Text pk,nn,uq | role Text nn]
"alice" | "dba"
(1 row)

root:> ALTER USER alice SET ROLE viewer;
ok 0: User 'alice' updated

root:> SELECT user_id, role FROM system.users WHERE user_id = 'alice';
[user_id Text pk,nn,uq | role Text nn]
"alice" | "user"
(1 row)

root:> ALTER USER alice SET ROLE wizard;
error 400 SQL_EXECUTION_ERROR: Invalid role 'wizard'. Valid roles: user, service, dba, system

root:> ALTER USER alice SET EMAIL 'nope';
error 400 SQL_EXECUTION_ERROR: Invalid email 'nope'

root:> ALTER USER "Bob" SET EMAIL 'bob@example.com';
ok 0: User 'Bob' updated

root:> SELECT user_id, email FROM system.users WHERE user_id IN ('Bob', 'bob') ORDER BY user_id;
[user_id Text pk,nn,uq | email Text]
"Bob" | "bob@example.com"
"bob" | null
(2 rows)

# §5 ALTER USER errors: `User 'x' not found`.
root:> ALTER USER nobody SET ROLE dba;
error 400 SQL_EXECUTION_ERROR: User 'nobody' not found

root:> ALTER USER nobody SET PASSWORD 'nobody-secret-1';
error 400 SQL_EXECUTION_ERROR: User 'nobody' not found

root:> ALTER USER BOB SET EMAIL 'x@example.com';
error 400 SQL_EXECUTION_ERROR: User 'BOB' not found

# §5: root cannot be re-roled (its password and email may change).
root:> ALTER USER root SET ROLE dba;
error 403 PERMISSION_DENIED: The role of user 'root' cannot be changed

root:> ALTER USER root SET ROLE system;
error 403 PERMISSION_DENIED: The role of user 'root' cannot be changed

root:> ALTER USER root SET EMAIL 'root@example.com';
ok 0: User 'root' updated

root:> SELECT user_id, role, email FROM system.users WHERE user_id = 'root';
[user_id Text pk,nn,uq | role Text nn | email Text]
"root" | "system" | "root@example.com"
(1 row)

# §5 DROP USER: a soft delete (`deleted_at` set, the row stays).
root:> DROP USER plain1;
ok 0: User 'plain1' dropped (soft delete)

root:> SELECT user_id, role, deleted_at FROM system.users WHERE user_id = 'plain1';
[user_id Text pk,nn,uq | role Text nn | deleted_at Timestamp]
"plain1" | "user" | <masked>
(1 row)

# A dropped user can no longer log in.
user: plain1 plain1-secret
plain1:> SELECT 1 AS one;
error 401 INVALID_CREDENTIALS: Invalid credentials

# The name stays taken until the cleanup job (§5): re-create refused.
root:> CREATE USER plain1 WITH PASSWORD 'plain1-secret' ROLE user;
error 400 SQL_EXECUTION_ERROR: User 'plain1' already exists

# A dropped user cannot be altered or dropped again.
root:> ALTER USER plain1 SET EMAIL 'p@example.com';
error 400 SQL_EXECUTION_ERROR: User 'plain1' not found

root:> DROP USER plain1;
error 400 SQL_EXECUTION_ERROR: User 'plain1' not found

# §5 DROP USER IF EXISTS: absent (or already dropped) → skipped.
root:> DROP USER IF EXISTS plain1;
ok 0: User 'plain1' does not exist (skipped)

root:> DROP USER IF EXISTS ghost;
ok 0: User 'ghost' does not exist (skipped)

root:> DROP USER IF EXISTS svc-02;
ok 0: User 'svc-02' dropped (soft delete)

root:> DROP USER ghost;
error 400 SQL_EXECUTION_ERROR: User 'ghost' not found

# Quoted names keep their case on DROP too.
root:> DROP USER 'Carol-01';
ok 0: User 'Carol-01' dropped (soft delete)

root:> DROP USER "carol-01";
error 400 SQL_EXECUTION_ERROR: User 'carol-01' not found

# §5: root cannot be dropped; nobody drops itself.
root:> DROP USER root;
error 403 PERMISSION_DENIED: User 'root' cannot be dropped

root:> DROP USER IF EXISTS root;
error 403 PERMISSION_DENIED: User 'root' cannot be dropped

user: ops1 ops1-secret-1
ops1:> DROP USER ops1;
error 403 PERMISSION_DENIED: User 'ops1' cannot drop itself

ops1:> DROP USER root;
error 403 PERMISSION_DENIED: User 'root' cannot be dropped

ops1:> DROP USER a_admin;
ok 0: User 'a_admin' dropped (soft delete)

root:> SELECT user_id, role, deleted_at FROM system.users ORDER BY user_id;
[user_id Text pk,nn,uq | role Text nn | deleted_at Timestamp]
"Bob" | "user" | null
"Carol-01" | "user" | <masked>
"DaveX" | "user" | null
"a_admin" | "dba" | <masked>
"a_analyst" | "service" | null
"a_developer" | "service" | null
"a_readonly" | "user" | null
"a_viewer" | "user" | null
"alice" | "user" | null
"bob" | "user" | null
"ops1" | "dba" | null
"plain1" | "user" | <masked>
"root" | "system" | null
"svc-02" | "service" | <masked>
"svc1" | "service" | null
"sys2" | "system" | null
"u1234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345678901234567" | "user" | null
"worker" | "service" | null
(18 rows)

# system.stats `total_users` (sql.md §8; spec silent on soft-deleted users):
# pinned — the server counts every row of system.users, dropped ones too.
root:> SELECT metric_value FROM system.stats WHERE metric_name = 'total_users';
[metric_value Text]
"18"
(1 row)
