root:> CREATE NAMESPACE app;
ok 0: Namespace 'app' created successfully

root:> CREATE TABLE app.v (id BIGINT PRIMARY KEY, qty INT, ts TIMESTAMP, d DATE, t TIME, dec DECIMAL(6,2), flag BOOLEAN, small SMALLINT);
ok 0: Shared table app.v created successfully

root:> INSERT INTO app.v (id) VALUES ('abc');
error 400 SQL_EXECUTION_ERROR: Cannot cast 'abc' to BIGINT for column 'id'

root:> INSERT INTO app.v (id, qty) VALUES (1, 'many');
error 400 SQL_EXECUTION_ERROR: Cannot cast 'many' to INT for column 'qty'

root:> INSERT INTO app.v (id, ts) VALUES (1, 'yesterday');
error 400 SQL_EXECUTION_ERROR: Cannot cast 'yesterday' to TIMESTAMP for column 'ts'

root:> INSERT INTO app.v (id, d) VALUES (1, '2023-02-29');
error 400 SQL_EXECUTION_ERROR: Cannot cast '2023-02-29' to DATE for column 'd'

root:> INSERT INTO app.v (id, t) VALUES (1, '25:00:00');
error 400 SQL_EXECUTION_ERROR: Cannot cast '25:00:00' to TIME for column 't'

root:> INSERT INTO app.v (id, dec) VALUES (1, 'x.5');
error 400 SQL_EXECUTION_ERROR: Cannot cast 'x.5' to DECIMAL(6,2) for column 'dec'

root:> INSERT INTO app.v (id, dec) VALUES (1, 123456.7);
error 400 SQL_EXECUTION_ERROR: Cannot cast '123456.7' to DECIMAL(6,2) for column 'dec'

root:> INSERT INTO app.v (id, dec) VALUES (1, 1.234);
error 400 SQL_EXECUTION_ERROR: Cannot cast '1.234' to DECIMAL(6,2) for column 'dec': rounding beyond scale 2

root:> INSERT INTO app.v (id, flag) VALUES (1, 'maybe');
error 400 SQL_EXECUTION_ERROR: Cannot cast 'maybe' to BOOLEAN for column 'flag'

root:> INSERT INTO app.v (id, small) VALUES (1, 32768);
error 400 SQL_EXECUTION_ERROR: Cannot cast '32768' to SMALLINT for column 'small'

root:> SELECT count(*) AS n FROM app.v;
[n BigInt]
"0"
(1 row)

root:> INSERT INTO app.v (id, qty) VALUES (1, 1);
ok 1: Inserted 1 row(s)

root:> UPDATE app.v SET qty = 'lots' WHERE id = 1;
error 400 SQL_EXECUTION_ERROR: Cannot cast 'lots' to INT for column 'qty'

root:> UPDATE app.v SET dec = 0.125 WHERE id = 1;
error 400 SQL_EXECUTION_ERROR: Cannot cast '0.125' to DECIMAL(6,2) for column 'dec': rounding beyond scale 2

# A literal DEFAULT that does not fit its column is refused at CREATE TABLE.
root:> CREATE TABLE app.x5 (id BIGINT PRIMARY KEY, v INT DEFAULT 'abc');
error 400 SQL_EXECUTION_ERROR: Invalid DEFAULT for column 'v': Cannot cast 'abc' to INT for column 'v'
