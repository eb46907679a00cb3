"""schemathesis hooks for scripts/schemathesis.sh.

`positive_data_acceptance` (ST202) expects a 2xx for every schema-valid request. A few of the
API's refusals of schema-valid requests are its documented contract for things no JSON Schema can
describe (current state, opaque cursors, date bounds) or come from schemathesis reading `format`
as a mere annotation, so no spec change could make them pass. Likewise `negative_data_rejection`
(ST201) does not count a 412, which RFC 9110 lets a precondition answer before the body is read.
Those, and only those, are dropped here (see `inherent_refusal`); every other failure fails the run.

Set ST_FAILURE_LOG to a file path to also get every failure (kept or dropped) as JSON lines, with
the exact request that was sent: handy to list what a run found.
"""

from __future__ import annotations

import json
import os
import re
import threading

import jsonschema_rs
import schemathesis

# Problem types are references relative to the service (RFC 9457), as the API writes them.
PROBLEMS = "/problems/"
CONTACT_RULES = {
    PROBLEMS + "contact-not-allowed",
    PROBLEMS + "contact-restricted",
    PROBLEMS + "sms-consent-missing",
}
DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_log_lock = threading.Lock()
_validators: dict = {}


def _problem(response) -> dict:
    try:
        body = response.json()
    except Exception:  # not JSON: never an inherent refusal
        return {}
    return body if isinstance(body, dict) else {}


def _validator(case, key, schema, *, formats: bool):
    """A validator for one schema of the operation ($refs resolve in the spec), asserting `format` or not."""
    cache_key = (case.operation.label, key, formats)
    if cache_key not in _validators:
        root = dict(schema)
        root.setdefault("components", case.operation.schema.raw_schema.get("components", {}))
        try:
            _validators[cache_key] = jsonschema_rs.validator_for(root, validate_formats=formats)
        except Exception:  # a schema it cannot load: judge nothing by it
            _validators[cache_key] = None
    return _validators[cache_key]


def _breaks_format_only(case, key, schema, value) -> bool:
    loose = _validator(case, key, schema, formats=False)
    strict = _validator(case, key, schema, formats=True)
    if loose is None or strict is None:
        return False
    return loose.is_valid(value) and not strict.is_valid(value)


def _violates_declared_format(case) -> bool:
    """Whether a sent value breaks a `format` (date, uuid, date-time, email) the spec declares.

    OpenAPI 3.1 uses JSON Schema 2020-12, where `format` is an annotation unless a format-assertion
    vocabulary is declared, so schemathesis counts `"date_of_birth": ""` as schema-valid. The API
    (rightly) validates its formats, so such a refusal says nothing about the API.
    """
    definition = case.operation.definition.raw
    body = case.body
    content = (definition.get("requestBody") or {}).get("content") or {}
    media = content.get(case.media_type or "") or {}
    if "schema" in media and isinstance(body, (dict, list, str, int, float, bool)):
        if _breaks_format_only(case, ("body", case.media_type), media["schema"], body):
            return True
    sent = {
        "query": case.query or {},
        "path": case.path_parameters or {},
        "header": {k.lower(): v for k, v in (case.headers or {}).items()},
    }
    for parameter in definition.get("parameters") or []:
        schema = parameter.get("schema") or {}
        location = parameter.get("in")
        name = parameter.get("name", "")
        if "format" not in schema or location not in sent:
            continue
        value = sent[location].get(name.lower() if location == "header" else name)
        # A stateful step fills a path parameter from an earlier answer; when that field was
        # null (a referral's student_id, an audit event's family_id), the URL carries Python's
        # text for it, `None`, which the parameter's format (uuid) refuses, as the API does.
        if location == "path" and name in sent["path"] and not isinstance(value, str):
            value = str(value)
        # Parameters travel as text: judge the text by the format alone.
        if isinstance(value, str) and _breaks_format_only(
            case, (location, name), {"format": schema["format"]}, value
        ):
            return True
    return False


