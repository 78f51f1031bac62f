BEGIN; INSERT INTO t VALUES (1) RETURNING *; UPDATE t SET a = a + 1 WHERE id = 1 RETURNING id, a; COMMIT;
SELECT meta->>'k' = 'v', j->'a'->1 FROM t WHERE meta->>'tool' LIKE 's%';
