# Every column type and alias of sql.md §2.3: the wire data_type (schema
# header) and the SQL spelling in DESCRIBE and system.columns.

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.types (
    id BIGINT PRIMARY KEY,
    c_boolean BOOLEAN, c_bool BOOL,
    c_smallint SMALLINT, c_int2 INT2, c_tinyint TINYINT, c_int1 INT1,
    c_int INT, c_integer INTEGER, c_int4 INT4, c_mediumint MEDIUMINT,
    c_bigint BIGINT, c_int8 INT8,
    c_float FLOAT, c_real REAL, c_float4 FLOAT4,
    c_double DOUBLE, c_double_precision DOUBLE PRECISION, c_float8 FLOAT8,
    c_decimal DECIMAL(10,2), c_numeric NUMERIC(5,0), c_decimal_default DECIMAL,
    c_text TEXT, c_varchar VARCHAR, c_varchar_n VARCHAR(20), c_char CHAR, c_char_n CHAR(3),
    c_string STRING, c_nvarchar NVARCHAR, c_clob CLOB,
    c_bytes BYTES, c_binary BINARY, c_varbinary VARBINARY, c_blob BLOB, c_bytea BYTEA,
    c_json JSON, c_jsonb JSONB,
    c_timestamp TIMESTAMP, c_timestamp_p TIMESTAMP(3),
    c_datetime DATETIME, c_timestamptz TIMESTAMPTZ, c_timestamp_tz TIMESTAMP WITH TIME ZONE,
    c_date DATE, c_time TIME,
    c_uuid UUID
);
ok 0: Shared table app.types created successfully

root:> SELECT * FROM app.types;
[id BigInt pk,nn,uq | c_boolean Boolean | c_bool Boolean | c_smallint SmallInt | c_int2 SmallInt | c_tinyint SmallInt | c_int1 SmallInt | c_int Int | c_integer Int | c_int4 Int | c_mediumint Int | c_bigint BigInt | c_int8 BigInt | c_float Float | c_real Float | c_float4 Float | c_double Double | c_double_precision Double | c_float8 Double | c_decimal {"Decimal":{"precision":10,"scale":2}} | c_numeric {"Decimal":{"precision":5,"scale":0}} | c_decimal_default {"Decimal":{"precision":38,"scale":10}} | c_text Text | c_varchar Text | c_varchar_n Text | c_char Text | c_char_n Text | c_string Text | c_nvarchar Text | c_clob Text | c_bytes Bytes | c_binary Bytes | c_varbinary Bytes | c_blob Bytes | c_bytea Bytes | c_json Json | c_jsonb Json | c_timestamp Timestamp | c_timestamp_p Timestamp | c_datetime DateTime | c_timestamptz DateTime | c_timestamp_tz DateTime | c_date Date | c_time Time | c_uuid Uuid | _seq BigInt nn | _deleted Boolean nn]
(0 rows)

