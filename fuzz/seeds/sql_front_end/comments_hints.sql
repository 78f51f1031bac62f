SELECT /*+ hint */ 1; /*!40101 SET x = 1 */; SELECT 'it''s;' -- tail;
; SELECT "q;" FROM t