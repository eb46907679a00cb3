#!/usr/bin/env python3
"""Seed a migrated Liaison database with an admissions pipeline for the benchmark.

Usage:
  admissions_seed.py --backend sqlite|postgres --target PATH_OR_URL --school SCHOOL
                     --applicants N --moves N --ids-out FILE

The school's default pipeline (as the server makes it on first use), N applicants entering it
over the past year, and their history: about MOVES entries in all (each applicant's first entry
counts), along inquiry -> tour -> application -> interview -> assessment -> offer -> enrolled,
some detouring by waitlisted or leaving for declined or withdrawn. Every ended stay has its
`left_at` and `seconds`, and is in its applicant's `stays`, as the server records them. Writes the ids of the applicants that are
in `inquiry` (the transitions scenario moves them between inquiry and waitlisted) to FILE,
shuffled, one a line. Reuses seed.py's loaders (executemany on SQLite, COPY on PostgreSQL).
Standard library only.
"""
import argparse
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seed  # noqa: E402

MAIN = ["inquiry", "tour", "application", "interview", "assessment", "offer", "enrolled"]
PIPELINE = [
    ("inquiry", "Inquiry", "open", []),
    ("tour", "Tour", "open", [("tour_attended", "Tour attended", False)]),
    ("application", "Application", "open",
     [("application_form", "Application form received", True),
      ("school_records", "Previous school records received", False)]),
    ("interview", "Interview", "open", [("interview_held", "Interview held", True)]),
    ("assessment", "Assessment", "open", []),
    ("offer", "Offer", "open", [("deposit_paid", "Enrolment deposit paid", True)]),
    ("enrolled", "Enrolled", "won", []),
    ("waitlisted", "Waitlisted", "open", []),
    ("declined", "Declined", "lost", []),
    ("withdrawn", "Withdrawn", "lost", []),
]
SOURCES = ["website", "referral", "open_day", "event", "sibling", "other"]
TERMS = ["2026-fall", "2027-fall", "2028-fall"]
STAGE_COLS = ("id, school_id, key, name, position, kind, checklist, version, created_at,"
              " updated_at, archived_at")
APPLICANT_COLS = ("id, school_id, external_id, given_name, family_name, date_of_birth,"
                  " applying_for_grade, entry_term, guardian_name, guardian_email, guardian_phone,"
                  " guardian_preferred_language, guardian_relationship, guardian_sms_opt_in,"
                  " source, stage, stage_entered_at, reached, stays, assignee, checklist, notes,"
                  " family_id, student_id, guardian_id, version, created_at, updated_at,"
                  " archived_at")
MOVE_COLS = ("id, school_id, applicant_id, from_stage, to_stage, note, actor, actor_role,"
             " moved_at, left_at, seconds")


def path_for(rng, length):
    """The stages an applicant entered, `length` of them (1 to 9)."""
    if length <= 7:
        path = MAIN[:length]
        if length in (4, 5) and rng.random() < 0.3:
            path = MAIN[:length - 1] + [rng.choice(["declined", "withdrawn"])]
        return path
    if length == 8:
        return MAIN[:6] + ["waitlisted", "enrolled"]
    return MAIN[:6] + ["waitlisted", "offer", rng.choice(["declined", "enrolled"])]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--backend", required=True, choices=["sqlite", "postgres"])
    p.add_argument("--target", required=True)
    p.add_argument("--school", required=True)
    p.add_argument("--applicants", type=int, required=True)
    p.add_argument("--moves", type=int, required=True)
    p.add_argument("--ids-out", required=True)
    a = p.parse_args()
    rng = random.Random(20261203)
    now = int(time.time()) * seed.US
    sink = seed.sink_for(a.backend, a.target)
    # The lengths of the paths, as many entries as asked for in all (mean MOVES/APPLICANTS).
    mean = a.moves / a.applicants
    lengths = [max(1, min(9, round(rng.gauss(mean, 2.2)))) for _ in range(a.applicants)]
    diff = a.moves - sum(lengths)
    i = 0
    while diff != 0 and i < 10 * a.applicants:
        k = rng.randrange(a.applicants)
        if diff > 0 and lengths[k] < 9:
            lengths[k] += 1
            diff -= 1
        elif diff < 0 and lengths[k] > 1:
            lengths[k] -= 1
            diff += 1
        i += 1
    created = sorted(now - 400 * seed.DAY + rng.randrange(365 * seed.DAY)
                     for _ in range(a.applicants))
    ids = list(seed.uuid7_ids(created, rng))
    t0 = seed.ts(now - 500 * seed.DAY)
    stages = []
    for pos, (key, name, kind, items) in enumerate(PIPELINE, start=1):
        checklist = json.dumps([{"key": k, "label": l, "required": r} for k, l, r in items],
                               separators=(",", ":"))
        stages.append((next(seed.uuid7_ids([now - 500 * seed.DAY], rng)), a.school, key, name,
                       pos, kind, checklist, 1, t0, t0, None))
    sink.load("admission_stages", STAGE_COLS, iter(stages), len(stages))
    applicants, moves, in_inquiry = [], [], []
    for n, (aid, start) in enumerate(zip(ids, created)):
        path = path_for(rng, lengths[n])
        t = start
        times = []
        for _ in path:
            times.append(t)
            t += rng.randrange(3600 * seed.US, 21 * seed.DAY)
        times = [min(x, now - seed.HOUR) for x in times]
        for j, stage in enumerate(path):
            left = times[j + 1] if j + 1 < len(path) else None
            moves.append((None, a.school, aid, path[j - 1] if j else None, stage, None,
                          "seed", "admissions", times[j],
                          seed.ts(left) if left is not None else None,
                          (left - times[j]) // seed.US if left is not None else None))
        stage = path[-1]
        if stage == "inquiry":
            in_inquiry.append(aid)
        applicants.append((aid, a.school, None, f"Child {n}", f"Family {n % 997}",
                           None, str(n % 12 + 1), TERMS[n % 3], f"Parent {n}", None, None,
                           None, None, False, SOURCES[n % 6], stage, seed.ts(times[-1]),
                           ",".join(dict.fromkeys(path)),
                           ",".join(f"{path[j]}:{(times[j + 1] - times[j]) // seed.US}"
                                    for j in range(len(path) - 1)),
                           f"staff-{n % 20 + 1}", "{}", None,
                           None, None, None, len(path), seed.ts(start), seed.ts(times[-1]),
                           None))
    sink.load("applicants", APPLICANT_COLS, iter(applicants), len(applicants))
    moves.sort(key=lambda m: m[8])
    move_ids = seed.uuid7_ids([m[8] for m in moves], rng)
    rows = ((mid,) + m[1:8] + (seed.ts(m[8]),) + m[9:] for mid, m in zip(move_ids, moves))
    sink.load("applicant_moves", MOVE_COLS, rows, len(moves))
    sink.finish()
    sink.close()
    rng.shuffle(in_inquiry)
    with open(a.ids_out, "w") as f:
        f.writelines(i + "\n" for i in in_inquiry)
    seed.log(f"{len(applicants):,} applicants, {len(moves):,} moves, {len(in_inquiry):,} in inquiry")


if __name__ == "__main__":
    main()
