"""CDS Hooks patient-view latency with prefetch for a Synthea patient, 20 concurrent clients.

    .venv/bin/python benchmarks/cds/bench_patient_view.py [--requests 2000] [--concurrency 20]

Starts the CDS service (``python -m clotsafe.web.cds.run``, waitress, JWT auth ON with an
ES384 key made for the run) on 127.0.0.1, warms it up, then sends ``--requests`` patient-view
calls from ``--concurrency`` threads, each with a fresh signed JWT (signed before timing) and the
full prefetch of tests/fixtures/fhir/synthea/synthea-5aa60e91.json (a patient with a DVT). Every
request is checked (200 and one card). Writes results.json (and latency.png when matplotlib is
installed) beside this file. Only loopback traffic; bounded in count and time.

The floor (``--floor``, on by default): floor_server.py, the same waitress server, workers and
threads with an app that only reads the body and answers a card-sized JSON, is timed in the same
run with the same requests, interleaved with the service (floor, service, floor, ...), and each
service figure is also given as a ratio to the floor's run just before it: on the shared
machine the load changes from minute to minute, and the ratio is steadier than the figure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PATIENT = ROOT / "tests" / "fixtures" / "fhir" / "synthea" / "synthea-5aa60e91.json"
ISS = "https://bench-ehr.example.org"
PATH = "/cds-services/clotsafe-patient-view"
KINDS = {"conditions": "Condition", "medicationRequests": "MedicationRequest",
         "medicationStatements": "MedicationStatement", "observations": "Observation",
         "procedures": "Procedure", "encounters": "Encounter"}  # fmt: skip


def prefetch(bundle: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(patient id, prefetch object) as an EHR would send it for the service's templates."""
    resources = [e["resource"] for e in bundle["entry"]]
    patient = next(r for r in resources if r["resourceType"] == "Patient")
    out: dict[str, Any] = {"patient": patient}
    for key, kind in KINDS.items():
        out[key] = {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [{"resource": r} for r in resources if r["resourceType"] == kind],
        }
    return patient["id"], out


