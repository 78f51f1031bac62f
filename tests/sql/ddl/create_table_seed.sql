# CREATE TABLE, older (seed-era) clauses after the column list (sql.md §2.2).

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE SHARED TABLE app.r1 (id TEXT PRIMARY KEY, title TEXT) FLUSH ROWS 100;
ok 0: Shared table app.r1 created successfully

root:> CREATE SHARED TABLE app.r2 (id TEXT PRIMARY KEY, title TEXT) FLUSH INTERVAL 60s;
ok 0: Shared table app.r2 created successfully

root:> CREATE SHARED TABLE app.r3 (id TEXT PRIMARY KEY) FLUSH INTERVAL 5m;
ok 0: Shared table app.r3 created successfully

root:> CREATE SHARED TABLE app.r4 (id TEXT PRIMARY KEY) FLUSH SECONDS 90;
ok 0: Shared table app.r4 created successfully

root:> CREATE SHARED TABLE app.r5 (id TEXT PRIMARY KEY) FLUSH ROWS 50 INTERVAL 1h;
ok 0: Shared table app.r5 created successfully

root:> CREATE SHARED TABLE app.r6 (id TEXT PRIMARY KEY) FLUSH POLICY ROW_LIMIT 7;
ok 0: Shared table app.r6 created successfully

root:> CREATE SHARED TABLE app.r7 (id TEXT PRIMARY KEY) FLUSH POLICY TIME_INTERVAL 120;
ok 0: Shared table app.r7 created successfully

root:> CREATE SHARED TABLE app.r8 (id TEXT PRIMARY KEY) FLUSH POLICY COMBINED ROW_LIMIT 9 TIME_INTERVAL 45;
ok 0: Shared table app.r8 created successfully

root:> CREATE SHARED TABLE app.r9 (id TEXT PRIMARY KEY) FLUSH INTERVAL '2m';
ok 0: Shared table app.r9 created successfully

root:> CREATE SHARED TABLE app.r10 (id TEXT PRIMARY KEY) FLUSH INTERVAL 30;
ok 0: Shared table app.r10 created successfully

# Mixed with WITH, in any order.
root:> CREATE SHARED TABLE app.r11 (id TEXT PRIMARY KEY) WITH (ACCESS_LEVEL = 'PUBLIC') FLUSH ROWS 11;
ok 0: Shared table app.r11 created successfully

root:> CREATE SHARED TABLE app.r12 (id TEXT PRIMARY KEY) FLUSH ROWS 12 WITH (DELETED_RETENTION_HOURS = 1);
ok 0: Shared table app.r12 created successfully

root:> CREATE USER TABLE app.messages (id INT AUTO_INCREMENT, content VARCHAR NOT NULL,
    created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP) FLUSH ROWS 100;
ok 0: User table app.messages created successfully

# Stream TTL in its spellings.
root:> CREATE STREAM TABLE app.typing (user_id TEXT, room TEXT) TTL 10s;
ok 0: Stream table app.typing created successfully

root:> CREATE STREAM TABLE app.s2 (v TEXT) TTL 20 SECONDS;
ok 0: Stream table app.s2 created successfully

root:> CREATE STREAM TABLE app.s3 (v TEXT) RETENTION 1h;
ok 0: Stream table app.s3 created successfully

root:> CREATE STREAM TABLE app.s4 (v TEXT) TTL 2m;
ok 0: Stream table app.s4 created successfully

root:> CREATE STREAM TABLE app.s5 (v TEXT) TTL 15;
ok 0: Stream table app.s5 created successfully

# Accepted and ignored clauses are named in the message.
root:> CREATE SHARED TABLE app.loc (id TEXT PRIMARY KEY) LOCATION '/data/somewhere';
ok 0: Shared table app.loc created successfully (ignored: LOCATION)

root:> CREATE STREAM TABLE app.s6 (v TEXT) TTL 5s BUFFER_SIZE 100;
ok 0: Stream table app.s6 created successfully (ignored: BUFFER_SIZE)

root:> CREATE STREAM TABLE app.s7 (v TEXT) TTL 5s MAX_BUFFER 10;
ok 0: Stream table app.s7 created successfully (ignored: MAX_BUFFER)

root:> CREATE STREAM TABLE app.s8 (v TEXT) TTL 5s EPHEMERAL;
ok 0: Stream table app.s8 created successfully (ignored: EPHEMERAL)

