# Weak passwords (sql.md §5): `Password too weak: …` once, for CREATE USER
# and ALTER USER (a self SET PASSWORD too), for every policy rule: too
# short, too long, common password. Regression: the prefix used to repeat.


root:> CREATE USER eve WITH PASSWORD 'short' ROLE user;
error 400 SQL_EXECUTION_ERROR: Password too weak: must be at least 8 characters

root:> CREATE USER eve WITH PASSWORD '' ROLE user;
error 400 SQL_EXECUTION_ERROR: Password too weak: must be at least 8 characters

root:> CREATE USER eve WITH PASSWORD 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' ROLE user;
error 400 SQL_EXECUTION_ERROR: Password too weak: must be at most 256 characters

# Common passwords, compared case-insensitively.
root:> CREATE USER eve WITH PASSWORD 'password123' ROLE user;
error 400 SQL_EXECUTION_ERROR: Password too weak: it is a commonly used password

root:> CREATE USER eve WITH PASSWORD 'PassWord' ROLE user;
error 400 SQL_EXECUTION_ERROR: Password too weak: it is a commonly used password

# 8 and 256 characters are accepted.
root:> CREATE USER eve8 WITH PASSWORD 'eve-8chr' ROLE user;
ok 0: User 'eve8' created

root:> CREATE USER eve256 WITH PASSWORD 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz' ROLE user;
ok 0: User 'eve256' created

root:> SELECT user_id FROM system.users WHERE user_id LIKE 'eve%' ORDER BY user_id;
[user_id Text pk,nn,uq]
"eve256"
"eve8"
(2 rows)

root:> CREATE USER alice WITH PASSWORD 'alice-secret-1' ROLE user;
ok 0: User 'alice' created

root:> ALTER USER alice SET PASSWORD 'short';
error 400 SQL_EXECUTION_ERROR: Password too weak: must be at least 8 characters

root:> ALTER USER alice SET PASSWORD 'password';
error 400 SQL_EXECUTION_ERROR: Password too weak: it is a commonly used password

# A self SET PASSWORD obeys the same policy; the old password still works.
user: alice alice-secret-1
alice:> ALTER USER alice SET PASSWORD 'passw0rd';
error 400 SQL_EXECUTION_ERROR: Password too weak: it is a commonly used password

alice:> ALTER USER alice SET PASSWORD 'tiny';
error 400 SQL_EXECUTION_ERROR: Password too weak: must be at least 8 characters

alice:> SELECT CURRENT_USER() AS me;
[me Text]
"alice"
(1 row)
