#!/usr/bin/env python3
"""Seeds a migrated Liaison SQLite database for scripts/bench/engagement.sh.

  engagement_seed.py seed --target DB --school S --families N --events E --rsvps R --out DIR
      N families, each with one guardian linked (with records) to one child (grades K-5 in
      turn; every fifth family speaks Spanish); E events (four in ten for the school, three for
      a grade, two for a language, one for five named families) with their audience rows; R
      RSVPs spread over the events (distinct families per event). Writes DIR/guardian (the id of
      a guardian whose family some events reach), DIR/rsvp.paths (1,000 RSVP paths of events
      without capacity), DIR/racers (64 `guardian student` lines) and DIR/conference (the id
      of an event for the booking race).
  engagement_seed.py bookings --target DB --event ID
      Prints the number of live bookings of the event.
"""

import argparse
import json
import os
import random
import sqlite3
import sys
import time

US = 1_000_000
DAY = 86_400 * US
GRADES = ["K", "1", "2", "3", "4", "5"]


def ts(us):
    s, f = divmod(us, US)
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(s)) + f".{f:06d}"


def uuid7(ms, rng):
    value = (ms << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64) | (0b10 << 62) | rng.getrandbits(62)
    h = f"{value:032x}"
    return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def ids(count, start_ms, rng):
    return [uuid7(start_ms + i, rng) for i in range(count)]


def seed(a):
    rng = random.Random(20261204)
    conn = sqlite3.connect(a.target, isolation_level=None, timeout=30)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    now_us = int(time.time() * US)
    start_ms = now_us // 1000 - 30 * DAY // 1000
    n = a.families
    fams = ids(n, start_ms, rng)
    gs = ids(n, start_ms + n, rng)
    studs = ids(n, start_ms + 2 * n, rng)
    links = ids(n, start_ms + 3 * n, rng)
    evs = ids(a.events, start_ms + 4 * n, rng)
    stamp = ts(now_us - DAY)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO families (id, school_id, display_name, primary_language, sms_opt_in,"
        " directory_opt_out, version, created_at, updated_at) VALUES (?, ?, ?, ?, 0, 0, 1, ?, ?)",
        [(f, a.school, f"Family {i}", "es" if i % 5 == 0 else "en", stamp, stamp)
         for i, f in enumerate(fams)])
    conn.executemany(
        "INSERT INTO guardians (id, school_id, family_id, given_name, family_name, is_primary,"
        " sms_opt_in, contact_allowed, version, created_at, updated_at)"
        " VALUES (?, ?, ?, 'Ana', 'Doe', 1, 0, 1, 1, ?, ?)",
        [(g, a.school, fams[i], stamp, stamp) for i, g in enumerate(gs)])
    conn.executemany(
        "INSERT INTO students (id, school_id, family_id, given_name, family_name, grade_level,"
        " has_iep, version, created_at, updated_at) VALUES (?, ?, ?, 'Sam', 'Doe', ?, 0, 1, ?, ?)",
        [(s, a.school, fams[i], GRADES[i % len(GRADES)], stamp, stamp) for i, s in enumerate(studs)])
    conn.executemany(
        "INSERT INTO guardian_student_links (id, school_id, student_id, guardian_id, legal_guardian,"
        " lives_with, emergency_contact, can_view_records, contact_restricted, version, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, 1, 1, 0, 1, 0, 1, ?, ?)",
        [(l, a.school, studs[i], gs[i], stamp, stamp) for i, l in enumerate(links)])
    events, audience = [], []
    for i, e in enumerate(evs):
        kind = i % 10
        if kind < 4:
            aud, members = {"scope": "school"}, [("school", "")]
        elif kind < 7:
            g = GRADES[i % len(GRADES)]
            aud, members = {"grade_levels": [g]}, [("grade", g)]
        elif kind < 9:
            aud, members = {"languages": ["es"]}, [("language", "es")]
        else:
            named = sorted({fams[rng.randrange(n)] for _ in range(5)})
            aud, members = {"family_ids": named}, [("family", f) for f in named]
        start = now_us + (i % 60) * DAY + 17 * 3600 * US
        events.append((e, a.school, "conference" if i == 0 else "workshop", f"Workshop {i}",
                       ts(start), ts(start + 5400 * US), "Library", '["en","es"]',
                       json.dumps(aud, separators=(",", ":")), stamp, stamp))
        audience.extend((a.school, e, k, m) for k, m in members)
    conn.executemany(
        "INSERT INTO events (id, school_id, kind, title, starts_at, ends_at, location, languages,"
        " interpreter_available, childcare_available, waitlist, audience, places_taken, version,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, 1, 0, ?, 0, 1, ?, ?)", events)
    conn.executemany(
        "INSERT INTO event_audience (school_id, event_id, member_kind, member) VALUES (?, ?, ?, ?)",
        audience)
    per_event = max(1, a.rsvps // a.events)
    rsvps, k = [], 0
    rids = ids(a.rsvps, start_ms + 5 * n, rng)
    for e in evs:
        for f in rng.sample(range(n), per_event):
            if k >= a.rsvps:
                break
            resp = ("yes", "no", "maybe")[k % 3]
            status = "confirmed" if resp == "yes" else "answered"
            rsvps.append((rids[k], a.school, e, fams[f], resp, status, 1 if resp == "yes" else 0,
                          gs[f], stamp, stamp))
            k += 1
    conn.executemany(
        "INSERT INTO rsvps (id, school_id, event_id, family_id, response, status, adults, children,"
        " needs_interpreter, needs_childcare, answered_by, version, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?, 1, ?, ?)", rsvps)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "guardian"), "w") as f:
        f.write(gs[0] + "\n")  # family 0: Spanish, grade K
    with open(os.path.join(a.out, "rsvp.paths"), "w") as f:
        for i in range(1000):
            f.write(f"/v1/events/{evs[rng.randrange(a.events)]}/rsvps/{fams[rng.randrange(n)]}\n")
    with open(os.path.join(a.out, "racers"), "w") as f:
        for i in range(64):
            f.write(f"{gs[n - 1 - i]} {studs[n - 1 - i]}\n")
    with open(os.path.join(a.out, "conference"), "w") as f:
        f.write(evs[0] + "\n")
    print(f"seeded {n} families, {a.events} events, {len(rsvps)} RSVPs", file=sys.stderr)


def bookings(a):
    conn = sqlite3.connect(a.target, isolation_level=None, timeout=30)
    (live,) = conn.execute(
        "SELECT count(*) FROM bookings WHERE event_id = ? AND released_at IS NULL", (a.event,)).fetchone()
    print(live)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("seed")
    s.add_argument("--target", required=True)
    s.add_argument("--school", required=True)
    s.add_argument("--families", type=int, default=100_000)
    s.add_argument("--events", type=int, default=2_000)
    s.add_argument("--rsvps", type=int, default=200_000)
    s.add_argument("--out", required=True)
    s = sub.add_parser("bookings")
    s.add_argument("--target", required=True)
    s.add_argument("--event", required=True)
    a = p.parse_args()
    {"seed": seed, "bookings": bookings}[a.cmd](a)


if __name__ == "__main__":
    main()