root:> SELECT table_name, table_type, options FROM system.tables WHERE namespace_id = 'app' ORDER BY table_name;
[table_name Text nn | table_type Text nn | options Json]
"loc" | "shared" | "{\"access_level\":\"private\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:10000,interval:300\",\"storage_id\":\"local\"}"
"messages" | "user" | "{\"deleted_retention_hours\":168,\"flush_policy\":\"rows:100\",\"storage_id\":\"local\"}"
"r1" | "shared" | "{\"access_level\":\"private\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:100\",\"storage_id\":\"local\"}"
"r10" | "shared" | "{\"access_level\":\"private\",\"deleted_retention_hours\":168,\"flush_policy\":\"interval:30\",\"storage_id\":\"local\"}"
"r11" | "shared" | "{\"access_level\":\"public\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:11\",\"storage_id\":\"local\"}"
"r12" | "shared" | "{\"access_level\":\"private\",\"deleted_retention_hours\":1,\"flush_policy\":\"rows:12\",\"storage_id\":\"local\"}"
"r2" | "shared" | "{\"access_level\":\"private\",\"deleted_retention_hours\":168,\"flush_policy\":\"interval:60\",\"storage_id\":\"local\"}"
"r3" | "shared" | "{\"access_level\":\"private\",\"deleted_retention_hours\":168,\"flush_policy\":\"interval:300\",\"storage_id\":\"local\"}"
"r4" | "shared" | "{\"access_level\":\"private\",\"deleted_retention_hours\":168,\"flush_policy\":\"interval:90\",\"storage_id\":\"local\"}"
"r5" | "shared" | "{\"access_level\":\"private\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:50,interval:3600\",\"storage_id\":\"local\"}"
"r6" | "shared" | "{\"access_level\":\"private\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:7\",\"storage_id\":\"local\"}"
"r7" | "shared" | "{\"access_level\":\"private\",\"deleted_retention_hours\":168,\"flush_policy\":\"interval:120\",\"storage_id\":\"local\"}"
"r8" | "shared" | "{\"access_level\":\"private\",\"deleted_retention_hours\":168,\"flush_policy\":\"rows:9,interval:45\",\"storage_id\":\"local\"}"
"r9" | "shared" | "{\"access_level\":\"private\",\"deleted_retention_hours\":168,\"flush_policy\":\"interval:120\",\"storage_id\":\"local\"}"
"s2" | "stream" | "{\"ttl_seconds\":20}"
"s3" | "stream" | "{\"ttl_seconds\":3600}"
"s4" | "stream" | "{\"ttl_seconds\":120}"
"s5" | "stream" | "{\"ttl_seconds\":15}"
"s6" | "stream" | "{\"ttl_seconds\":5}"
"s7" | "stream" | "{\"ttl_seconds\":5}"
"s8" | "stream" | "{\"ttl_seconds\":5}"
"typing" | "stream" | "{\"ttl_seconds\":10}"
(22 rows)

# Errors.
root:> CREATE SHARED TABLE app.x1 (id TEXT PRIMARY KEY) FLUSH ROWS 0;
error 400 SQL_EXECUTION_ERROR: Invalid FLUSH ROWS value

root:> CREATE SHARED TABLE app.x2 (id TEXT PRIMARY KEY) FLUSH ROWS -5;
error 400 SQL_EXECUTION_ERROR: Invalid FLUSH ROWS value

root:> CREATE SHARED TABLE app.x3 (id TEXT PRIMARY KEY) FLUSH INTERVAL 0s;
error 400 SQL_EXECUTION_ERROR: Invalid FLUSH INTERVAL value

root:> CREATE STREAM TABLE app.x4 (v TEXT) TTL 0;
error 400 SQL_EXECUTION_ERROR: Invalid TTL value

root:> CREATE SHARED TABLE app.x5 (id TEXT PRIMARY KEY) TTL 10s;
error 400 SQL_EXECUTION_ERROR: TTL_SECONDS is only valid for STREAM tables

root:> CREATE SHARED TABLE app.x6 (id TEXT PRIMARY KEY) FLUSH ROWS 10 WITH (FLUSH_POLICY = 'rows:20');
error 400 SQL_EXECUTION_ERROR: Duplicate option FLUSH_POLICY

root:> CREATE SHARED TABLE app.x7 (id TEXT PRIMARY KEY) FLUSH ROWS 10 FLUSH ROWS 20;
error 400 SQL_EXECUTION_ERROR: Duplicate option FLUSH_POLICY

root:> CREATE STREAM TABLE app.x8 (v TEXT) TTL 5s WITH (TTL_SECONDS = 6);
error 400 SQL_EXECUTION_ERROR: Duplicate option TTL_SECONDS

root:> CREATE STREAM TABLE app.x9 (v TEXT) FLUSH ROWS 10;
error 400 SQL_EXECUTION_ERROR: FLUSH_POLICY is only valid for USER and SHARED tables

root:> SELECT table_name FROM system.tables WHERE table_name LIKE 'x%';
[table_name Text nn]
(0 rows)