root:> DESCRIBE TABLE app.types;
[column_name Text nn | ordinal_position Int | column_id Int | data_type Text | is_nullable Boolean | is_primary_key Boolean | column_default Text | column_comment Text | schema_version Int]
"id" | 1 | 1 | "BIGINT" | false | true | null | null | 1
"c_boolean" | 2 | 2 | "BOOLEAN" | true | false | null | null | 1
"c_bool" | 3 | 3 | "BOOLEAN" | true | false | null | null | 1
"c_smallint" | 4 | 4 | "SMALLINT" | true | false | null | null | 1
"c_int2" | 5 | 5 | "SMALLINT" | true | false | null | null | 1
"c_tinyint" | 6 | 6 | "SMALLINT" | true | false | null | null | 1
"c_int1" | 7 | 7 | "SMALLINT" | true | false | null | null | 1
"c_int" | 8 | 8 | "INT" | true | false | null | null | 1
"c_integer" | 9 | 9 | "INT" | true | false | null | null | 1
"c_int4" | 10 | 10 | "INT" | true | false | null | null | 1
"c_mediumint" | 11 | 11 | "INT" | true | false | null | null | 1
"c_bigint" | 12 | 12 | "BIGINT" | true | false | null | null | 1
"c_int8" | 13 | 13 | "BIGINT" | true | false | null | null | 1
"c_float" | 14 | 14 | "FLOAT" | true | false | null | null | 1
"c_real" | 15 | 15 | "FLOAT" | true | false | null | null | 1
"c_float4" | 16 | 16 | "FLOAT" | true | false | null | null | 1
"c_double" | 17 | 17 | "DOUBLE" | true | false | null | null | 1
"c_double_precision" | 18 | 18 | "DOUBLE" | true | false | null | null | 1
"c_float8" | 19 | 19 | "DOUBLE" | true | false | null | null | 1
"c_decimal" | 20 | 20 | "DECIMAL(10,2)" | true | false | null | null | 1
"c_numeric" | 21 | 21 | "DECIMAL(5,0)" | true | false | null | null | 1
"c_decimal_default" | 22 | 22 | "DECIMAL(38,10)" | true | false | null | null | 1
"c_text" | 23 | 23 | "TEXT" | true | false | null | null | 1
"c_varchar" | 24 | 24 | "TEXT" | true | false | null | null | 1
"c_varchar_n" | 25 | 25 | "TEXT" | true | false | null | null | 1
"c_char" | 26 | 26 | "TEXT" | true | false | null | null | 1
"c_char_n" | 27 | 27 | "TEXT" | true | false | null | null | 1
"c_string" | 28 | 28 | "TEXT" | true | false | null | null | 1
"c_nvarchar" | 29 | 29 | "TEXT" | true | false | null | null | 1
"c_clob" | 30 | 30 | "TEXT" | true | false | null | null | 1
"c_bytes" | 31 | 31 | "BYTES" | true | false | null | null | 1
"c_binary" | 32 | 32 | "BYTES" | true | false | null | null | 1
"c_varbinary" | 33 | 33 | "BYTES" | true | false | null | null | 1
"c_blob" | 34 | 34 | "BYTES" | true | false | null | null | 1
"c_bytea" | 35 | 35 | "BYTES" | true | false | null | null | 1
"c_json" | 36 | 36 | "JSON" | true | false | null | null | 1
"c_jsonb" | 37 | 37 | "JSON" | true | false | null | null | 1
"c_timestamp" | 38 | 38 | "TIMESTAMP" | true | false | null | null | 1
"c_timestamp_p" | 39 | 39 | "TIMESTAMP" | true | false | null | null | 1
"c_datetime" | 40 | 40 | "DATETIME" | true | false | null | null | 1
"c_timestamptz" | 41 | 41 | "DATETIME" | true | false | null | null | 1
"c_timestamp_tz" | 42 | 42 | "DATETIME" | true | false | null | null | 1
"c_date" | 43 | 43 | "DATE" | true | false | null | null | 1
"c_time" | 44 | 44 | "TIME" | true | false | null | null | 1
"c_uuid" | 45 | 45 | "UUID" | true | false | null | null | 1
"_seq" | 46 | null | "BIGINT" | false | false | null | "Row version id (Snowflake)" | 1
"_deleted" | 47 | null | "BOOLEAN" | false | false | null | "Delete tombstone flag" | 1
(47 rows)

root:> SELECT column_name, data_type, nullable, primary_key, ordinal FROM system.columns WHERE table_name = 'types' ORDER BY ordinal;
[column_name Text nn | data_type Text | nullable Boolean | primary_key Boolean | ordinal Int]
"id" | "BIGINT" | false | true | 1
"c_boolean" | "BOOLEAN" | true | false | 2
"c_bool" | "BOOLEAN" | true | false | 3
"c_smallint" | "SMALLINT" | true | false | 4
"c_int2" | "SMALLINT" | true | false | 5
"c_tinyint" | "SMALLINT" | true | false | 6
"c_int1" | "SMALLINT" | true | false | 7
"c_int" | "INT" | true | false | 8
"c_integer" | "INT" | true | false | 9
"c_int4" | "INT" | true | false | 10
"c_mediumint" | "INT" | true | false | 11
"c_bigint" | "BIGINT" | true | false | 12
"c_int8" | "BIGINT" | true | false | 13
"c_float" | "FLOAT" | true | false | 14
"c_real" | "FLOAT" | true | false | 15
"c_float4" | "FLOAT" | true | false | 16
"c_double" | "DOUBLE" | true | false | 17
"c_double_precision" | "DOUBLE" | true | false | 18
"c_float8" | "DOUBLE" | true | false | 19
"c_decimal" | "DECIMAL(10,2)" | true | false | 20
"c_numeric" | "DECIMAL(5,0)" | true | false | 21
"c_decimal_default" | "DECIMAL(38,10)" | true | false | 22
"c_text" | "TEXT" | true | false | 23
"c_varchar" | "TEXT" | true | false | 24
"c_varchar_n" | "TEXT" | true | false | 25
"c_char" | "TEXT" | true | false | 26
"c_char_n" | "TEXT" | true | false | 27
"c_string" | "TEXT" | true | false | 28
"c_nvarchar" | "TEXT" | true | false | 29
"c_clob" | "TEXT" | true | false | 30
"c_bytes" | "BYTES" | true | false | 31
"c_binary" | "BYTES" | true | false | 32
"c_varbinary" | "BYTES" | true | false | 33
"c_blob" | "BYTES" | true | false | 34
"c_bytea" | "BYTES" | true | false | 35
"c_json" | "JSON" | true | false | 36
"c_jsonb" | "JSON" | true | false | 37
"c_timestamp" | "TIMESTAMP" | true | false | 38
"c_timestamp_p" | "TIMESTAMP" | true | false | 39
"c_datetime" | "DATETIME" | true | false | 40
"c_timestamptz" | "DATETIME" | true | false | 41
"c_timestamp_tz" | "DATETIME" | true | false | 42
"c_date" | "DATE" | true | false | 43
"c_time" | "TIME" | true | false | 44
"c_uuid" | "UUID" | true | false | 45
(45 rows)

