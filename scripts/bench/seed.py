#!/usr/bin/env python3
"""Seed a migrated Liaison database for the benchmark (SQLite or PostgreSQL), and read it back.

Usage:
  seed.py seed --backend sqlite|postgres --target PATH_OR_URL --out DIR --school SCHOOL
               --families N --communications N --busy-communications N --concerns N
               --changes N --audit-events N
      Families; communications spread at random over them (plus BUSY more for the first family,
      the busy one, whose timeline is paged deep); concerns; CHANGES change records and AUDIT
      audit events spread over all those records, in time order (seq 1..CHANGES, and the
      school's change_sequences row at CHANGES so the server's own changes follow on). Writes
      into DIR what the benchmark requests (one path or id a line, each list 1,000 long and
      spread across its table) and meta.txt (KEY=VALUE: what was seeded and what the audit and
      change rows cost in storage).
  seed.py open-concerns --backend B --target T --school SCHOOL OUT_FILE
      Writes the ids of the school's open concerns, shuffled, one a line; prints how many.
  seed.py counts --backend B --target T --school SCHOOL
      Prints: families communications concerns acknowledged_concerns changes audit_events.

SQLite rows go in with executemany in one transaction per table (WAL, synchronous=OFF for the
load), then ANALYZE; PostgreSQL rows through `psql` COPY, then VACUUM ANALYZE (so index-only
scans work as they would on a database autovacuum has seen). The data are the same on both
backends for the same arguments (fixed random seeds; times are relative to now). Ids are strictly
increasing UUIDv7 strings whose timestamp is the row's own time, as the server mints them; every
seeded time is in the past, so ids the server mints during the run sort after.
Progress goes to stderr; stdout carries only what the caller parses. Standard library only.
"""
import argparse
import base64
import os
import random
import sqlite3
import subprocess
import sys
import time
from array import array

US = 1_000_000
HOUR = 3600 * US
DAY = 24 * HOUR
TWO_YEARS = 730 * DAY
SPREAD = 1000  # requests cycle over this many ids or cursors, spread across their table
PAGE = 50  # the page size of the list scenarios
FEED_PAGE = 200  # the page size of the change feed scenario

LANGUAGES = ["en", "es", "vi", "zh", "ar", "fr"]
FAMILY_CHANNELS = ["email", "sms", "phone", "portal", None]
CHANNELS = ["phone", "email", "sms", "in_person", "video", "letter", "portal"]
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
PURPOSES = ["Following up a call", "Preparing the parent evening", "Safeguarding review"]

FAMILY_COLS = ("id, school_id, external_id, display_name, primary_language, preferred_channel,"
               " sms_opt_in, directory_opt_out, address_line1, address_line2, address_city,"
               " address_region, address_postal_code, address_country, notes, version,"
               " created_at, updated_at, archived_at")
COMM_COLS = ("id, school_id, family_id, student_id, guardian_id, channel, direction, category,"
             " subject, body, language, interpreter_used, translated, occurred_at,"
             " follow_up_due_at, follow_up_done_at, author, author_role, visibility,"
             " acknowledged_at, acknowledged_by, version, created_at, updated_at, archived_at")
CONCERN_COLS = ("id, school_id, family_id, student_id, category, priority, title, description,"
                " raised_by, raised_by_kind, assignee, status, due_at, first_response_at,"
                " resolved_at, closed_at, resolution, satisfaction, version, created_at,"
                " updated_at")
AUDIT_COLS = ("id, school_id, occurred_at, actor, actor_role, action, resource_type, resource_id,"
              " family_id, student_id, request_id, purpose")
CHANGE_COLS = ("school_id, seq, resource_type, resource_id, external_id, operation, version,"
               " changed_at")

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
    """Strictly increasing UUIDv7 strings for ascending times (microseconds), lazily.

    48-bit unix-ms timestamp, version 7, 12-bit rand_a as a counter within the millisecond
    (RFC 9562 s6.2 method 1), variant 10, 62 random bits.
    """
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
                if counter > 0xFFF:
                    ms, counter = last_ms + 1, 0
            else:
                counter = 0
        last_ms = ms
        value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rng.getrandbits(62)
        h = f"{value:032x}"
        yield f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


_T0 = time.time()


def log(msg):
    print(f"[seed {time.time() - _T0:5.0f} s] {msg}", file=sys.stderr, flush=True)


