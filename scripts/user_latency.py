#!/usr/bin/env python3
"""USER-table latency probe: login, and one user's PK lookup and full scan
on a USER table shared by many users (default 10,000 users x 10 rows).

    scripts/user_latency.py --url http://127.0.0.1:8080 --password ROOT_PW [--users 10000] [-n 1000]

Setup (over HTTP, as root): N-1 users `WITH INTERNAL ROLE user` plus one
`probe` user with a password, a USER table `ubench.notes`, and 10 rows per
user written with batched `EXECUTE AS USER`. Then, as `probe` (Bearer): login
latency, `SELECT … WHERE id = $1` and `SELECT *` of its 10 rows. A smoke
measurement for notes; kalamdb-bench is the tool for comparable numbers."""
import argparse, http.client, json, time, urllib.parse

ROWS_PER_USER = 10
BATCH = 500  # statements per request during setup
PROBE_PASSWORD = "probe-Passw0rd-x"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("--password", required=True, help="root's password")
    ap.add_argument("--users", type=int, default=10000)
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("--logins", type=int, default=50)
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

    def login(user, password):
        return post("/v1/api/auth/login", {"user": user, "password": password})["access_token"]

    root = login("root", a.password)
    sql = lambda s, tok=root, p=None: post("/v1/api/sql", {"sql": s, **({"params": p} if p else {})}, tok)

    def batched(statements):
        for i in range(0, len(statements), BATCH):
            sql(";\n".join(statements[i:i + BATCH]))

    t0 = time.perf_counter()
    sql("CREATE NAMESPACE IF NOT EXISTS ubench")
    sql("DROP TABLE IF EXISTS ubench.notes")
    sql("CREATE USER TABLE ubench.notes (id BIGINT PRIMARY KEY, body TEXT)")
    names = [f"u{i:06d}" for i in range(a.users - 1)]
    existing = {r[0] for r in sql("SELECT user_id FROM system.users")["results"][0]["rows"]}
    batched([f"CREATE USER {n} WITH INTERNAL ROLE user" for n in names if n not in existing])
    if "probe" not in existing:
        sql(f"CREATE USER probe WITH PASSWORD '{PROBE_PASSWORD}' ROLE user")
    names.append("probe")
    values = ", ".join(f"({k}, 'note {k}')" for k in range(ROWS_PER_USER))
    batched([f"EXECUTE AS USER '{n}' (INSERT INTO ubench.notes VALUES {values})" for n in names])
    print(f"setup: {len(names)} users x {ROWS_PER_USER} rows in {time.perf_counter() - t0:.1f} s")

    def measure(label, fn, n):
        samples = []
        for i in range(n):
            t = time.perf_counter()
            fn(i)
            samples.append((time.perf_counter() - t) * 1000)
        samples.sort()
        pct = lambda p: samples[min(len(samples) - 1, int(p * len(samples)))]
        print(f"{label:<28} n={n:<5} p50={pct(0.50):.3f} ms  p99={pct(0.99):.3f} ms  max={samples[-1]:.3f} ms")

    measure("login (Argon2id verify)", lambda i: login("probe", PROBE_PASSWORD), a.logins)
    probe = login("probe", PROBE_PASSWORD)
    got = sql("SELECT * FROM ubench.notes", probe)["results"][0]["row_count"]
    assert got == ROWS_PER_USER, got
    measure("SELECT by PK (own rows)", lambda i: sql("SELECT id, body FROM ubench.notes WHERE id = $1", probe, [i % ROWS_PER_USER]), a.n)
    measure(f"SELECT * ({ROWS_PER_USER} own rows)", lambda i: sql("SELECT * FROM ubench.notes", probe), a.n)


if __name__ == "__main__":
    main()
