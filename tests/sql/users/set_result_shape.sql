# `SET …` (sql.md §3.5, role dba/system) is not a query: its result has no
# `schema`/`rows` (wire-protocol.md §3.3), only `row_count` 0 (`ok 0`); the
# spec defines no message. Regression: it used to answer `schema: []`.


root:> CREATE USER u_dba WITH PASSWORD 'u-dba-secret-1' ROLE dba;
ok 0: User 'u_dba' created

user: u_dba u-dba-secret-1

u_dba:> SET datafusion.execution.batch_size = 1024;
ok 0

root:> SET datafusion.execution.batch_size = 1024;
ok 0