def spread(count, n=SPREAD):
    """`n` indexes spread evenly over range(count) (repeating when count < n)."""
    return [i * count // n for i in range(n)]


def b64(text):
    """A Liaison cursor: URL-safe base64 without padding."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def sql_quote(s):
    return "'" + s.replace("'", "''") + "'"


# --- sinks -------------------------------------------------------------------------------------

class SqliteSink:
    """Loads rows into a SQLite file with executemany, one transaction per table."""

    name = "sqlite"

    def __init__(self, path):
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=OFF")
        self.conn.execute("PRAGMA cache_size=-1048576")  # 1 GiB for the load only
        self.conn.execute("PRAGMA temp_store=MEMORY")

    def load(self, table, cols, rows, total, batch=100_000):
        sql = f"INSERT INTO {table} ({cols}) VALUES ({','.join('?' * (cols.count(',') + 1))})"
        started = time.time()
        done = 0
        self.conn.execute("BEGIN")
        try:
            while True:
                chunk = []
                for row in rows:
                    chunk.append(row)
                    if len(chunk) == batch:
                        break
                if not chunk:
                    break
                self.conn.executemany(sql, chunk)
                done += len(chunk)
                if total >= batch:
                    log(f"{table}: {done:,}/{total:,} ({time.time() - started:.0f} s)")
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return done

    def file_bytes(self):
        """The database file's size with the WAL folded in."""
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return os.path.getsize(self.path)

    def table_bytes(self, table):
        """Bytes of a table and its indexes from dbstat, or None without dbstat."""
        try:
            (n,) = self.conn.execute(
                "SELECT sum(d.pgsize) FROM dbstat d JOIN sqlite_schema s ON s.name = d.name"
                " WHERE s.tbl_name = ?", (table,)).fetchone()
        except sqlite3.DatabaseError:
            return None
        return n or 0

    def query(self, sql):
        return self.conn.execute(sql).fetchall()

    def finish(self):
        self.conn.execute("ANALYZE")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self):
        self.conn.close()


_COPY_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_field(v):
    if v is None:
        return "\\N"
    if isinstance(v, str):
        return v.translate(_COPY_ESCAPE)
    return str(v)  # ints; 0/1 are booleans PostgreSQL accepts


class PostgresSink:
    """Loads rows into PostgreSQL through `psql`, COPY … FROM STDIN, one psql per table."""

    name = "postgres"

    def __init__(self, url):
        self.url = url
        # A superuser can skip the foreign-key checks while loading (the rows are consistent by
        # construction); each check would look up and lock the family row, a row at a time.
        self.skip_checks = self.psql(
            "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").strip() == "t"

    def psql(self, sql):
        out = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                              "-d", self.url, "-c", sql],
                             check=True, capture_output=True, text=True)
        return out.stdout

    def load(self, table, cols, rows, total, batch=100_000):
        started = time.time()
        proc = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.url],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                                bufsize=1 << 20)
        done = 0
        try:
            if self.skip_checks:
                proc.stdin.write("SET session_replication_role = replica;\n")
            proc.stdin.write(f"COPY {table} ({cols}) FROM STDIN;\n")
            lines = []
            for row in rows:
                lines.append("\t".join(map(copy_field, row)))
                done += 1
                if len(lines) == batch:
                    lines.append("")
                    proc.stdin.write("\n".join(lines))
                    lines = []
                    if total >= batch:
                        log(f"{table}: {done:,}/{total:,} ({time.time() - started:.0f} s)")
            if lines:
                lines.append("")
                proc.stdin.write("\n".join(lines))
            proc.stdin.write("\\.\n")
            proc.stdin.close()
        except BrokenPipeError:
            pass
        if proc.wait() != 0:
            sys.exit(f"psql COPY into {table} failed (exit {proc.returncode})")
        return done

    def file_bytes(self):
        return None

    def table_bytes(self, table):
        return int(self.psql(f"SELECT pg_total_relation_size({sql_quote(table)})").strip())

    def query(self, sql):
        return [tuple(line.split("|")) for line in self.psql(sql).splitlines() if line]

    def finish(self):
        self.psql("VACUUM ANALYZE")

    def close(self):
        pass


def sink_for(backend, target):
    if backend == "sqlite":
        return SqliteSink(target)
    if backend == "postgres":
        return PostgresSink(target)
    sys.exit(f"unknown backend {backend}")


