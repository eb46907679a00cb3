"""A short flow through Liaison with the Python client generated from openapi/v1.json.

Run by scripts/client_flow.sh, which generates the client (package `liaison_client`, put on
PYTHONPATH), starts the service and mints the tokens. What it proves is that a client generated
from the spec, used as its author would use it, works against the server: every answer parses
into the model the spec promises, with no field the spec does not know, and the headers the spec
declares (ETag, Location, Link, X-Request-Id) are there.

usage: client_flow.py BASE_URL   (the admin token in LIAISON_TOKEN, the peer school's admin
                                  token in LIAISON_PEER_TOKEN)
Exit status: 0 when every step passed, 1 at the first that did not.
"""

from __future__ import annotations

import datetime
import os
import re
import sys
import uuid
from typing import Any

import attrs
from liaison_client import AuthenticatedClient
from liaison_client.api.communications import create_communication, get_communication
from liaison_client.api.concerns import (
    create_concern,
    list_concern_events,
    transition_concern,
)
from liaison_client.api.families import (
    create_family,
    family_timeline,
    get_family,
    list_families,
    update_family,
)
from liaison_client.api.guardians import create_guardian, list_family_guardians
from liaison_client.api.links import get_student_guardian, link_guardian
from liaison_client.api.students import create_student
from liaison_client.errors import UnexpectedStatus
from liaison_client.models import (
    Category,
    Channel,
    Communication,
    CommunicationInput,
    Concern,
    ConcernCategory,
    ConcernInput,
    Direction,
    EventKind,
    Family,
    FamilyInput,
    FamilyPatch,
    FieldError,
    Guardian,
    GuardianInput,
    Link,
    LinkInput,
    PageConcernEvent,
    PageGuardian,
    PageTimelineEntry,
    Priority,
    Problem,
    Relationship,
    Status,
    Student,
    StudentInput,
    TimelineKind,
    TransitionInput,
)
from liaison_client.types import Response, Unset


class FlowError(Exception):
    """A step whose answer was not what the spec and DESIGN.md promise."""


def check(ok: bool, what: str) -> None:
    if not ok:
        raise FlowError(what)


def unknown_fields(value: Any, path: str = "") -> list[str]:
    """Fields of an answer that the spec does not declare (the generated models keep them in
    `additional_properties`): each is a place where server and spec disagree."""
    found: list[str] = []
    if isinstance(value, list):
        for i, item in enumerate(value):
            found += unknown_fields(item, f"{path}[{i}]")
    elif attrs.has(type(value)):
        extra = getattr(value, "additional_properties", {})
        found += [f"{path}.{name}" for name in extra]
        for field in attrs.fields(type(value)):
            if field.name != "additional_properties":
                found += unknown_fields(getattr(value, field.name), f"{path}.{field.name}")
    return found


def answer(step: str, res: Response[Any], status: int, model: type) -> Any:
    """The parsed body of `res`, checked to be a `model` answered with `status`."""
    body = res.content[:300].decode("utf-8", "replace")
    check(res.status_code == status, f"{step}: status {res.status_code}, expected {status}: {body}")
    check(
        isinstance(res.parsed, model),
        f"{step}: parsed as {type(res.parsed).__name__}, expected {model.__name__}: {body}",
    )
    check(bool(res.headers.get("x-request-id")), f"{step}: no X-Request-Id")
    extra = unknown_fields(res.parsed)
    check(not extra, f"{step}: fields the spec does not declare: {extra}")
    print(f"ok  {step}: {status} {model.__name__}")
    return res.parsed


def problem(step: str, res: Response[Any], status: int) -> Problem:
    """A problem document answered with `status`, as the spec describes it."""
    p = answer(step, res, status, Problem)
    check(res.headers.get("content-type", "").startswith("application/problem+json"),
          f"{step}: content type {res.headers.get('content-type')}")
    check(p.status == status, f"{step}: problem status {p.status}")
    check(bool(p.type_) and bool(p.title) and bool(p.detail), f"{step}: incomplete problem {p}")
    check(p.request_id == res.headers.get("x-request-id"),
          f"{step}: problem request_id {p.request_id!r} is not the X-Request-Id header")
    return p


def versioned(step: str, res: Response[Any], status: int, model: type) -> Any:
    """A single resource, whose ETag names its version."""
    item = answer(step, res, status, model)
    check(res.headers.get("etag") == f'"{item.version}"',
          f"{step}: ETag {res.headers.get('etag')!r} for version {item.version}")
    return item


def created(step: str, res: Response[Any], model: type, path: str) -> Any:
    """A 201 with the new resource, its Location and ETag."""
    item = versioned(step, res, 201, model)
    check(res.headers.get("location") == path.format(id=item.id),
          f"{step}: Location {res.headers.get('location')!r}")
    return item


