# JSON functions and operators (sql.md §3.5), from datafusion-functions-json:
# `->` gives a JSON value (data_type Json, sent as its JSON text), `->>` and
# json_as_text its text, json_get_<type> a typed value; all of them over
# JSON and TEXT columns alike. `->`/`->>` bind tighter than comparisons, as
# in PostgreSQL. The flushed modes of this suite read the same rows from
# Parquet.

root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.events (id BIGINT PRIMARY KEY, meta JSON, raw TEXT);
ok 0: Shared table app.events created successfully

root:> INSERT INTO app.events VALUES (1, '{"tool":"search","n":3,"f":1.5,"ok":true,"tags":["a","b"],"o":{"x":1},"z":null}', '{"a":[1,2]}');
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.events VALUES (2, '{"tool":"calc","n":10,"tags":[]}', 'not json');
ok 1: Inserted 1 row(s)

root:> INSERT INTO app.events VALUES (3, NULL, '"just a string"');
ok 1: Inserted 1 row(s)

# `->` keeps JSON (strings quoted, objects and arrays as written); a missing
# key, a JSON null and a NULL column are NULL.
root:> SELECT id, meta->'tool' AS tool, meta->'n' AS n, meta->'f' AS f, meta->'ok' AS ok, meta->'tags' AS tags, meta->'o' AS o, meta->'z' AS z, meta->'missing' AS missing FROM app.events ORDER BY id;
[id BigInt pk,nn,uq | tool Json | n Json | f Json | ok Json | tags Json | o Json | z Json | missing Json]
"1" | "\"search\"" | "3" | "1.5" | "true" | "[\"a\",\"b\"]" | "{\"x\":1}" | null | null
"2" | "\"calc\"" | "10" | null | null | "[]" | null | null | null
"3" | null | null | null | null | null | null | null | null
(3 rows)

# `->>` is text; chains and array indexes; TEXT columns too (text that is
# not JSON gives NULL, not an error).
root:> SELECT id, meta->>'tool' AS tool, meta->>'n' AS n, meta->'tags'->>0 AS first_tag, meta->'o'->'x' AS ox, raw->'a'->1 AS second, raw->>'a' AS a_text FROM app.events ORDER BY id;
[id BigInt pk,nn,uq | tool Text | n Text | first_tag Text | ox Json | second Json | a_text Text]
"1" | "search" | "3" | "a" | "1" | "2" | "[1,2]"
"2" | "calc" | "10" | null | null | null | null
"3" | null | null | null | null | null | null
(3 rows)

root:> SELECT id FROM app.events WHERE meta->>'tool' = 'calc';
[id BigInt pk,nn,uq]
"2"
(1 row)

root:> SELECT id FROM app.events WHERE meta->>'tool' LIKE 's%' OR meta->>'tool' = 'calc' ORDER BY id;
[id BigInt pk,nn,uq]
"1"
"2"
(2 rows)

# Typed accessors, and a cast of `->` folded into one.
root:> SELECT id, json_get_str(meta, 'tool') AS s, json_get_int(meta, 'n') AS i, json_get_float(meta, 'f') AS f, json_get_bool(meta, 'ok') AS b, (meta->'n')::int AS cast_n, json_get_int(meta, 'n') * 2 AS doubled FROM app.events ORDER BY id;
[id BigInt pk,nn,uq | s Text | i BigInt | f Double | b Boolean | cast_n Int | doubled BigInt]
"1" | "search" | "3" | 1.5 | true | 3 | "6"
"2" | "calc" | "10" | null | null | 10 | "20"
"3" | null | null | null | null | null | null
(3 rows)

root:> SELECT id FROM app.events WHERE json_get_int(meta, 'n') > 5;
[id BigInt pk,nn,uq]
"2"
(1 row)

# Structure: contains, length, keys, nested JSON and arrays.
root:> SELECT id, json_contains(meta, 'tags') AS has_tags, json_length(meta) AS keys, json_length(meta, 'tags') AS tag_count, json_object_keys(meta) AS names, json_get_json(meta, 'o') AS o, json_get_array(meta, 'tags') AS tags FROM app.events ORDER BY id;
[id BigInt pk,nn,uq | has_tags Boolean | keys BigInt | tag_count BigInt | names Json | o Json | tags Json]
"1" | true | "7" | "2" | ["tool","n","f","ok","tags","o","z"] | "{\"x\":1}" | ["\"a\"","\"b\""]
"2" | true | "3" | "0" | ["tool","n","tags"] | null | []
"3" | false | null | null | null | null | null
(3 rows)

root:> SELECT json_get_str(raw) AS s, json_as_text(raw, 'a') AS a FROM app.events ORDER BY id;
[s Text | a Text]
null | "[1,2]"
null | null
"just a string" | null
(3 rows)

# Aggregates over extracted values.
root:> SELECT meta->>'tool' AS tool, count(*) AS c FROM app.events WHERE meta IS NOT NULL GROUP BY meta->>'tool' ORDER BY tool;
[tool Text | c BigInt]
"calc" | "1"
"search" | "1"
(2 rows)

# A typed value in a filter.
root:> SELECT id, meta->>'tool' AS tool FROM app.events WHERE json_get_int(meta, 'n') = 3;
[id BigInt pk,nn,uq | tool Text]
"1" | "search"
(1 row)

# Wrong argument types are planning errors with DataFusion's text.
root:> SELECT json_get_str(meta, true) FROM app.events;
error 400 SQL_EXECUTION_ERROR: Error during planning: Unexpected argument type to 'json_get_str' at position 2, expected string or int, got Boolean.