# --- the seed ----------------------------------------------------------------------------------

def seed_families(sink, school, count, now):
    rng = random.Random(20261123)
    start = now - DAY  # a day ago, a millisecond apart
    times = [start + i * 1000 for i in range(count)]
    ids = list(uuid7_ids(times, rng))

    def rows():
        for i, (fid, t) in enumerate(zip(ids, times)):
            stamp = ts(t)
            yield (fid, school, f"SIS-{i:07d}", f"Bench family {i}", LANGUAGES[i % len(LANGUAGES)],
                   FAMILY_CHANNELS[i % len(FAMILY_CHANNELS)], i % 2, 1 if i % 10 == 0 else 0,
                   f"{i} Main Street", None, "Springfield", "IL", f"{62700 + i % 100:05d}", "US",
                   None, 1, stamp, stamp, None)

    n = sink.load("families", FAMILY_COLS, rows(), count)
    if n != count:
        sys.exit(f"seeded {n} families, expected {count}")
    log(f"families: {n:,} seeded")
    return ids


def seed_communications(sink, school, fams, count, busy_count, now):
    """Returns (ids, family index of each)."""
    rng = random.Random(20261124)
    busy = 0  # the first family is the busy one
    others = len(fams) - 1
    total = count + busy_count
    # (occurred_at, family index); sorted by time so ids (minted from the time) increase.
    # Everything happened at least a minute ago.
    plan = [(now - 60 * US - rng.randrange(TWO_YEARS), 1 + rng.randrange(others))
            for _ in range(count)]
    plan += [(now - 60 * US - rng.randrange(TWO_YEARS), busy) for _ in range(busy_count)]
    plan.sort(key=lambda p: p[0])
    ids = list(uuid7_ids([p[0] for p in plan], rng))
    owner = array("i", (p[1] for p in plan))

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
            yield (cid, school, fams[family], None, None, CHANNELS[rng.randrange(len(CHANNELS))],
                   direction, category, SUBJECTS[category],
                   "Spoke about how things are going; agreed to talk again next week.",
                   "en", 0, 0, stamp, ts(due) if due is not None else None,
                   ts(done) if done is not None else None, STAFF[rng.randrange(len(STAFF))],
                   "pre", "family" if direction == "outbound" else "staff", None, None, 1,
                   stamp, stamp, None)

    n = sink.load("communications", COMM_COLS, rows(), total)
    if n != total:
        sys.exit(f"seeded {n} communications, expected {total}")
    log(f"communications: {n:,} seeded, {busy_count:,} of them for the busy family")
    return ids, owner


def seed_concerns(sink, school, fams, count, now):
    """Returns (ids, family index of each)."""
    rng = random.Random(20261125)
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
        plan.append((created, kind, prio, target, rng.randrange(len(fams))))
    plan.sort(key=lambda p: p[0])
    ids = list(uuid7_ids([p[0] for p in plan], rng))
    owner = array("i", (p[4] for p in plan))

    def rows():
        for cid, (created, kind, prio, target, family) in zip(ids, plan):
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
            yield (cid, school, fams[family], None,
                   CONCERN_CATEGORIES[rng.randrange(len(CONCERN_CATEGORIES))], prio,
                   "Bench concern", "Raised for the benchmark.", "staff-1", "staff", assignee,
                   status, ts(due), ts(first) if first is not None else None,
                   ts(resolved) if resolved is not None else None,
                   ts(closed) if closed is not None else None, resolution, satisfaction, 1,
                   ts(created), ts(updated))

    n = sink.load("concerns", CONCERN_COLS, rows(), count)
    if n != count:
        sys.exit(f"seeded {n} concerns, expected {count}")
    log(f"concerns: {n:,} seeded")
    return ids, owner


class Records:
    """Every seeded record, addressable by one index: families, then communications, concerns."""

    def __init__(self, fams, comms, comm_owner, concerns, concern_owner):
        self.fams, self.comms, self.comm_owner = fams, comms, comm_owner
        self.concerns, self.concern_owner = concerns, concern_owner
        self.total = len(fams) + len(comms) + len(concerns)

    def get(self, r):
        """(resource type, id, external id, family id) of record r."""
        nf, nc = len(self.fams), len(self.comms)
        if r < nf:
            return "families", self.fams[r], f"SIS-{r:07d}", self.fams[r]
        r -= nf
        if r < nc:
            return "communications", self.comms[r], None, self.fams[self.comm_owner[r]]
        r -= nc
        return "concerns", self.concerns[r], None, self.fams[self.concern_owner[r]]