def _sent_value(body, field: str):
    for part in field.split("."):
        if not isinstance(body, dict):
            return None
        body = body.get(part)
    return body


def inherent_refusal(failure, case, response) -> str | None:
    """Why this failure says nothing about the API, or None when it is a real finding."""
    code = getattr(failure, "code", None)
    problem = _problem(response)
    kind = problem.get("type")
    errors = [e for e in problem.get("errors") or [] if isinstance(e, dict)]
    status = response.status_code
    # negative_data_rejection (ST201) does not count 412 as a refusal, but RFC 9110 13.2.1 has
    # preconditions evaluated "just before it would process the request content", so a stale or
    # malformed-body request with a non-matching If-Match rightly gets the 412 first.
    if code == "ST201" and status == 412 and kind == PROBLEMS + "precondition-failed":
        return "If-Match fails before the (invalid) body is read, as RFC 9110 orders it"
    if code != "ST202":
        return None
    # If-Match names the version the client last saw; a generated one is almost never current,
    # and 412 is the contract (DESIGN.md: "PATCH and DELETE honour If-Match (412 when stale)").
    if status == 412 and kind == PROBLEMS + "precondition-failed":
        return "If-Match names a version that is not the current one"
    # Idempotency-Key: the same key with a different body is a 422 by contract; schemathesis
    # reuses the values it generates across requests with different bodies.
    if status == 422 and kind == PROBLEMS + "idempotency-key-reused":
        return "Idempotency-Key reused with a different body"
    # A body that refers to another resource (e.g. a link's guardian_id) that does not exist:
    # a 422 naming the field, by contract. Existence is state, not schema.
    if (
        status == 422
        and kind == PROBLEMS + "unprocessable"
        and errors
        and all(e.get("code") == "not_found" for e in errors)
    ):
        return "the body refers to a resource that does not exist"
    # The contact rules refuse an outbound contact for who the guardian or family is now
    # (contact_allowed, a restricted link, no SMS consent): state, documented, not schema.
    if status == 422 and kind in CONTACT_RULES:
        return "a contact rule refused the contact, for the state of the guardian or family"
    # An IEP note is written only for a student whose `has_iep` is true (issue 8): the student's
    # state, not the note's schema.
    if status == 422 and kind == PROBLEMS + "no-iep":
        return "the student has no IEP, which is state, not schema"
    # A destroyed IEP note answers 410 to everyone, for good (issue 8): a stateful run that
    # destroyed the seeded student's notes then reads them. State, not schema.
    if status == 410 and kind == PROBLEMS + "gone":
        return "the note's content was destroyed on request earlier in the run"
    # An import's body is a file, CSV or NDJSON, which the document can only call a string: its
    # header row, its columns and each row's fields (README, Bulk imports) are a grammar no JSON
    # Schema states. A generated string is refused as a whole (400) or row by row (422).
    if (
        case.operation.label.startswith("POST /v1/imports/")
        and case.media_type in ("text/csv", "application/x-ndjson")
        and (
            (status == 400 and kind in (PROBLEMS + "bad-request", PROBLEMS + "validation"))
            or (status == 422 and kind == PROBLEMS + "import-failed")
        )
    ):
        return "a generated string is not a usable CSV or NDJSON file"
    if status != 400:
        return None
    # A series of conference slots makes at least one and at most 200 slots (its length over
    # slot_minutes): a relation between three fields. An audience's grade levels are 1 to 20 characters each, which the
    # schema derived from Vec<String> does not bound (README, Known quirks).
    if errors and all(
        e.get("code") in ("too_many", "too_long")
        or (e.get("field") == "audience.grade_levels" and e.get("code") == "invalid")
        for e in errors
    ):
        return "a bound the derived schema cannot state (slots per series, grade level length)"
    # An event's audience is exactly one of four members (DESIGN.md, issue 11), which the schema
    # derived from the type (four optional members) does not state.
    if (
        case.operation.label in ("POST /v1/events", "PATCH /v1/events/{id}")
        and errors
        and all(e.get("field") == "audience" for e in errors)
    ):
        return "an audience names exactly one of scope, grade_levels, languages or family_ids"
    # A service account's scopes lie within its role's set (DESIGN.md's table): a relation
    # between two fields, which the schema (any role, any scope) does not state.
    if (
        case.operation.label == "POST /v1/clients"
        and errors
        and all(e.get("code") == "outside_role" for e in errors)
    ):
        return "a scope beyond what the client's role may ever have"
    # An end before its start: a relation between two fields, which JSON Schema cannot state.
    if errors and all(e.get("code") == "before_start" for e in errors):
        return "an end before its start, a relation JSON Schema cannot state"
    # An action item sent with an `id` must be an item of the note already (a new one has none):
    # existence is state, not schema.
    if (
        errors
        and all(e.get("code") == "not_found" and str(e.get("field", "")).endswith(".id") for e in errors)
    ):
        return "the body names an item that does not exist"
    # Closing an unresolved concern needs a note, resolving one a resolution (unless it has one),
    # and a resolution goes only with resolving: that depends on the concern's current status.
    if (
        case.operation.label == "POST /v1/concerns/{id}/transitions"
        and errors
        and all(e.get("field") in ("note", "resolution") and e.get("code") in ("required", "unexpected") for e in errors)
    ):
        return "what a status move needs depends on the concern's current status"
    # A communication names its family or, before there is one, its applicant (DESIGN.md and
    # issue 9): one of the two, which the schema derived from the type (two optional ids) does
    # not state.
    if (
        case.operation.label == "POST /v1/communications"
        and errors
        and all(e.get("field") == "family_id" and e.get("code") == "required" for e in errors)
    ):
        return "a communication names its family or its applicant, one of two"
    # `cursor` is opaque: only values a list gave out are valid, which a schema cannot say. The
    # change feed's `since` is the same kind of value (the `next_cursor` of the previous read;
    # `cursor` is its synonym there).
    opaque = {"cursor", "since"} if case.operation.label == "GET /v1/changes" else {"cursor"}
    if errors and all(e.get("field") in opaque for e in errors):
        return "cursor is opaque; a generated one was never given out"
    # Dates have bounds (not before 1900, not in the future, ends_on not before starts_on) that
    # JSON Schema cannot state: it has no minimum or maximum for strings.
    if errors and all(
        e.get("code") == "range" and DATE.match(str(_sent_value(case.body, e.get("field", ""))))
        for e in errors
    ):
        return "a date out of its range, which JSON Schema cannot state"
    if _violates_declared_format(case):
        return "a sent value breaks a declared format (an annotation only, in OpenAPI 3.1)"
    return None


def _record(failure, case, response, dropped: str | None) -> None:
    path = os.environ.get("ST_FAILURE_LOG")
    if not path:
        return
    request = response.request
    body = request.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "backslashreplace")
    meta = case.meta
    entry = {
        "code": failure.code,
        "title": failure.title,
        "operation": case.operation.label,
        "phase": getattr(meta.phase.name, "value", meta.phase.name) if meta is not None else None,
        "mode": getattr(meta.generation.mode, "value", meta.generation.mode) if meta is not None else None,
        "method": request.method,
        "url": request.url,
        "headers": {k: v for k, v in request.headers.items() if k.lower() != "authorization"},
        "body": body,
        "status": response.status_code,
        "response": response.text[:4000],
        "message": failure.message,
        "dropped": dropped,
    }
    with _log_lock, open(path, "a", encoding="utf-8") as fd:
        fd.write(json.dumps(entry, default=repr) + "\n")


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    reason = inherent_refusal(failure, case, response)
    _record(failure, case, response, reason)
    return reason is None
