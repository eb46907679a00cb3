#!/usr/bin/env python3
"""Seed a migrated Liaison SQLite database with families for one school.

Usage: seed.py DB_PATH SCHOOL_ID COUNT

Standard library only. Inserts COUNT families in one transaction with
strictly increasing UUIDv7 ids (lists order by id), and prints one seeded
id per line on stdout: the first, the middle and the last.
"""
import os
import sqlite3
import sys
import time
from datetime import datetime, timedelta, timezone

LANGUAGES = ["en", "es", "vi", "zh", "ar", "fr"]
CHANNELS = ["email", "sms", "phone", "portal", None]


def uuid7_sequence(count, start_ms):
    """`count` strictly increasing UUIDv7 strings (RFC 9562 layout).

    48-bit unix-ms timestamp, version 7, 12-bit rand_a used as a counter
    within the millisecond (method 1 of RFC 9562 s6.2), variant 10, 62
    random bits. The timestamp advances every 4096 ids, so order holds.
    """
    out = []
    for i in range(count):
        ms = start_ms + (i >> 12)
        rand_a = i & 0xFFF
        rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
        value = (ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
        h = f"{value:032x}"
        out.append(f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}")
    return out


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    db_path, school, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if count < 1:
        sys.exit("COUNT must be at least 1")
    # Start far enough in the past that ids minted by the server sort after.
    start_ms = int(time.time() * 1000) - 86_400_000
    ids = uuid7_sequence(count, start_ms)
    assert ids == sorted(ids), "uuid7 ids are not increasing"
    base = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=1)

    def rows():
        for i, fid in enumerate(ids):
            ts = (base + timedelta(microseconds=i * 1000)).strftime("%Y-%m-%d %H:%M:%S.%f")
            yield (
                fid,
                school,
                f"SIS-{i:07d}",
                f"Bench family {i}",
                LANGUAGES[i % len(LANGUAGES)],
                CHANNELS[i % len(CHANNELS)],
                i % 2,
                1 if i % 10 == 0 else 0,
                f"{i} Main Street",
                None,
                "Springfield",
                "IL",
                f"{62700 + i % 100:05d}",
                "US",
                None,
                1,
                ts,
                ts,
                None,
            )

    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO families (id, school_id, external_id, display_name,"
            " primary_language, preferred_channel, sms_opt_in, directory_opt_out,"
            " address_line1, address_line2, address_city, address_region,"
            " address_postal_code, address_country, notes, version, created_at,"
            " updated_at, archived_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows(),
        )
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        (n,) = conn.execute(
            "SELECT count(*) FROM families WHERE school_id = ?", (school,)
        ).fetchone()
    finally:
        conn.close()
    if n < count:
        sys.exit(f"seeded {n} families, expected {count}")
    print(ids[0])
    print(ids[count // 2])
    print(ids[-1])
    print(f"seeded {n} families for {school}", file=sys.stderr)


if __name__ == "__main__":
    main()
