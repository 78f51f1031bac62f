#!/usr/bin/env python3
"""Quick HTTP latency probe: N sequential single-row INSERTs and N primary-key
SELECTs over one keep-alive connection, Bearer auth, printing p50/p99.

    scripts/latency.py --url http://127.0.0.1:8080 --password PW [-n 1000]

A smoke measurement for notes; the benchmark binary (kalamdb-bench) is the
tool for comparable numbers."""
import argparse, http.client, json, time, urllib.parse

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--user", default="root")
    ap.add_argument("--password", required=True)
    ap.add_argument("-n", type=int, default=1000)
    a = ap.parse_args()
    u = urllib.parse.urlparse(a.url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80)

    def post(path, body, token=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = "Bearer " + token
        conn.request("POST", path, json.dumps(body), headers)
        r = conn.getresponse()
        data = json.loads(r.read())
        if r.status != 200 or data.get("status") == "error":
            raise SystemExit(f"{path}: {r.status} {data}")
        return data

    token = post("/v1/api/auth/login", {"user": a.user, "password": a.password})["access_token"]
    sql = lambda s, p=None: post("/v1/api/sql", {"sql": s, **({"params": p} if p else {})}, token)
    sql("CREATE NAMESPACE IF NOT EXISTS bench")
    sql("DROP TABLE IF EXISTS bench.lat")
    sql("CREATE TABLE bench.lat (id BIGINT PRIMARY KEY, body TEXT) WITH (TYPE='SHARED')")

    def measure(label, fn):
        samples = []
        for i in range(a.n):
            t = time.perf_counter()
            fn(i)
            samples.append((time.perf_counter() - t) * 1000)
        samples.sort()
        pct = lambda p: samples[min(len(samples) - 1, int(p * len(samples)))]
        print(f"{label:<22} n={a.n}  p50={pct(0.50):.3f} ms  p99={pct(0.99):.3f} ms  max={samples[-1]:.3f} ms")

    measure("INSERT (1 row)", lambda i: sql("INSERT INTO bench.lat VALUES ($1, $2)", [i, f"row {i}"]))
    measure("SELECT by PK", lambda i: sql("SELECT id, body FROM bench.lat WHERE id = $1", [i]))

if __name__ == "__main__":
    main()
