# Live queries over SQL (sql.md §6, §8): system.live (and its older name),
# KILL LIVE QUERY, and SUBSCRIBE TO's refusals. A successful SUBSCRIBE TO
# answers with a random id and the server's address; it is covered by
# crates/kalamdb-server/tests/it/live.rs.

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.rooms (id BIGINT PRIMARY KEY, title TEXT) WITH (ACCESS_LEVEL='PRIVATE');
ok 0: Shared table app.rooms created successfully

root:> CREATE USER alice WITH PASSWORD 'alice-Passw0rd!' ROLE user;
ok 0: User 'alice' created

user: alice alice-Passw0rd!

root:> SELECT live_id, connection_id, subscription_id, namespace_id, table_name, user_id, query, options, status, created_at, last_update, changes, node_id, last_ping_at FROM system.live;
[live_id Text pk,nn,uq | connection_id Text | subscription_id Text | namespace_id Text | table_name Text | user_id Text | query Text | options Json | status Text | created_at Timestamp | last_update Timestamp | changes BigInt | node_id Text | last_ping_at Timestamp]
(0 rows)

root:> SELECT count(*) AS n FROM system.live_queries;
[n BigInt]
"0"
(1 row)

alice:> SELECT * FROM system.live;
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'system.live'

root:> KILL LIVE QUERY 'root-conn1-sub';
error 400 SQL_EXECUTION_ERROR: Live query 'root-conn1-sub' not found

alice:> KILL LIVE QUERY 'root-conn1-sub';
error 403 PERMISSION_DENIED: Insufficient privileges for KILL LIVE QUERY (requires role dba or system)

root:> SUBSCRIBE TO app.nope;
error 400 TABLE_NOT_FOUND: Table 'app.nope' not found

root:> SUBSCRIBE TO rooms;
error 400 TABLE_NOT_FOUND: Table 'default.rooms' not found

root:> SUBSCRIBE TO SELECT * FROM app.rooms ORDER BY id;
error 400 INVALID_SQL: ORDER BY clauses are not supported in live queries

root:> SUBSCRIBE TO SELECT count(*) FROM app.rooms;
error 400 INVALID_SQL: Computed columns are not supported in live queries

root:> SUBSCRIBE TO SELECT * FROM app.rooms WHERE nope = 1;
error 400 SQL_EXECUTION_ERROR: Column 'nope' not found in table 'app.rooms'

root:> SUBSCRIBE TO app.rooms OPTIONS (batch_size=0);
error 400 INVALID_SQL: Invalid batch_size value

alice:> SUBSCRIBE TO app.rooms;
error 403 PERMISSION_DENIED: Insufficient privileges to read table 'app.rooms'