def touches(records, count, now, rng):
    """`count` writes to records picked at random, in time order over the past two years:
    (time, record index, version). A record's first write is its creation."""
    versions = array("H", bytes(2 * records.total))
    step = max(1, (TWO_YEARS - 120 * US) // max(count, 1))
    start = now - 120 * US - step * count
    for k in range(count):
        r = rng.randrange(records.total)
        if versions[r] < 0xFFFF:
            versions[r] += 1
        yield start + k * step, r, versions[r]


def seed_changes(sink, school, records, count, now):
    rng = random.Random(20261201)

    def rows():
        for seq, (t, r, version) in enumerate(touches(records, count, now, rng), start=1):
            rtype, rid, external, _family = records.get(r)
            yield (school, seq, rtype, rid, external, "create" if version == 1 else "update",
                   version, ts(t))

    n = sink.load("changes", CHANGE_COLS, rows(), count)
    if n != count:
        sys.exit(f"seeded {n} change records, expected {count}")
    if count:
        sink.load("change_sequences", "school_id, last_seq", iter([(school, count)]), 1)
    log(f"changes: {n:,} seeded")


def seed_audit(sink, school, records, count, now):
    rng = random.Random(20261202)
    plan = list(touches(records, count, now, rng))
    ids = uuid7_ids([p[0] for p in plan], rng)

    def rows():
        for aid, (t, r, version) in zip(ids, plan):
            rtype, rid, _external, family = records.get(r)
            yield (aid, school, ts(t), STAFF[rng.randrange(len(STAFF))], "pre",
                   "create" if version == 1 else "update", rtype, rid, family, None,
                   f"{rng.getrandbits(128):032x}",
                   PURPOSES[rng.randrange(len(PURPOSES))] if rng.random() < 0.1 else None)

    n = sink.load("audit_events", AUDIT_COLS, rows(), count)
    if n != count:
        sys.exit(f"seeded {n} audit events, expected {count}")
    log(f"audit_events: {n:,} seeded")


def storage(sink, table, rows, grown):
    """KEY=VALUE lines: bytes a table takes (tables + indexes), per row and per million rows."""
    out = {}
    measured = sink.table_bytes(table)
    method = "dbstat" if sink.name == "sqlite" else "pg_total_relation_size"
    if measured is None:  # SQLite without dbstat: the file's growth while the rows went in
        measured, method = grown, "file growth"
    out[f"{table}_bytes"] = measured
    out[f"{table}_bytes_method"] = method.replace(" ", "_")
    if grown is not None:
        out[f"{table}_file_growth"] = grown
    if rows:
        out[f"{table}_bytes_per_row"] = round(measured / rows)
        out[f"{table}_mib_per_million"] = f"{measured / rows * 1e6 / 2**20:.1f}"
    return out


def cmd_seed(a):
    if a.families < 3:
        sys.exit("--families must be at least 3")
    started = time.time()
    now = int(time.time() * US)
    sink = sink_for(a.backend, a.target)
    os.makedirs(a.out, exist_ok=True)
    meta = {"backend": a.backend}
    try:
        fams = seed_families(sink, a.school, a.families, now)
        comms, comm_owner = seed_communications(sink, a.school, fams, a.communications,
                                                a.busy_communications, now)
        concerns, concern_owner = seed_concerns(sink, a.school, fams, a.concerns, now)
        records = Records(fams, comms, comm_owner, concerns, concern_owner)
        # The audit and change rows last, each measured on its own.
        before = sink.file_bytes()
        seed_audit(sink, a.school, records, a.audit_events, now)
        after_audit = sink.file_bytes()
        seed_changes(sink, a.school, records, a.changes, now)
        after_changes = sink.file_bytes()
        log("ANALYZE" if a.backend == "sqlite" else "VACUUM ANALYZE")
        sink.finish()
        grown = (lambda x, y: None if x is None or y is None else y - x)
        meta.update(storage(sink, "audit_events", a.audit_events, grown(before, after_audit)))
        meta.update(storage(sink, "changes", a.changes, grown(after_audit, after_changes)))
        comms_per_family = array("i", bytes(4 * len(fams)))
        for f in comm_owner:
            comms_per_family[f] += 1
    finally:
        sink.close()

    # What the scenarios request: 1,000 of each, spread across the table.
    # Families other than the busy one (index 0), whose many communications would skew the rest.
    picked = [1 + i for i in spread(len(fams) - 1)]
    with open(os.path.join(a.out, "families.ids"), "w") as f:
        f.writelines(fams[i] + "\n" for i in picked)
    with open(os.path.join(a.out, "get.paths"), "w") as f:
        f.writelines(f"/v1/families/{fams[i]}\n" for i in picked)
    with open(os.path.join(a.out, "comms_family.paths"), "w") as f:
        f.writelines(f"/v1/communications?family_id={fams[i]}&limit={PAGE}\n" for i in picked)
    # Filtered lists: each language in turn, starting after a family spread across the table
    # (the first few from the start), stopping early enough that every page is full.
    starts = spread(max(1, len(fams) - len(LANGUAGES) * (PAGE + 1)))
    with open(os.path.join(a.out, "list.paths"), "w") as f:
        for k, s in enumerate(starts):
            cursor = f"&cursor={b64(fams[s - 1])}" if s > 0 else ""
            f.write(f"/v1/families?primary_language={LANGUAGES[k % len(LANGUAGES)]}"
                    f"&limit={PAGE}{cursor}\n")
    # Change feed pages: since = a seq spread through the feed, leaving a full page after it.
    with open(os.path.join(a.out, "changes.paths"), "w") as f:
        for s in spread(max(1, a.changes - FEED_PAGE + 1)):
            f.write(f"/v1/changes?since={b64(str(s))}&limit={FEED_PAGE}\n")

    listed = [comms_per_family[i] for i in picked]
    meta.update({
        "busy_family": fams[0],
        "families": len(fams),
        "communications": len(comms),
        "concerns": len(concerns),
        "changes": a.changes,
        "audit_events": a.audit_events,
        "comms_per_listed_family": f"{sum(listed) / len(listed):.1f}",
        "distinct_listed_families": len(set(picked)),
        "seed_seconds": round(time.time() - started),
    })
    with open(os.path.join(a.out, "meta.txt"), "w") as f:
        f.writelines(f"{k}={v}\n" for k, v in meta.items())
    log(f"seeded {a.backend} in {time.time() - started:.0f} s")


def cmd_open_concerns(a):
    sink = sink_for(a.backend, a.target)
    try:
        ids = [r[0] for r in sink.query(
            f"SELECT id FROM concerns WHERE school_id = {sql_quote(a.school)}"
            " AND status = 'open' ORDER BY id")]
    finally:
        sink.close()
    random.Random(7).shuffle(ids)
    with open(a.out_file, "w") as f:
        f.writelines(i + "\n" for i in ids)
    print(len(ids))


def cmd_counts(a):
    sink = sink_for(a.backend, a.target)
    s = sql_quote(a.school)
    try:
        (row,) = sink.query(
            f"SELECT (SELECT count(*) FROM families WHERE school_id = {s}),"
            f" (SELECT count(*) FROM communications WHERE school_id = {s}),"
            f" (SELECT count(*) FROM concerns WHERE school_id = {s}),"
            f" (SELECT count(*) FROM concerns WHERE school_id = {s} AND status = 'acknowledged'),"
            f" (SELECT count(*) FROM changes WHERE school_id = {s}),"
            f" (SELECT count(*) FROM audit_events WHERE school_id = {s})")
    finally:
        sink.close()
    print(*row)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(sp):
        sp.add_argument("--backend", required=True, choices=["sqlite", "postgres"])
        sp.add_argument("--target", required=True, help="SQLite file or PostgreSQL URL")
        sp.add_argument("--school", required=True)

    s = sub.add_parser("seed")
    common(s)
    s.add_argument("--out", required=True)
    for name in ("families", "communications", "busy-communications", "concerns", "changes",
                 "audit-events"):
        s.add_argument(f"--{name}", type=int, required=True)
    o = sub.add_parser("open-concerns")
    common(o)
    o.add_argument("out_file")
    c = sub.add_parser("counts")
    common(c)
    a = p.parse_args()
    {"seed": cmd_seed, "open-concerns": cmd_open_concerns, "counts": cmd_counts}[a.cmd](a)


if __name__ == "__main__":
    main()
