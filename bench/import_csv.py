"""Contact import: rows per second for a CSV with 1% bad rows, and peak memory by file size.

Side by side in the same run: the real import (`run_contact_import`: parse, normalise to E.164,
time zone, dedupe, DNC check, COPY + INSERT ... ON CONFLICT, progress commits) and a bare loop
that only reads the same file with the csv module and validates the same numbers. Each runs in
its own child process so peak RSS is the run's own; the import is also run on a file ten times
bigger, to show memory does not grow with the file.

    python -m bench.import_csv [--quick] [--rows N] [--big-rows N]

Uses BENCH_DATABASE_URL (a scratch database: its schema is rebuilt) and BENCH_REDIS_URL when
set, else starts an embedded PostgreSQL and Redis.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

AREA_CODES = ("201", "202", "205", "206", "212", "213", "214", "303", "305", "312", "404", "415",
              "503", "602", "617", "702", "713", "801", "915", "919")
STATES = ("NY", "CA", "TX", "FL", "IL", "", "", "")


def environment(db_url: str, redis_url: str) -> dict[str, str]:
    return {"SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": db_url, "REDIS_URL": redis_url,
            "TWILIO_ACCOUNT_SID": "AC" + "b2" * 16, "TWILIO_AUTH_TOKEN": "bench",
            "PUBLIC_BASE_URL": "http://localhost"}


def services(tmp: Path) -> dict[str, str]:
    from devtools.services import bench_services

    urls = bench_services(tmp)
    return environment(urls["DATABASE_URL"], urls["REDIS_URL"])





def write_csv(path: Path, rows: int, seed: int) -> None:
    """`rows` contacts with unique valid numbers, 1% of them malformed, written as they go."""
    import phonenumbers

    rng = random.Random(seed)
    numbers = set()
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["phone", "first_name", "last_name", "email", "state", "zip", "account_no"])
        for i in range(rows):
            if i % 100 == 37:
                phone = rng.choice(["555-01", "n/a", "+1 (212) 55", "12345678901234567"])
            else:
                while True:
                    phone = f"({rng.choice(AREA_CODES)}) {rng.randint(201, 999)}-{rng.randint(0, 9999):04d}"
                    if phone not in numbers and phonenumbers.is_valid_number(phonenumbers.parse(phone, "US")):
                        break
                numbers.add(phone)
            out.writerow([phone, f"First{i}", f"Last{i}", f"person{i}@example.com",
                          rng.choice(STATES), "", f"A{i:08d}"])


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    """This process's own high-water RSS. (getrusage's ru_maxrss would carry the parent's peak
    over fork and exec, hiding the child's.)"""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_bare(path: str) -> dict:
    """The baseline: read the CSV and validate the numbers, nothing else."""
    from app.common.phones import normalize_phone

    started = time.perf_counter()
    good = bad = 0
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        for row in reader:
            try:
                normalize_phone(row[0], "US")
                good += 1
            except ValueError:
                bad += 1
    seconds = time.perf_counter() - started
    return {"rows": good + bad, "good": good, "bad": bad, "seconds": seconds, "cpu": cpu_seconds()}


def child_import(path: str, env: dict) -> dict:
    import shutil

    from app import create_app
    from app.campaigns.models import Campaign
    from app.imports import csvfile
    from app.contacts.importer import run_contact_import
    from app.imports.models import ImportJob
    from app.extensions import db
    from config import Config

    app = create_app(Config(env))
    with app.app_context():
        campaign = Campaign(name=f"bench {secrets.token_hex(4)}", caller_id="+12025550123",
                            seller_name="Acme", seller_phone="+12025550199",
                            safe_harbour_message="Acme, 202-555-0199")
        db.session.add(campaign)
        db.session.flush()
        stored = os.path.join(tempfile.gettempdir(), f"bench-import-{secrets.token_hex(4)}.csv")
        shutil.copyfile(path, stored)
        header = csvfile.read_header(stored)
        job = ImportJob(kind="contacts", campaign_id=campaign.id, filename="bench.csv", stored_path=stored,
                        column_map={"columns": csvfile.resolve_columns(header, {}), "header": header})
        db.session.add(job)
        db.session.commit()
        job_id = job.id
        started = time.perf_counter()
        job = run_contact_import(job_id)
        seconds = time.perf_counter() - started
        return {"rows": job.rows_read, "imported": job.imported, "rejected": job.rejected,
                "duplicates": job.duplicates, "status": job.status, "seconds": seconds, "cpu": cpu_seconds()}


