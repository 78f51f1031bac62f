# system.users (sql.md §8): the root user created on first start, its
# password hash always masked.
mask: created_at, updated_at, last_login_at, last_seen

root:> SELECT * FROM system.users;
[user_id Text pk,nn,uq | password_hash Text | role Text nn | email Text | auth_type Text | auth_data Json | storage_mode Text | storage_id Text | failed_login_attempts BigInt | locked_until Timestamp | last_login_at Timestamp | created_at Timestamp | updated_at Timestamp | last_seen Timestamp | deleted_at Timestamp]
"root" | "***" | "system" | "root@localhost" | "internal" | null | null | null | "0" | null | null | <masked> | <masked> | null | null
(1 row)

root:> SELECT user_id, role, password_hash, auth_type, deleted_at FROM system.users WHERE user_id = 'root';
[user_id Text pk,nn,uq | role Text nn | password_hash Text | auth_type Text | deleted_at Timestamp]
"root" | "system" | "***" | "internal" | null
(1 row)

root:> SELECT password_hash FROM system.users WHERE password_hash LIKE '$argon2%';
[password_hash Text]
(0 rows)

root:> SELECT count(*) AS n FROM system.users;
[n BigInt]
"1"
(1 row)

root:> DELETE FROM system.users WHERE user_id = 'root';
error 403 PERMISSION_DENIED: System table 'system.users' is read-only

root:> UPDATE system.users SET role = 'user';
error 403 PERMISSION_DENIED: System table 'system.users' is read-only
