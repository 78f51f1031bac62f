# BUG: DESCRIBE of a system table answers TABLE_NOT_FOUND "Table
# 'system.namespaces' not found" although SELECT works on it (sql.md §7:
# DESCRIBE [TABLE] [ns.]t, any table). Expected: one row per column. The
# column_id/schema_version values below are a guess; re-bless them once
# it answers, the point is that it answers with the table's columns.

root:> DESCRIBE TABLE system.namespaces;
[column_name Text nn | ordinal_position Int | column_id Int | data_type Text | is_nullable Boolean | is_primary_key Boolean | column_default Text | column_comment Text | schema_version Int]
"namespace_id" | 1 | 1 | "TEXT" | false | true | null | null | 1
"name" | 2 | 2 | "TEXT" | false | false | null | null | 1
"created_at" | 3 | 3 | "TIMESTAMP" | true | false | null | null | 1
"options" | 4 | 4 | "JSON" | true | false | null | null | 1
"table_count" | 5 | 5 | "BIGINT" | true | false | null | null | 1
(5 rows)
