"""Schemathesis hooks for Frontdesk's fuzz run (loaded through SCHEMATHESIS_HOOKS).

A schema-valid request is one a real client could send. Two values in it are opaque and issued
by the server, so no schema can generate a valid one; a positive case gets what a real client
would send instead, and a negatively generated part is left alone so bad values are still fuzzed:

- Idempotency-Key: a client sends a fresh key with each new body (the header's contract).
  Without this the generator reuses one key for different bodies, which Frontdesk answers 422
  idempotency_key_reused, as it should. Replay and reuse: Tests/contract/test_inbox.py.
- formToken: issued by GET /api/v1/forms/{form} and HMAC-signed; a made-up one is refused
  (reload the form). A form may be posted without one unless spam.require_form_token is set,
  so a positive case leaves it out. Tokens, fill time and forgery: Tests/contract/test_inbox.py.
- requestToken (reviews): only a review link Frontdesk mailed holds one, and it works once;
  a positive case leaves it out. The links: Tests/contract/test_review_requests.py.
"""

import uuid

import schemathesis
from schemathesis.generation.meta import ParameterLocation  # type: ignore[attr-defined]


def _negative(case, location):
    return case.meta is not None and case.meta.is_negative_at(location)


@schemathesis.hook
def before_call(context, case, **kwargs):
    headers = case.headers
    if headers and "Idempotency-Key" in headers and not _negative(case, ParameterLocation.HEADER):
        headers["Idempotency-Key"] = "fuzz-" + uuid.uuid4().hex
    if isinstance(case.body, dict) and not _negative(case, ParameterLocation.BODY):
        for issued in ("formToken", "requestToken"):
            case.body.pop(issued, None)
