root:> DESCRIBE TABLE system.namespaces;
[column_name Text nn | ordinal_position Int | column_id Int | data_type Text | is_nullable Boolean | is_primary_key Boolean | column_default Text | column_comment Text | schema_version Int]
"namespace_id" | 1 | 1 | "TEXT" | false | true | null | null | 1
"name" | 2 | 2 | "TEXT" | false | false | null | null | 1
"created_at" | 3 | 3 | "TIMESTAMP" | true | false | null | null | 1
"options" | 4 | 4 | "JSON" | true | false | null | null | 1
"table_count" | 5 | 5 | "BIGINT" | true | false | null | null | 1
(5 rows)
