# Column rules of sql.md §2.4: PRIMARY KEY forms and errors, NOT NULL,
# UNIQUE, reserved and duplicate names, name rules.

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

# Inline, table-level and named-constraint primary keys.
root:> CREATE TABLE app.inline (id BIGINT PRIMARY KEY, v TEXT);
ok 0: Shared table app.inline created successfully

root:> CREATE TABLE app.tablelevel (id TEXT, v TEXT, PRIMARY KEY (id));
ok 0: Shared table app.tablelevel created successfully

root:> CREATE TABLE app.named (code INT NOT NULL, v TEXT, CONSTRAINT pk_named PRIMARY KEY (code));
ok 0: Shared table app.named created successfully

root:> CREATE TABLE app.uuid_pk (id UUID PRIMARY KEY, v TEXT);
ok 0: Shared table app.uuid_pk created successfully

root:> CREATE TABLE app.small_pk (id SMALLINT PRIMARY KEY);
ok 0: Shared table app.small_pk created successfully

root:> SELECT * FROM app.tablelevel;
[id Text pk,nn,uq | v Text | _seq BigInt nn | _deleted Boolean nn]
(0 rows)

root:> SELECT * FROM app.named;
[code Int pk,nn,uq | v Text | _seq BigInt nn | _deleted Boolean nn]
(0 rows)

root:> DESCRIBE app.named;
[column_name Text nn | ordinal_position Int | column_id Int | data_type Text | is_nullable Boolean | is_primary_key Boolean | column_default Text | column_comment Text | schema_version Int]
"code" | 1 | 1 | "INT" | false | true | null | null | 1
"v" | 2 | 2 | "TEXT" | true | false | null | null | 1
"_seq" | 3 | null | "BIGINT" | false | false | null | "Row version id (Snowflake)" | 1
"_deleted" | 4 | null | "BOOLEAN" | false | false | null | "Delete tombstone flag" | 1
(4 rows)

# A primary key implies NOT NULL; declaring it NULL is a contradiction.
root:> CREATE TABLE app.pk_null (id BIGINT NULL PRIMARY KEY);
error 400 SQL_EXECUTION_ERROR: Column 'id' is a PRIMARY KEY and cannot be nullable

# Primary key errors.
root:> CREATE TABLE app.e1 (a BIGINT, b BIGINT, PRIMARY KEY (a, b));
error 400 SQL_EXECUTION_ERROR: Composite PRIMARY KEYs are not supported yet

root:> CREATE TABLE app.e2 (a BIGINT PRIMARY KEY, b BIGINT PRIMARY KEY);
error 400 SQL_EXECUTION_ERROR: Multiple PRIMARY KEY definitions found

root:> CREATE TABLE app.e3 (a BIGINT PRIMARY KEY, b BIGINT, PRIMARY KEY (b));
error 400 SQL_EXECUTION_ERROR: Multiple PRIMARY KEY definitions found

root:> CREATE TABLE app.e4 (a BIGINT, PRIMARY KEY (z));
error 400 SQL_EXECUTION_ERROR: PRIMARY KEY column 'z' not found in column list

root:> CREATE TABLE app.e5 (a DOUBLE PRIMARY KEY);
error 400 SQL_EXECUTION_ERROR: Column 'a' of type DOUBLE cannot be a PRIMARY KEY

root:> CREATE TABLE app.e6 (a BOOLEAN PRIMARY KEY);
error 400 SQL_EXECUTION_ERROR: Column 'a' of type BOOLEAN cannot be a PRIMARY KEY

root:> CREATE TABLE app.e7 (a TIMESTAMP PRIMARY KEY);
error 400 SQL_EXECUTION_ERROR: Column 'a' of type TIMESTAMP cannot be a PRIMARY KEY

root:> CREATE TABLE app.e8 (a DECIMAL(10,2) PRIMARY KEY);
error 400 SQL_EXECUTION_ERROR: Column 'a' of type DECIMAL(10,2) cannot be a PRIMARY KEY

root:> CREATE TABLE app.e9 (a JSON PRIMARY KEY);
error 400 SQL_EXECUTION_ERROR: Column 'a' of type JSON cannot be a PRIMARY KEY

root:> CREATE TABLE app.e10 (a BYTES PRIMARY KEY);
error 400 SQL_EXECUTION_ERROR: Column 'a' of type BYTES cannot be a PRIMARY KEY

# UNIQUE only on the primary key.
root:> CREATE TABLE app.e11 (id BIGINT PRIMARY KEY, email TEXT UNIQUE);
error 400 SQL_EXECUTION_ERROR: UNIQUE is only supported on the PRIMARY KEY

root:> CREATE TABLE app.ok_unique (id BIGINT PRIMARY KEY UNIQUE, email TEXT);
ok 0: Shared table app.ok_unique created successfully

