#!/usr/bin/env python3
"""Seeds a migrated Liaison SQLite database with IEP notes for scripts/bench/iep.sh, and
measures what the audit log holds.

  iep_seed.py seed --target DB --school S --students N --notes M --out DIR
      N families with one student each (has_iep), M notes spread over them (every fifth with
      an action item), written as diesel writes them. Writes DIR/get.paths (1,000 note paths
      spread over the table) and DIR/list.paths (1,000 student list paths, limit=50).
  iep_seed.py audit --target DB
      Prints `reads=<read events> bytes=<bytes of audit_events and its indexes>` (dbstat).
"""

import argparse
import os
import random
import sqlite3
import sys
import time

US = 1_000_000
DAY = 86_400 * US


def ts(us):
    """Microseconds since the epoch as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC), as diesel stores."""
    s, f = divmod(us, US)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(s)) + f".{f:06d}"


def uuid7(ms, counter, rng):
    value = (ms << 80) | (0x7 << 76) | ((counter & 0xFFF) << 64) | (0b10 << 62) | rng.getrandbits(62)
    h = f"{value:032x}"
    return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def ids(count, start_ms, rng):
    """Increasing UUIDv7 ids, one per millisecond from start_ms."""
    return [uuid7(start_ms + i, 0, rng) for i in range(count)]


BODY = ("Reading fluency rose from 62 to 78 words a minute since October. Extended time on "
        "tests continues; the speech therapist sees Sam twice a week. The family reports less "
        "frustration with homework after 8pm since the reading log started. ")


def seed(a):
    rng = random.Random(20261203)
    conn = sqlite3.connect(a.target, isolation_level=None, timeout=30)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    now_us = int(time.time() * US)
    start_ms = now_us // 1000 - 2 * DAY // 1000
    fams = ids(a.students, start_ms, rng)
    studs = ids(a.students, start_ms + a.students, rng)
    notes = ids(a.notes, start_ms + 2 * a.students, rng)
    conn.execute("BEGIN")
    stamp = ts(now_us - DAY)
    conn.executemany(
        "INSERT INTO families (id, school_id, display_name, sms_opt_in, directory_opt_out, version,"
        " created_at, updated_at) VALUES (?, ?, ?, 0, 0, 1, ?, ?)",
        [(f, a.school, f"IEP family {i}", stamp, stamp) for i, f in enumerate(fams)])
    conn.executemany(
        "INSERT INTO students (id, school_id, family_id, given_name, family_name, has_iep, version,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, 'Doe', 1, 1, ?, ?)",
        [(s, a.school, fams[i], f"Kid {i}", stamp, stamp) for i, s in enumerate(studs)])
    kinds = ["meeting_note", "progress_update", "parent_input", "accommodation_request", "action_plan"]
    rows, items = [], []
    for i, n in enumerate(notes):
        k = i % a.students
        kind = kinds[i % len(kinds)]
        vis = "family" if kind == "parent_input" or i % 2 == 0 else "staff"
        t = ts(now_us - DAY + i * 1000)
        rows.append((n, a.school, studs[k], fams[k], kind, f"Note {i}: annual review follow-up",
                     BODY, "2026-11-20", vis, "teacher-1", "teacher", 1, t, t))
        if i % 5 == 0:
            items.append((uuid7(start_ms + 3 * a.students + a.notes + i, 0, rng), a.school, n,
                          studs[k], 0, "Share the reading log weekly", "family", "2027-01-15"))
    conn.executemany(
        "INSERT INTO iep_notes (id, school_id, student_id, family_id, kind, title, body,"
        " meeting_date, visibility, author, author_role, version, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.executemany(
        "INSERT INTO iep_action_items (id, school_id, note_id, student_id, position, description,"
        " owner, due_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", items)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    os.makedirs(a.out, exist_ok=True)
    step = max(1, a.notes // 1000)
    with open(os.path.join(a.out, "get.paths"), "w") as f:
        for i in range(0, a.notes, step)[:1000]:
            f.write(f"/v1/iep-notes/{notes[i]}\n")
    step = max(1, a.students // 1000)
    with open(os.path.join(a.out, "list.paths"), "w") as f:
        for i in range(0, a.students, step)[:1000]:
            f.write(f"/v1/students/{studs[i]}/iep-notes?limit=50\n")
    print(f"seeded {a.students} students, {a.notes} notes, {len(items)} action items", file=sys.stderr)


def audit(a):
    conn = sqlite3.connect(a.target, isolation_level=None, timeout=30)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    (reads,) = conn.execute("SELECT count(*) FROM audit_events WHERE action = 'read'").fetchone()
    try:
        (size,) = conn.execute(
            "SELECT sum(d.pgsize) FROM dbstat d JOIN sqlite_schema s ON s.name = d.name"
            " WHERE s.tbl_name = 'audit_events'").fetchone()
    except sqlite3.DatabaseError:
        size = None
    print(f"reads={reads} bytes={size if size is not None else 'unknown'}")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("seed")
    s.add_argument("--target", required=True)
    s.add_argument("--school", required=True)
    s.add_argument("--students", type=int, default=1000)
    s.add_argument("--notes", type=int, default=100_000)
    s.add_argument("--out", required=True)
    s = sub.add_parser("audit")
    s.add_argument("--target", required=True)
    a = p.parse_args()
    {"seed": seed, "audit": audit}[a.cmd](a)


if __name__ == "__main__":
    main()