def run_child(kind: str, path: Path, env: dict) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "bench.import_csv", "--child", kind, "--file", str(path)],
        cwd=REPO, env={**os.environ, **env, "BENCH_CHILD_ENV": json.dumps(env)},
        check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k rows instead of 100k and 1M")
    parser.add_argument("--rows", type=int)
    parser.add_argument("--big-rows", type=int)
    parser.add_argument("--repeat", type=int, help="runs of each on the smaller file; the best counts")
    parser.add_argument("--child", choices=("bare", "import"), help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = child_bare(args.file) if args.child == "bare" else child_import(
            args.file, json.loads(os.environ["BENCH_CHILD_ENV"]))
        result["peak_rss_mb"] = round(peak_rss_mb(), 1)
        print(json.dumps(result))
        return
    rows = args.rows or (10_000 if args.quick else 100_000)
    big_rows = args.big_rows or rows * 10
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        tmp = Path(tmp)
        env = services(tmp)
        from devtools.services import fresh_migrated_schema

        fresh_migrated_schema(env)
        small, big = tmp / "small.csv", tmp / "big.csv"
        print(f"writing {rows:,} and {big_rows:,} row files (1% bad rows) ...", flush=True)
        write_csv(small, rows, seed=1)
        write_csv(big, big_rows, seed=2)
        repeat = args.repeat or (2 if args.quick else 3)
        bare_runs, import_runs = [], []
        for _ in range(repeat):  # interleaved, best of each: the machine's other load is noise
            bare_runs.append(run_child("bare", small, env))
            import_runs.append(run_child("import", small, env))
        results = [
            ("bare loop: csv + validate", rows, min(bare_runs, key=lambda r: r["seconds"])),
            ("import (run_contact_import)", rows, min(import_runs, key=lambda r: r["seconds"])),
            ("bare loop: csv + validate", big_rows, run_child("bare", big, env)),
            ("import (run_contact_import)", big_rows, run_child("import", big, env)),
        ]
        load = os.getloadavg()
    print()
    print(f"best of {repeat} interleaved runs on the {rows:,}-row file; one run on the {big_rows:,}-row file; "
          f"load average at the end {load[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'run':<30} {'rows':>10} {'seconds':>8} {'rows/s':>9} {'CPU s':>7} {'peak RSS MB':>12}  counts")
    for name, n, r in results:
        counts = (f"imported {r['imported']:,}, rejected {r['rejected']:,}, dup {r['duplicates']:,}"
                  if "imported" in r else f"valid {r['good']:,}, bad {r['bad']:,}")
        print(f"{name:<30} {n:>10,} {r['seconds']:>8.2f} {n / r['seconds']:>9,.0f} {r['cpu']:>7.1f} {r['peak_rss_mb']:>12.1f}  {counts}")
    bare, imp, big_bare, big_imp = (r[2] for r in results)
    ratio = bare["seconds"] / imp["seconds"]
    big_ratio = big_bare["seconds"] / big_imp["seconds"]
    growth = big_imp["peak_rss_mb"] - imp["peak_rss_mb"]
    print()
    print(f"import rate / bare-loop rate: {ratio:.2f} at {rows:,} rows, {big_ratio:.2f} at {big_rows:,} "
          "(target >= 0.50)")
    print(f"import of {rows:,} rows: {imp['seconds']:.2f} s (target for 100,000: <= 10 s)")
    print(f"peak RSS growth {rows:,} -> {big_rows:,} rows: {growth:+.1f} MB (target <= 50 MB)")


if __name__ == "__main__":
    main()
