INSERT INTO app.t (id, body, n) VALUES (1, 'it''s', -2.50), (2, NULL, TRUE), ($1, 'x
y', 007);