def start(tmp: Path, key: Any, port: int, args: argparse.Namespace,
          src: str | None) -> subprocess.Popen[bytes]:  # fmt: skip
    """The CDS service; with ``src``, the clotsafe package found there (another tree)."""
    pub = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    issuers = tmp / "issuers.json"
    issuers.write_text(json.dumps({ISS: {"keys": [{**pub, "kid": "k1", "alg": "ES384"}]}}))
    name = "compare" if src else "server"
    env = {**os.environ, "CLOTSAFE_CDS_ISSUERS": str(issuers),
           "CLOTSAFE_CDS_DB": str(tmp / f"{name}.sqlite3")}  # fmt: skip
    if src:
        env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    log = (tmp / f"{name}.log").open("wb")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "clotsafe.web.cds.run",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def wait_up(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/cds-services", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("the CDS service did not start")


def tokens(key: Any, url: str, n: int) -> list[str]:
    """Signed just before a run: CDS Hooks lets a token live five minutes at most."""
    now = int(time.time())
    return [jwt.encode({"iss": ISS, "aud": url, "iat": now, "exp": now + 290,
                        "jti": str(uuid.uuid4())}, key, algorithm="ES384",
                       headers={"kid": "k1"}) for _ in range(n)]  # fmt: skip


def run(base: str, body: bytes, toks: list[str], concurrency: int) -> list[float]:
    url = f"{base}{PATH}"
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with httpx.Client(limits=limits, timeout=30) as http:

        def one(tok: str) -> float:
            t0 = time.perf_counter()
            r = http.post(
                url,
                content=body,
                headers={"Authorization": f"Bearer {tok}", "Content-Type": "application/json"},
            )
            dt = time.perf_counter() - t0
            if r.status_code != 200 or not r.content.startswith(b'{"cards": [{"uuid"'):
                raise SystemExit(
                    f"bad response {r.status_code}: {r.text[:300]} (see the server log)"
                )
            return dt * 1000

        with ThreadPoolExecutor(concurrency) as pool:
            return list(pool.map(one, toks))


def _ticks(pid: int) -> int:
    """CPU ticks (user + system) of one process, from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in os.listdir(f"/proc/{p}/task"):
            with open(f"/proc/{p}/task/{task}/children") as f:
                todo += [int(c) for c in f.read().split()]
    return out


def server_cpu_ms(pid: int) -> float:
    """CPU time of the server and its worker processes so far, in ms."""
    return sum(_ticks(p) for p in _tree(pid)) * 1000 / os.sysconf("SC_CLK_TCK")


def own_cpu_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return (usage.ru_utime + usage.ru_stime) * 1000


def timed_run(base: str, body: bytes, key: Any, url: str, n: int, concurrency: int,
              pid: int) -> dict[str, Any]:  # fmt: skip
    """One timed run: latencies, the server's CPU per call, the load generator's own CPU."""
    toks = tokens(key, url, n)
    server0, own0, wall0 = server_cpu_ms(pid), own_cpu_ms(), time.perf_counter()
    lat = run(base, body, toks, concurrency)
    wall = time.perf_counter() - wall0
    server, own = server_cpu_ms(pid) - server0, own_cpu_ms() - own0
    return {"lat": lat, "wall_s": round(wall, 2), "server_cpu_ms_per_call": round(server / n, 2),
            "loadgen_cpu_ms_per_call": round(own / n, 2),
            "loadgen_cpu_share_of_2_cores": round(own / (wall * 1000) / 2, 2),
            "p50_ms": round(pct(lat, 50), 1), "p90_ms": round(pct(lat, 90), 1),
            "p99_ms": round(pct(lat, 99), 1), "load_avg_1min": os.getloadavg()[0]}  # fmt: skip


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--port", type=int, default=8791)
    ap.add_argument("--workers", type=int, default=2, help="server processes (2 cores here)")
    ap.add_argument("--threads", type=int, default=8, help="threads per server process")
    ap.add_argument("--repeat", type=int, default=1, help="timed runs (a busy machine varies)")
    ap.add_argument("--out", default="results.json", help="file name beside this script")
    ap.add_argument("--no-floor", dest="floor", action="store_false",
                    help="do not time floor_server.py beside the service")  # fmt: skip
    ap.add_argument(
        "--compare-src",
        help="also time the service from this source folder "
        "(e.g. `git archive <commit> src | tar -x -C /tmp/before`: /tmp/before/src)",
    )
    args = ap.parse_args()
    pid, pre = prefetch(json.loads(PATIENT.read_text()))
    hook = {
        "hook": "patient-view",
        "hookInstance": "bench",
        "context": {"userId": "Practitioner/1", "patientId": pid},
        "prefetch": pre,
    }
    body = json.dumps(hook).encode()
    key = ec.generate_private_key(ec.SECP384R1())
    with tempfile.TemporaryDirectory() as tmp:
        servers: list[tuple[str, subprocess.Popen[bytes], str]] = []
        try:
            runs = timed_servers(Path(tmp), body, key, args, servers)
        except SystemExit:
            for log in sorted(Path(tmp).glob("*.log")):
                print(f"--- {log.name}", log.read_text()[-3000:], sep="\n", file=sys.stderr)
            raise
        finally:
            for _name, p, _base in servers:
                p.terminate()
                p.wait(timeout=10)
    report(runs, args, len(body))


def timed_servers(tmp: Path, body: bytes, key: Any, args: argparse.Namespace,
                  servers: list[tuple[str, subprocess.Popen[bytes], str]]
                  ) -> dict[str, list[dict[str, Any]]]:  # fmt: skip
    """Start the service (and the floor, and the tree to compare with), warm each up, then
    time them in turn ``--repeat`` times: floor, compare, service, floor, ..."""
    base = f"http://127.0.0.1:{args.port}"
    url = f"{base}{PATH}"
    servers.append(("service", start(tmp, key, args.port, args, None), base))
    wait_up(base)
    answer = answer_bytes(url, body, tokens(key, url, 1)[0])
    if args.compare_src:
        other = f"http://127.0.0.1:{args.port + 2}"
        servers.insert(0, ("compare", start(tmp, key, args.port + 2, args, args.compare_src),
                           other))  # fmt: skip
    if args.floor:
        floor = f"http://127.0.0.1:{args.port + 1}"
        servers.insert(0, ("floor", start_floor(tmp, args.port + 1, args, answer), floor))
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name, _p, _b in servers}
    for _name, _p, b in servers:
        wait_up(b)
        run(b, body, tokens(key, f"{b}{PATH}", 100), args.concurrency)  # warm-up
    for _ in range(args.repeat):
        for name, p, b in servers:
            runs[name].append(timed_run(b, body, key, f"{b}{PATH}", args.requests,
                                        args.concurrency, p.pid))  # fmt: skip
    return runs


def answer_bytes(url: str, body: bytes, token: str) -> int:
    """The size of the service's answer (the floor answers as many bytes)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return len(httpx.post(url, content=body, headers=headers, timeout=30).content)


def start_floor(tmp: Path, port: int, args: argparse.Namespace,
                answer_bytes: int) -> subprocess.Popen[bytes]:  # fmt: skip
    log = (tmp / "floor.log").open("wb")
    return subprocess.Popen([sys.executable, str(HERE / "floor_server.py"), "--port", str(port),
                             "--workers", str(args.workers), "--threads", str(args.threads),
                             "--answer-bytes", str(answer_bytes)],
                            stdout=log, stderr=subprocess.STDOUT)  # fmt: skip


def ratios(run: dict[str, Any], floor: dict[str, Any]) -> dict[str, float]:
    keys = ("server_cpu_ms_per_call", "p50_ms", "p99_ms")
    return {k: round(run[k] / floor[k], 1) for k in keys if floor[k]}


def _plain(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "lat"} for r in runs]


