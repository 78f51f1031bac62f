#!/usr/bin/env python3
"""Cold-tier probe: flush throughput, and the same aggregate query over
200,000 rows in 20 Parquet segments vs the same rows hot.

    scripts/cold_bench.py --url http://127.0.0.1:8080 --password ROOT_PW [--rows 200000] [--files 20] [-n 20]

Setup over HTTP as root (Bearer): table `cbench.cold` gets `rows` rows in
`files` batches, each followed by `STORAGE FLUSH TABLE` and a wait on the job
(`GET /v1/api/jobs/{id}?wait_ms=`), so it ends with `files` segments and no
hot rows; `cbench.hot` gets the same rows and is never flushed. Flush
throughput = rows and segment bytes of one flush of `rows` rows divided by
the job's running time (started_at → finished_at). Then `STORAGE COMPACT
TABLE cbench.cold` merges the segments (its job time is printed) and the
query is measured again on the merged file. Run the server with
`[compaction] auto_min_files = 0`, or flushes merge the segments before the
20-file measurement. A smoke measurement for notes; kalamdb-bench is the
tool for comparable numbers."""
import argparse, http.client, json, time, urllib.parse

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--password", required=True)
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("-n", type=int, default=20)
    a = ap.parse_args()
    u = urllib.parse.urlparse(a.url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=600)

    def req(method, path, body=None, token=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = "Bearer " + token
        conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        r = conn.getresponse()
        data = json.loads(r.read())
        if r.status != 200 or data.get("status") == "error":
            raise SystemExit(f"{path}: {r.status} {data}")
        return data

    token = req("POST", "/v1/api/auth/login", {"user": "root", "password": a.password})["access_token"]
    sql = lambda s: req("POST", "/v1/api/sql", {"sql": s}, token)["results"]

    def flush(table):
        msg = sql(f"STORAGE FLUSH TABLE {table}")[0]["message"]
        job = msg.split("Job ID: ")[1]
        j = req("GET", f"/v1/api/jobs/{job}?wait_ms=600000", token=token)
        assert j["status"] == "completed", j
        return j

    def insert(table, start, count):
        step = 5000
        for lo in range(start, start + count, step):
            hi = min(lo + step, start + count)
            values = ", ".join(f"({i}, 'room {i % 100}', 'message body number {i}', {i % 1000})" for i in range(lo, hi))
            sql(f"INSERT INTO {table} VALUES {values}")

    sql("CREATE NAMESPACE IF NOT EXISTS cbench")
    for t in ("cold", "hot", "flushme"):
        sql(f"DROP TABLE IF EXISTS cbench.{t}")
        sql(f"CREATE SHARED TABLE cbench.{t} (id BIGINT PRIMARY KEY, room TEXT, body TEXT, score INT)")

    insert("cbench.flushme", 0, a.rows)
    j = flush("cbench.flushme")
    secs = (j["finished_at"] - j["started_at"]) / 1e6
    nbytes = int(j["message"].split(" rows, ")[1].split(" bytes")[0])
    print(f"flush: {a.rows} rows, {nbytes/1e6:.1f} MB segment in {secs:.3f} s -> {a.rows/secs:,.0f} rows/s, {nbytes/1e6/secs:.1f} MB/s")

    per = a.rows // a.files
    for f in range(a.files):
        insert("cbench.cold", f * per, per)
        flush("cbench.cold")
    insert("cbench.hot", 0, per * a.files)

    q = "SELECT room, count(*) AS n, sum(score) AS s FROM cbench.{t} WHERE score < 500 GROUP BY room ORDER BY room"
    expected = sql(q.format(t="hot"))[0]["rows"]
    assert sql(q.format(t="cold"))[0]["rows"] == expected
    def measure(label):
        for t in ("hot", "cold"):
            samples = []
            for _ in range(a.n):
                t0 = time.perf_counter()
                sql(q.format(t=t))
                samples.append((time.perf_counter() - t0) * 1000)
            samples.sort()
            print(f"GROUP BY over {per * a.files} rows ({t}{', ' + label if t == 'cold' else ''}): "
                  f"p50={samples[len(samples)//2]:.1f} ms  min={samples[0]:.1f} ms  max={samples[-1]:.1f} ms")
        for t in ("hot", "cold"):
            samples = []
            for i in range(200):
                t0 = time.perf_counter()
                sql(f"SELECT body FROM cbench.{t} WHERE id = {(i * 997) % (per * a.files)}")
                samples.append((time.perf_counter() - t0) * 1000)
            samples.sort()
            print(f"PK lookup ({t}{', ' + label if t == 'cold' else ''}): p50={samples[100]:.2f} ms  p99={samples[198]:.2f} ms")

    measure(f"{a.files} segments")
    msg = sql("STORAGE COMPACT TABLE cbench.cold")[0]["message"]
    job = msg.split("Job ID: ")[1]
    j = req("GET", f"/v1/api/jobs/{job}?wait_ms=600000", token=token)
    assert j["status"] == "completed", j
    secs = (j["finished_at"] - j["started_at"]) / 1e6
    print(f"compaction: {j['message']} in {secs:.3f} s -> {per * a.files / secs:,.0f} rows/s")
    assert sql(q.format(t="cold"))[0]["rows"] == expected
    measure("compacted")

if __name__ == "__main__":
    main()
