"""The OpenAPI 3.1 description of the board's HTTP service. The limits the service
checks — the integer bound :data:`MAX_DIGITS`, the public entry types, the body and page
sizes — are defined here and imported by :mod:`verivote.server.app`, so the schema and
the server cannot drift apart (a test compares the routes, and schemathesis the rest)."""

from __future__ import annotations

from typing import Any

HEX32 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
HEX64 = {"type": "string", "pattern": "^[0-9a-f]{128}$"}
TIME = {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"}
MAX_DIGITS = 18
"""Query and path integers have at most this many decimal digits."""
MAX_COUNT = 10**MAX_DIGITS - 1
COUNT = {"type": "integer", "minimum": 0, "maximum": MAX_COUNT}
PUBLIC_TYPES = ("ballot", "audit")
"""The entry types voters post; the organiser's tools post the others."""
JSON_VALUE = {
    "description": "any JSON value without floats (the record has integers only)",
    "anyOf": [
        {"type": "string"},
        {"type": "integer"},
        {"type": "boolean"},
        {"type": "null"},
        {"type": "array", "items": {"$ref": "#/components/schemas/JsonValue"}},
        {
            "type": "object",
            "additionalProperties": {"$ref": "#/components/schemas/JsonValue"},
        },
    ],
}
BODY = {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/JsonValue"}}

SCHEMAS: dict[str, Any] = {
    "JsonValue": JSON_VALUE,
    "Error": {
        "type": "object",
        "required": ["error", "reason"],
        "properties": {
            "error": {
                "type": "string",
                "description": "the check that failed: a rule of the election "
                "(ballot.proof, ballot.duplicate…) or of the request (request.json, "
                "request.entry, request.type, request.size, request.query, "
                "request.index, request.path, request.method, request.content_type, "
                "request.timeout, board.busy, board.store)",
            },
            "reason": {"type": "string"},
        },
    },
    "PostedEntry": {
        "type": "object",
        "additionalProperties": False,
        "required": ["type", "body", "sig"],
        "properties": {
            "type": {"type": "string", "enum": list(PUBLIC_TYPES)},
            "body": BODY,
            "sig": HEX64,
        },
        "description": "A signed entry without its time: the board sets the time.",
    },
    "Entry": {
        "type": "object",
        "additionalProperties": False,
        "required": ["type", "time", "body", "sig"],
        "properties": {
            "type": {"type": "string"},
            "time": TIME,
            "body": BODY,
            "sig": HEX64,
        },
        "description": "One record line, exactly as stored (canonical JSON).",
    },
    "TreeHead": {
        "type": "object",
        "additionalProperties": False,
        "required": ["election", "size", "root", "time", "sig"],
        "properties": {
            "election": {"type": "string"},
            "size": COUNT,
            "root": HEX32,
            "time": TIME,
            "sig": HEX64,
        },
    },
    "Receipt": {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "version",
            "election",
            "fingerprint",
            "tracking_code",
            "index",
            "head",
            "proof",
            "leaf",
        ],
        "properties": {
            "version": {"const": 1},
            "election": {"type": "string"},
            "fingerprint": HEX64,
            "tracking_code": HEX32,
            "index": COUNT,
            "head": {"$ref": "#/components/schemas/TreeHead"},
            "proof": {"type": "array", "items": HEX32},
            "leaf": HEX32,
        },
    },
    "Proof": {
        "type": "object",
        "required": ["proof"],
        "properties": {
            "index": COUNT,
            "size": COUNT,
            "first": COUNT,
            "second": COUNT,
            "proof": {"type": "array", "items": HEX32},
        },
    },
}


def _error(description: str, retry: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if retry:
        out["headers"] = {
            "Retry-After": {
                "description": "seconds to wait before trying again",
                "schema": {"type": "integer", "minimum": 0},
            }
        }
    return out


def _ok(description: str, ref: str, media: str = "application/json") -> dict[str, Any]:
    return {
        "description": description,
        "content": {media: {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


def _query(name: str, required: bool = True) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": COUNT}


def _get(summary: str, ok: dict[str, Any], *errors: tuple[str, str], params: Any = ()) -> Any:
    responses: dict[str, Any] = {"200": ok}
    for code, text in errors:
        responses[code] = _error(text)
    responses["503"] = _error("the board's store is failing or holds no election yet", True)
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if params:
        op["parameters"] = list(params)
    return {"get": op}


def _post_entry(max_body: int) -> dict[str, Any]:
    """``POST /entries``: an authored entry of the organiser, a trustee or the registrar."""
    return {
        "summary": "Post a signed entry of the organiser, a trustee or the registrar",
        "description": f"The body is at most {max_body} bytes; any type but election. The "
        "entry is validated by every rule of the election before it is appended.",
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/PostedEntry"}}
            },
        },
        "responses": {
            "201": {
                "description": "appended",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["index", "entry"],
                            "properties": {
                                "index": COUNT,
                                "entry": {"$ref": "#/components/schemas/Entry"},
                            },
                        }
                    }
                },
            },
            "400": _error("not JSON, or not an entry of the right shape"),
            "403": _error("an election entry (it comes with the store)"),
            "413": _error(f"a body over {max_body} bytes"),
            "422": _error("the election's rules refuse the entry (error = the check)"),
            "503": _error("the board's store is busy or failing; try again"),
        },
    }


