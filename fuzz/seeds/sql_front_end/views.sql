CREATE OR REPLACE VIEW app.inbox AS SELECT m.id, r.title, m.meta->>'tool' AS tool FROM app.messages m JOIN app.rooms r ON m.room = r.room WHERE m.id > 1;
DROP VIEW IF EXISTS app.inbox;