def report(all_runs: dict[str, list[dict[str, Any]]], args: argparse.Namespace,
           size: int) -> None:  # fmt: skip
    runs, floors = all_runs["service"], all_runs.get("floor", [])
    compare = all_runs.get("compare", [])
    lat = runs[-1]["lat"]
    res = {"requests": len(lat), "concurrency": args.concurrency, "body_bytes": size,
           "patient": PATIENT.name, "p50_ms": runs[-1]["p50_ms"], "p90_ms": runs[-1]["p90_ms"],
           "p99_ms": runs[-1]["p99_ms"], "mean_ms": round(statistics.fmean(lat), 1),
           "max_ms": round(max(lat), 1),
           "runs": _plain(runs), "floor_runs": _plain(floors),
           "ratio_to_floor": [ratios(r, f) for r, f in zip(runs, floors, strict=False)],
           "compare_src": args.compare_src, "compare_runs": _plain(compare),
           "compare_ratio_to_floor": [ratios(r, f)
                                      for r, f in zip(compare, floors, strict=False)],
           "cpus": os.cpu_count(), "python": platform.python_version(),
           "server": f"waitress, {args.workers} processes x {args.threads} threads",
           "auth": "ES384 JWT verified per request (iss, aud, exp, jti in SQLite)"}  # fmt: skip
    (HERE / args.out).write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res, indent=2))
    if args.out != "results.json":
        return
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.hist(lat, bins=60, color="#4a7ab5")
    for name, v in (("p50", res["p50_ms"]), ("p99", res["p99_ms"])):
        ax.axvline(float(v), color="black", linestyle="--")  # type: ignore[arg-type]
        ax.text(float(v), ax.get_ylim()[1] * 0.9, f" {name} {v} ms")  # type: ignore[arg-type]
    ax.set_xlabel("patient-view latency (ms), 20 concurrent clients, prefetch, Synthea patient")
    ax.set_ylabel("requests")
    fig.tight_layout()
    fig.savefig(HERE / "latency.png", dpi=100)


if __name__ == "__main__":
    main()