# Decimal bounds.
root:> CREATE TABLE app.d1 (id BIGINT PRIMARY KEY, v DECIMAL(38,38));
ok 0: Shared table app.d1 created successfully

root:> CREATE TABLE app.d2 (id BIGINT PRIMARY KEY, v DECIMAL(1,0));
ok 0: Shared table app.d2 created successfully

root:> CREATE TABLE app.d3 (id BIGINT PRIMARY KEY, v DECIMAL(39,2));
error 400 SQL_EXECUTION_ERROR: Invalid DECIMAL(39,2): precision must be 1 to 38 and scale 0 to precision

root:> CREATE TABLE app.d4 (id BIGINT PRIMARY KEY, v DECIMAL(5,6));
error 400 SQL_EXECUTION_ERROR: Invalid DECIMAL(5,6): precision must be 1 to 38 and scale 0 to precision

root:> CREATE TABLE app.d5 (id BIGINT PRIMARY KEY, v DECIMAL(0,0));
error 400 SQL_EXECUTION_ERROR: Invalid DECIMAL(0,0): precision must be 1 to 38 and scale 0 to precision

root:> SELECT * FROM app.d1;
[id BigInt pk,nn,uq | v {"Decimal":{"precision":38,"scale":38}} | _seq BigInt nn | _deleted Boolean nn]
(0 rows)

# The SERIAL family is BIGINT with a Snowflake default.
root:> CREATE TABLE app.serials (a SERIAL PRIMARY KEY, b SERIAL4, c BIGSERIAL, d SERIAL8, e SMALLSERIAL, f SERIAL2);
ok 0: Shared table app.serials created successfully

root:> DESCRIBE app.serials;
[column_name Text nn | ordinal_position Int | column_id Int | data_type Text | is_nullable Boolean | is_primary_key Boolean | column_default Text | column_comment Text | schema_version Int]
"a" | 1 | 1 | "BIGINT" | false | true | "SNOWFLAKE_ID()" | null | 1
"b" | 2 | 2 | "BIGINT" | true | false | "SNOWFLAKE_ID()" | null | 1
"c" | 3 | 3 | "BIGINT" | true | false | "SNOWFLAKE_ID()" | null | 1
"d" | 4 | 4 | "BIGINT" | true | false | "SNOWFLAKE_ID()" | null | 1
"e" | 5 | 5 | "BIGINT" | true | false | "SNOWFLAKE_ID()" | null | 1
"f" | 6 | 6 | "BIGINT" | true | false | "SNOWFLAKE_ID()" | null | 1
"_seq" | 7 | null | "BIGINT" | false | false | null | "Row version id (Snowflake)" | 1
"_deleted" | 8 | null | "BOOLEAN" | false | false | null | "Delete tombstone flag" | 1
(8 rows)

# Types that do not exist (yet).
root:> CREATE TABLE app.bad1 (id BIGINT PRIMARY KEY, v FOO);
error 400 SQL_EXECUTION_ERROR: Unsupported data type 'FOO'

root:> CREATE TABLE app.bad2 (id BIGINT PRIMARY KEY, f FILE);
error 400 SQL_EXECUTION_ERROR: Type FILE is not supported yet

root:> CREATE TABLE app.bad3 (id BIGINT PRIMARY KEY, e EMBEDDING(3));
error 400 SQL_EXECUTION_ERROR: Type EMBEDDING is not supported yet

root:> CREATE TABLE app.bad4 (id BIGINT PRIMARY KEY, v GEOMETRY);
error 400 SQL_EXECUTION_ERROR: Unsupported data type 'GEOMETRY'