# Reserved and duplicate column names.
root:> CREATE TABLE app.e12 (id BIGINT PRIMARY KEY, _seq BIGINT);
error 400 SQL_EXECUTION_ERROR: Column name '_seq' is reserved and cannot be used

root:> CREATE TABLE app.e13 (id BIGINT PRIMARY KEY, _deleted BOOLEAN);
error 400 SQL_EXECUTION_ERROR: Column name '_deleted' is reserved and cannot be used

root:> CREATE TABLE app.e14 (id BIGINT PRIMARY KEY, _mine TEXT);
error 400 SQL_EXECUTION_ERROR: Column name '_mine' is reserved and cannot be used

root:> CREATE TABLE app.e15 (id BIGINT PRIMARY KEY, v TEXT, v INT);
error 400 SQL_EXECUTION_ERROR: Duplicate column 'v'

root:> CREATE TABLE app.e16 (id BIGINT PRIMARY KEY, V TEXT, v INT);
error 400 SQL_EXECUTION_ERROR: Duplicate column 'v'

root:> CREATE TABLE app.e17 (id BIGINT PRIMARY KEY, "1st" TEXT);
error 400 SQL_EXECUTION_ERROR: Name cannot start with a number

root:> CREATE TABLE app.e18 (id BIGINT PRIMARY KEY, "my col" TEXT);
error 400 SQL_EXECUTION_ERROR: Name 'my col' contains invalid characters (only alphanumeric and underscore allowed)

root:> CREATE TABLE app.e19 (id BIGINT PRIMARY KEY, "order" TEXT);
error 400 SQL_EXECUTION_ERROR: Name 'order' is a reserved SQL keyword and cannot be used

root:> CREATE TABLE app._t (id BIGINT PRIMARY KEY);
error 400 SQL_EXECUTION_ERROR: Name cannot start with underscore (reserved for system columns)

root:> CREATE TABLE app."bad-name" (id BIGINT PRIMARY KEY);
error 400 SQL_EXECUTION_ERROR: Name 'bad-name' contains invalid characters (only alphanumeric and underscore allowed)

root:> CREATE TABLE app.abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij12345 (id BIGINT PRIMARY KEY);
error 400 SQL_EXECUTION_ERROR: Name is too long (65 characters, max 64)

root:> SELECT table_name FROM system.tables WHERE namespace_id = 'app' ORDER BY table_name;
[table_name Text nn]
"inline"
"named"
"ok_unique"
"small_pk"
"tablelevel"
"uuid_pk"
(6 rows)

# Case: unquoted names fold to lowercase.
root:> CREATE TABLE app.CamelCase (Id BIGINT PRIMARY KEY, DisplayName TEXT);
ok 0: Shared table app.camelcase created successfully

root:> INSERT INTO app.camelcase (ID, DISPLAYNAME) VALUES (1, 'x');
ok 1: Inserted 1 row(s)

root:> SELECT * FROM APP.CAMELCASE;
[id BigInt pk,nn,uq | displayname Text | _seq BigInt nn | _deleted Boolean nn]
"1" | "x" | <seq> | false
(1 row)

# NOT NULL.
root:> CREATE TABLE app.nn (id BIGINT PRIMARY KEY, must TEXT NOT NULL, may TEXT NULL);
ok 0: Shared table app.nn created successfully

root:> DESCRIBE app.nn;
[column_name Text nn | ordinal_position Int | column_id Int | data_type Text | is_nullable Boolean | is_primary_key Boolean | column_default Text | column_comment Text | schema_version Int]
"id" | 1 | 1 | "BIGINT" | false | true | null | null | 1
"must" | 2 | 2 | "TEXT" | false | false | null | null | 1
"may" | 3 | 3 | "TEXT" | true | false | null | null | 1
"_seq" | 4 | null | "BIGINT" | false | false | null | "Row version id (Snowflake)" | 1
"_deleted" | 5 | null | "BOOLEAN" | false | false | null | "Delete tombstone flag" | 1
(5 rows)

root:> INSERT INTO app.nn (id, must) VALUES (1, 'ok');
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.nn (id, may) VALUES (2, 'no must');
error 400 SQL_EXECUTION_ERROR: Column 'must' cannot be NULL

root:> INSERT INTO app.nn VALUES (3, NULL, 'x');
error 400 SQL_EXECUTION_ERROR: Column 'must' cannot be NULL

root:> INSERT INTO app.nn VALUES (NULL, 'x', 'x');
error 400 SQL_EXECUTION_ERROR: Column 'id' cannot be NULL

root:> SELECT id, must, may FROM app.nn;
[id BigInt pk,nn,uq | must Text nn | may Text]
"1" | "ok" | null
(1 row)