def schema(max_body: int, max_page: int, max_entry_body: int | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document for a service with these limits."""
    jsonl = {"description": "JSON lines", "content": {"application/jsonl": {}}}

    def cast_answer(description: str) -> dict[str, Any]:
        return {
            "description": description,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["index", "entry", "receipt", "text"],
                        "properties": {
                            "index": COUNT,
                            "entry": {"$ref": "#/components/schemas/Entry"},
                            "receipt": {"$ref": "#/components/schemas/Receipt"},
                            "text": {"type": "string", "pattern": "^vvr1:"},
                        },
                    }
                }
            },
        }

    bad_query = ("400", "a missing or malformed query parameter, or one out of range")
    paths: dict[str, Any] = {
        "/ballots": {
            "post": {
                "summary": "Cast (or audit) a ballot",
                "description": f"The body is at most {max_body} bytes. The entry is "
                "validated by every rule of the election before it is appended.",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/PostedEntry"}}
                    },
                },
                "responses": {
                    "201": cast_answer("appended; the receipt in JSON and text form"),
                    "200": cast_answer(
                        "the same entry was already on the board (posted before): its "
                        "original index, and a receipt under a fresh head"
                    ),
                    "400": _error("not JSON, or not an entry of the right shape"),
                    "403": _error("an entry type that only the organiser's tools post"),
                    "408": _error("the body did not arrive in time"),
                    "413": _error(f"a body over {max_body} bytes"),
                    "415": _error("a body not declared application/json"),
                    "422": _error("the election's rules refuse the entry (error = the check)"),
                    "503": _error(
                        "too many ballots in progress, or the store is busy or failing; "
                        "try again after Retry-After seconds",
                        True,
                    ),
                },
            }
        },
        "/entries": {
            **_get(
                f"A range of entries (at most {max_page})",
                {
                    "description": "the entries start..end-1 (end capped)",
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["start", "end", "size", "entries"],
                                "properties": {
                                    "start": COUNT,
                                    "end": COUNT,
                                    "size": COUNT,
                                    "entries": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/Entry"},
                                    },
                                },
                            }
                        }
                    },
                },
                bad_query,
                params=[_query("start", False), _query("end", False)],
            ),
            "post": _post_entry(max_body if max_entry_body is None else max_entry_body),
        },
        "/entries/{index}": _get(
            "One entry, as its exact record line",
            _ok("the record line", "Entry"),
            ("400", "not an entry number"),
            ("404", "no such entry"),
            params=[{"name": "index", "in": "path", "required": True, "schema": COUNT}],
        ),
        "/head": _get(
            "A freshly signed tree head of the whole log (not published)",
            _ok("head", "TreeHead"),
        ),
        "/heads": _get("The published tree heads (heads.jsonl)", jsonl),
        "/proof/inclusion": _get(
            "Inclusion proof of entry index in the tree of size entries (RFC 9162)",
            _ok("the audit path", "Proof"),
            bad_query,
            params=[_query("index"), _query("size")],
        ),
        "/proof/consistency": _get(
            "Consistency proof from the tree of first entries to second (RFC 9162)",
            _ok("the proof", "Proof"),
            bad_query,
            params=[_query("first"), _query("second")],
        ),
        "/manifest": _get("The election entry (entry 0)", _ok("entry 0", "Entry")),
        "/record": _get(
            "The record's board.jsonl, as far as the last published head covers it",
            jsonl,
        ),
        "/openapi.json": _get("This document", {"description": "OpenAPI 3.1"}),
        "/healthz": _get("Liveness: the service answers", {"description": "alive"}),
        "/readyz": _get(
            "Readiness: the board is loaded, its store readable, the service not saturated",
            {"description": "ready"},
        ),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "verivote bulletin board",
            "version": "1",
            "description": "The public bulletin board of one election. Every error answer "
            'is {"error": check, "reason": text}.',
        },
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }
