#!/usr/bin/env python3
"""Seed communications and concerns into a Liaison SQLite database already seeded with families.

Usage:
  seed_activity.py communications DB SCHOOL COUNT BUSY_FAMILY BUSY_COUNT
      COUNT communications spread at random over the school's families (all but BUSY_FAMILY),
      plus BUSY_COUNT more for BUSY_FAMILY; occurred_at over the past two years. Prints the
      number seeded, then a typical family: the first from the middle of the id order with the
      average number of communications (COUNT / families, rounded).
  seed_activity.py concerns DB SCHOOL COUNT
      COUNT concerns spread at random over the school's families.
  seed_activity.py open-concerns DB SCHOOL OUT_FILE
      Writes the ids of the school's open concerns, shuffled, one a line; prints how many.

Standard library only, deterministic (fixed random seed). Ids are strictly increasing UUIDv7
strings whose timestamp is the row's own time (occurred_at or created_at), as the server mints
them; every seeded time is in the past, so ids the server mints during the run sort after.
Rows go in with executemany in one transaction (WAL, synchronous=OFF for the load), then ANALYZE.
Progress goes to stderr; stdout carries only the results the caller parses.
"""
import random
import sqlite3
import sys
import time

US = 1_000_000
HOUR = 3600 * US
DAY = 24 * HOUR
TWO_YEARS = 730 * DAY

CHANNELS = ["phone", "email", "sms", "in_person", "video", "letter", "portal"]
DIRECTIONS = ["outbound", "inbound"]
CATEGORIES = ["general", "academic", "behavior", "attendance", "positive_news", "event",
              "administrative"]
SUBJECTS = {
    "general": "Checking in",
    "academic": "Progress in maths",
    "behavior": "Conduct in class",
    "attendance": "Absence on Monday",
    "positive_news": "Great week",
    "event": "Parent evening",
    "administrative": "Trip consent form",
}
CONCERN_CATEGORIES = ["academic", "behavior", "bullying", "safety", "attendance", "health",
                      "transport", "fees", "communication", "other"]
# Priority and its default response target (see ResponseHours::default), with a weight.
PRIORITIES = [("low", 168, 20), ("normal", 72, 55), ("high", 24, 20), ("urgent", 4, 5)]
STAFF = [f"staff-{i}" for i in range(1, 21)]

_days = {}


def ts(us):
    """Microseconds since the epoch as 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC), as diesel stores."""
    d, rem = divmod(us, DAY)
    day = _days.get(d)
    if day is None:
        day = time.strftime("%Y-%m-%d", time.gmtime(d * 86400))
        _days[d] = day
    s, f = divmod(rem, US)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return f"{day} {h:02d}:{m:02d}:{s:02d}.{f:06d}"


def uuid7_ids(times_us, rng):
    """Strictly increasing UUIDv7 strings for ascending times (microseconds).

    48-bit unix-ms timestamp, version 7, 12-bit rand_a as a counter within the millisecond
    (RFC 9562 s6.2 method 1), variant 10, 62 random bits.
    """
    out = []
    last_ms, counter = -1, 0
    for t in times_us:
        ms = t // 1000
        if ms == last_ms:
            counter += 1
            if counter > 0xFFF:  # more than 4096 in one ms: borrow the next ms
                ms, counter = last_ms + 1, 0
        else:
            if ms < last_ms:
                ms = last_ms
                counter += 1
            else:
                counter = 0
        last_ms = ms
        value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rng.getrandbits(62)
        h = f"{value:032x}"
        out.append(f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}")
    return out


def log(msg):
    print(f"[seed] {msg}", file=sys.stderr, flush=True)


def connect(db_path):
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-1048576")  # 1 GiB for the load only
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


def family_ids(conn, school):
    return [r[0] for r in conn.execute(
        "SELECT id FROM families WHERE school_id = ? AND archived_at IS NULL ORDER BY id",
        (school,))]


def insert_in_batches(conn, sql, rows, total, what, batch=100_000):
    """executemany in one transaction, in slices so progress can be shown."""
    started = time.time()
    done = 0
    conn.execute("BEGIN")
    try:
        while True:
            chunk = []
            for row in rows:
                chunk.append(row)
                if len(chunk) == batch:
                    break
            if not chunk:
                break
            conn.executemany(sql, chunk)
            done += len(chunk)
            log(f"{what}: {done:,}/{total:,} inserted ({time.time() - started:.0f} s)")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return done


def seed_communications(db_path, school, count, busy, busy_count):
    rng = random.Random(20261124)
    now = int(time.time() * US)
    conn = connect(db_path)
    try:
        fams = [f for f in family_ids(conn, school) if f != busy]
        if not fams:
            sys.exit("no families to attach communications to")
        if busy_count and busy not in set(family_ids(conn, school)):
            sys.exit(f"busy family {busy} not found")
        log(f"communications: generating {count:,} over {len(fams):,} families"
            f" + {busy_count:,} for the busy family")
        total = count + busy_count
        # (occurred_at, family); sorted by time so ids (minted from the time) increase.
        # Everything happened at least a minute ago.
        plan = [(now - 60 * US - rng.randrange(TWO_YEARS), fams[rng.randrange(len(fams))])
                for _ in range(count)]
        plan += [(now - 60 * US - rng.randrange(TWO_YEARS), busy) for _ in range(busy_count)]
        plan.sort(key=lambda p: p[0])
        ids = uuid7_ids([p[0] for p in plan], rng)
        assert all(a < b for a, b in zip(ids, ids[1:])), "ids do not increase"

        def rows():
            for cid, (occurred, family) in zip(ids, plan):
                direction = "outbound" if rng.random() < 0.7 else "inbound"
                category = CATEGORIES[rng.randrange(len(CATEGORIES))]
                r = rng.random()
                due = done = None
                if r < 0.05:  # overdue: due in the past, not done
                    due = occurred + rng.randrange(1, max(2, min(14 * DAY, now - occurred - US)))
                elif r < 0.08:  # due in the future
                    due = now + rng.randrange(HOUR, 30 * DAY)
                elif r < 0.15:  # done
                    due = occurred + rng.randrange(HOUR, 14 * DAY)
                    done = min(occurred + rng.randrange(HOUR, 21 * DAY), now - US)
                stamp = ts(occurred)
                yield (
                    cid, school, family, None, None,
                    CHANNELS[rng.randrange(len(CHANNELS))], direction, category,
                    SUBJECTS[category],
                    "Spoke about how things are going; agreed to talk again next week.",
                    "en", 0, 0,
                    stamp,
                    ts(due) if due is not None else None,
                    ts(done) if done is not None else None,
                    STAFF[rng.randrange(len(STAFF))], "pre",
                    "family" if direction == "outbound" else "staff",
                    None, None, 1, stamp, stamp, None,
                )

        n = insert_in_batches(
            conn,
            "INSERT INTO communications (id, school_id, family_id, student_id, guardian_id,"
            " channel, direction, category, subject, body, language, interpreter_used,"
            " translated, occurred_at, follow_up_due_at, follow_up_done_at, author,"
            " author_role, visibility, acknowledged_at, acknowledged_by, version, created_at,"
            " updated_at, archived_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows(), total, "communications")
        log("communications: ANALYZE")
        conn.execute("ANALYZE")
        (busy_n,) = conn.execute(
            "SELECT count(*) FROM communications WHERE school_id = ? AND family_id = ?",
            (school, busy)).fetchone()
        (overdue,) = conn.execute(
            "SELECT count(*) FROM communications WHERE school_id = ? AND follow_up_done_at IS NULL"
            " AND follow_up_due_at < ?", (school, ts(now))).fetchone()
    finally:
        conn.close()
    if n != total or busy_n < busy_count:
        sys.exit(f"seeded {n} communications ({busy_n} for the busy family), expected {total}")
    per_family = {}
    for _, family in plan:
        per_family[family] = per_family.get(family, 0) + 1
    average = round(count / len(fams))
    middle = len(fams) // 2
    typical = next((f for f in fams[middle:] + fams[:middle] if per_family.get(f, 0) == average),
                   fams[middle])
    log(f"communications: {n:,} seeded, {busy_n:,} for the busy family, {overdue:,} overdue"
        f" follow-ups; typical family {typical} has {per_family.get(typical, 0)}")
    print(n)
    print(typical)


def seed_concerns(db_path, school, count):
    rng = random.Random(20261125)
    now = int(time.time() * US)
    conn = connect(db_path)
    try:
        fams = family_ids(conn, school)
        if not fams:
            sys.exit("no families to attach concerns to")
        log(f"concerns: generating {count:,} over {len(fams):,} families")
        weights = [w for _, _, w in PRIORITIES]
        plan = []
        for _ in range(count):
            prio, hours, _w = rng.choices(PRIORITIES, weights)[0]
            target = hours * HOUR
            r = rng.random()
            # The mix: 30% open and overdue; 35% open with a first response (a family-visible
            # comment), so not overdue; 1% open and not yet due (raised within the target);
            # 34% further along.
            if r < 0.30:
                kind = "overdue"
                created = now - target - 60 * US - rng.randrange(TWO_YEARS - target)
            elif r < 0.65:
                kind = "answered"
                created = now - target - 60 * US - rng.randrange(TWO_YEARS - target)
            elif r < 0.66:
                kind = "fresh"
                created = now - rng.randrange(60 * US, max(61 * US, target * 9 // 10))
            else:
                kind = rng.choice(["acknowledged", "in_progress", "resolved", "closed", "closed"])
                created = now - 30 * DAY - rng.randrange(TWO_YEARS - 30 * DAY)
            plan.append((created, kind, prio, target))
        plan.sort(key=lambda p: p[0])
        ids = uuid7_ids([p[0] for p in plan], rng)
        assert all(a < b for a, b in zip(ids, ids[1:])), "ids do not increase"

        def rows():
            for cid, (created, kind, prio, target) in zip(ids, plan):
                due = created + target
                first = resolved = closed = resolution = satisfaction = assignee = None
                status = "open"
                updated = created
                if kind == "answered":
                    first = min(created + rng.randrange(HOUR, 2 * target + HOUR), now - US)
                    updated = first
                elif kind in ("acknowledged", "in_progress", "resolved", "closed"):
                    status = kind
                    assignee = STAFF[rng.randrange(len(STAFF))]
                    first = min(created + rng.randrange(10 * 60 * US, 2 * target + HOUR), now - US)
                    updated = first
                    if kind in ("resolved", "closed"):
                        resolved = min(first + rng.randrange(HOUR, 10 * DAY), now - US)
                        resolution = "Met the family and agreed a plan."
                        updated = resolved
                    if kind == "closed":
                        closed = min(resolved + rng.randrange(HOUR, 5 * DAY), now - US)
                        satisfaction = rng.randint(1, 5) if rng.random() < 0.5 else None
                        updated = closed
                yield (
                    cid, school, fams[rng.randrange(len(fams))], None,
                    CONCERN_CATEGORIES[rng.randrange(len(CONCERN_CATEGORIES))], prio,
                    "Bench concern", "Raised for the benchmark.", "staff-1", "staff",
                    assignee, status, ts(due),
                    ts(first) if first is not None else None,
                    ts(resolved) if resolved is not None else None,
                    ts(closed) if closed is not None else None,
                    resolution, satisfaction, 1, ts(created), ts(updated),
                )

        n = insert_in_batches(
            conn,
            "INSERT INTO concerns (id, school_id, family_id, student_id, category, priority,"
            " title, description, raised_by, raised_by_kind, assignee, status, due_at,"
            " first_response_at, resolved_at, closed_at, resolution, satisfaction, version,"
            " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows(), count, "concerns")
        log("concerns: ANALYZE")
        conn.execute("ANALYZE")
        counts = dict(conn.execute(
            "SELECT status, count(*) FROM concerns WHERE school_id = ? GROUP BY status",
            (school,)).fetchall())
        (overdue,) = conn.execute(
            "SELECT count(*) FROM concerns WHERE school_id = ? AND due_at < ?"
            " AND first_response_at IS NULL AND resolved_at IS NULL",
            (school, ts(now))).fetchone()
    finally:
        conn.close()
    if n != count:
        sys.exit(f"seeded {n} concerns, expected {count}")
    log(f"concerns: {n:,} seeded; by status {counts}; {overdue:,} overdue")
    print(n)


def open_concerns(db_path, school, out_file):
    conn = sqlite3.connect(db_path, timeout=10)
    try:
        ids = [r[0] for r in conn.execute(
            "SELECT id FROM concerns WHERE school_id = ? AND status = 'open'", (school,))]
    finally:
        conn.close()
    random.Random(7).shuffle(ids)
    with open(out_file, "w") as f:
        f.write("\n".join(ids))
        f.write("\n")
    print(len(ids))


def main():
    args = sys.argv[1:]
    if len(args) == 6 and args[0] == "communications":
        seed_communications(args[1], args[2], int(args[3]), args[4], int(args[5]))
    elif len(args) == 4 and args[0] == "concerns":
        seed_concerns(args[1], args[2], int(args[3]))
    elif len(args) == 4 and args[0] == "open-concerns":
        open_concerns(args[1], args[2], args[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