def main() -> int:
    base = sys.argv[1]
    token = os.environ["LIAISON_TOKEN"]
    peer_token = os.environ["LIAISON_PEER_TOKEN"]
    run = uuid.uuid4().hex[:8]
    client = AuthenticatedClient(base_url=base, token=token, raise_on_unexpected_status=True,
                                 timeout=10.0)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)

    # --- a family, retried with its Idempotency-Key ----------------------------------------------
    body = FamilyInput(display_name=f"Client flow {run}", external_id=f"CF-{run}",
                       primary_language="es")
    key = f"client-flow-{run}"
    first = create_family.sync_detailed(client=client, body=body, idempotency_key=key)
    family = created("create_family", first, Family, "/v1/families/{id}")
    check("idempotent-replayed" not in first.headers, "a first answer says it is replayed")
    retry = create_family.sync_detailed(client=client, body=body, idempotency_key=key)
    replay = created("create_family (replayed)", retry, Family, "/v1/families/{id}")
    check(replay.id == family.id, "an Idempotency-Key replay made a second family")
    check(retry.headers.get("idempotent-replayed") == "true", "a replay does not say so")
    check(family.notes is None and family.address is None, "a new family has notes or an address")

    # --- guardians, a student and the link between them ------------------------------------------
    mother = created("create_guardian", create_guardian.sync_detailed(
        family.id, client=client, body=GuardianInput(
            given_name="Ana", family_name="Ruiz", relationship=Relationship.MOTHER,
            email=f"ana.{run}@example.org", phone="+14155550100", sms_opt_in=True,
            is_primary=True)), Guardian, "/v1/guardians/{id}")
    check(mother.relationship == Relationship.MOTHER and mother.contact_allowed is True,
          f"guardian as created: {mother}")
    grandfather = created("create_guardian (second)", create_guardian.sync_detailed(
        family.id, client=client, body=GuardianInput(
            given_name="Luis", family_name="Ruiz", relationship=Relationship.GRANDPARENT)),
        Guardian, "/v1/guardians/{id}")
    student = created("create_student", create_student.sync_detailed(
        family.id, client=client, body=StudentInput(
            given_name="Sofía", family_name="Ruiz", grade_level="3",
            date_of_birth=datetime.date(2016, 4, 2))), Student, "/v1/students/{id}")
    check(student.date_of_birth == datetime.date(2016, 4, 2), "date_of_birth did not round-trip")
    link = created("link_guardian", link_guardian.sync_detailed(
        student.id, client=client, body=LinkInput(
            guardian_id=mother.id, relationship=Relationship.MOTHER, legal_guardian=True,
            lives_with=True, contact_priority=1)),
        Link, f"/v1/students/{student.id}/guardians/{mother.id}")
    check(link.current and link.can_view_records and not link.contact_restricted,
          f"link as created: {link}")
    versioned("get_student_guardian", get_student_guardian.sync_detailed(
        student.id, mother.id, client=client), 200, Link)

    # --- a merge patch guarded by If-Match, then the same version again --------------------------
    patched = versioned("update_family", update_family.sync_detailed(
        family.id, client=client, body=FamilyPatch(notes="Prefers mornings."),
        if_match=f'"{family.version}"'), 200, Family)
    check(patched.version == family.version + 1 and patched.notes == "Prefers mornings.",
          f"patched family: {patched}")
    problem("update_family (stale If-Match)", update_family.sync_detailed(
        family.id, client=client, body=FamilyPatch(notes="Lost update"),
        if_match=f'"{family.version}"'), 412)

    # --- a communication -------------------------------------------------------------------------
    call = created("create_communication", create_communication.sync_detailed(
        client=client, body=CommunicationInput(
            family_id=family.id, student_id=student.id, guardian_id=mother.id,
            channel=Channel.PHONE, direction=Direction.OUTBOUND, category=Category.ACADEMIC,
            subject="Reading progress", body="Talked about the reading plan.", language="es",
            occurred_at=now - datetime.timedelta(hours=1),
            follow_up_due_at=now + datetime.timedelta(days=7))),
        Communication, "/v1/communications/{id}")
    check(call.occurred_at == now - datetime.timedelta(hours=1), f"occurred_at: {call.occurred_at}")
    check(isinstance(call.warnings, Unset), f"unexpected warnings: {call.warnings}")
    versioned("get_communication", get_communication.sync_detailed(call.id, client=client),
              200, Communication)

    # --- a concern, moved through its workflow ---------------------------------------------------
    concern = created("create_concern", create_concern.sync_detailed(
        client=client, body=ConcernInput(
            family_id=family.id, student_id=student.id, category=ConcernCategory.ACADEMIC,
            priority=Priority.HIGH, title="Homework load",
            description="Sofía spends three hours a night on homework.")),
        Concern, "/v1/concerns/{id}")
    check(concern.status == Status.OPEN and concern.due_at > concern.created_at,
          f"concern as raised: {concern}")
    concern = versioned("transition_concern (acknowledged)", transition_concern.sync_detailed(
        concern.id, client=client, body=TransitionInput(to=Status.ACKNOWLEDGED),
        if_match=f'"{concern.version}"'), 200, Concern)
    check(concern.status == Status.ACKNOWLEDGED and concern.first_response_at is not None,
          f"acknowledged concern: {concern}")
    illegal = problem("transition_concern (illegal move)", transition_concern.sync_detailed(
        concern.id, client=client, body=TransitionInput(to=Status.OPEN)), 409)
    check(isinstance(illegal.allowed, list) and "in_progress" in illegal.allowed,
          f"an illegal move's problem lists {illegal.allowed!r}")
    concern = versioned("transition_concern (in_progress)", transition_concern.sync_detailed(
        concern.id, client=client, body=TransitionInput(to=Status.IN_PROGRESS)), 200, Concern)
    concern = versioned("transition_concern (resolved)", transition_concern.sync_detailed(
        concern.id, client=client, body=TransitionInput(
            to=Status.RESOLVED, resolution="Agreed a lighter plan with the teacher.")),
        200, Concern)
    check(concern.status == Status.RESOLVED and concern.resolved_at is not None,
          f"resolved concern: {concern}")
    events = answer("list_concern_events", list_concern_events.sync_detailed(
        concern.id, client=client), 200, PageConcernEvent)
    kinds = [e.kind for e in events.data]
    check(kinds.count(EventKind.TRANSITION) == 3 and EventKind.CREATED in kinds,
          f"concern events: {kinds}")

    # --- two pages, following next_cursor (and the Link header beside it) ------------------------
    seen = []
    first = list_family_guardians.sync_detailed(family.id, client=client, limit=1)
    page = answer("list_family_guardians (page 1)", first, 200, PageGuardian)
    check(len(page.data) == 1 and isinstance(page.next_cursor, str),
          f"page 1 has {len(page.data)} items and next_cursor {page.next_cursor!r}")
    link_header = first.headers.get("link", "")
    check(re.fullmatch(r'<[^>]*[?&]cursor=[^>]+>; rel="next"', link_header) is not None
          and f"cursor={page.next_cursor}" in link_header,
          f"page 1 Link header: {link_header!r}")
    seen += [g.id for g in page.data]
    second = list_family_guardians.sync_detailed(family.id, client=client, limit=1,
                                                 cursor=page.next_cursor)
    page = answer("list_family_guardians (page 2)", second, 200, PageGuardian)
    check(len(page.data) == 1 and page.next_cursor is None,
          f"page 2 has {len(page.data)} items and next_cursor {page.next_cursor!r}")
    check("link" not in second.headers, "the last page has a Link header")
    seen += [g.id for g in page.data]
    check(sorted(seen) == sorted([mother.id, grandfather.id]), f"pages held {seen}")

    # --- the family timeline: a communication and a concern, each in its own field ---------------
    timeline = answer("family_timeline", family_timeline.sync_detailed(
        family.id, client=client), 200, PageTimelineEntry)
    by_kind = {e.kind: e for e in timeline.data}
    check(set(by_kind) == {TimelineKind.COMMUNICATION, TimelineKind.CONCERN},
          f"timeline kinds: {list(by_kind)}")
    check(isinstance(by_kind[TimelineKind.COMMUNICATION].communication, Communication)
          and isinstance(by_kind[TimelineKind.COMMUNICATION].concern, Unset)
          and isinstance(by_kind[TimelineKind.CONCERN].concern, Concern),
          "timeline entries do not hold their item")

    # --- problem documents -----------------------------------------------------------------------
    tagged = client.with_headers({"X-Request-Id": f"client-flow-{run}"})
    missing = problem("get_family (no such family)", get_family.sync_detailed(
        uuid.uuid4(), client=tagged), 404)
    check(missing.request_id == f"client-flow-{run}", "the caller's X-Request-Id was not kept")
    invalid = problem("create_family (invalid fields)", create_family.sync_detailed(
        client=client, body=FamilyInput(display_name="")), 400)
    check(isinstance(invalid.errors, list)
          and all(isinstance(e, FieldError) for e in invalid.errors)
          and {e.field for e in invalid.errors} == {"display_name"},
          f"field errors: {invalid.errors!r}")
    problem("list_families (limit 0)", list_families.sync_detailed(client=client, limit=0), 400)
    # Another school's admin finds nothing of this one.
    peer = AuthenticatedClient(base_url=base, token=peer_token, raise_on_unexpected_status=True,
                               timeout=10.0)
    problem("get_family (another school)", get_family.sync_detailed(family.id, client=peer), 404)
    print("client flow passed")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except FlowError as e:
        print(f"FAIL {e}", file=sys.stderr)
        sys.exit(1)
    except UnexpectedStatus as e:
        # A status the spec does not declare for that operation.
        body = e.content[:300].decode("utf-8", "replace")
        print(f"FAIL undeclared status {e.status_code}: {body}", file=sys.stderr)
        sys.exit(1)
