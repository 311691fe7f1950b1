"""HAPI status codes (spec section 4) and the exception that carries one to the HTTP layer.

Every failure a request can meet is a ``HapiError``; the app turns it into the HTTP status the
spec pairs with the code plus the JSON ``{"HAPI", "status"}`` body. Messages never echo the
client's input back (spec 5.2).
"""
from __future__ import annotations

from dataclasses import dataclass

HAPI_VERSION = "3.3"

MESSAGES: dict[int, str] = {
    1200: "OK",
    1201: "OK - no data for time range",
    1400: "Bad request - user input error",
    1401: "Bad request - unknown API parameter name",
    1402: "Bad request - syntax error in start time",
    1403: "Bad request - syntax error in stop time",
    1404: "Bad request - start equal to or after stop",
    1405: "Bad request - start < startDate and/or stop > stopDate",
    1406: "Bad request - unknown dataset id",
    1407: "Bad request - unknown dataset parameter",
    1408: "Bad request - too much time or data requested",
    1409: "Bad request - unsupported output format",
    1410: "Bad request - unsupported include value",
    1411: "Bad request - out-of-order or duplicate parameters",
    1412: "Bad request - unsupported resolve_references value",
    1413: "Bad request - unsupported depth value",
    1500: "Internal server error",
    1501: "Internal server error - upstream request error",
}

HTTP_STATUS: dict[int, int] = {code: 200 if code < 1300 else 500 if code >= 1500 else 400 for code in MESSAGES}
HTTP_STATUS[1406] = 404
HTTP_STATUS[1407] = 404


def status(code: int, detail: str = "") -> dict:
    """The HAPI ``status`` object; ``detail`` (server-written, never client input) is appended."""
    message = MESSAGES[code] + (f" ({detail})" if detail else "")
    return {"code": code, "message": message}


@dataclass
class HapiError(Exception):
    code: int
    detail: str = ""

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]

    def body(self) -> dict:
        return {"HAPI": HAPI_VERSION, "status": status(self.code, self.detail)}

    def __str__(self) -> str:
        return f"HAPI {self.code} {MESSAGES[self.code]}" + (f": {self.detail}" if self.detail else "")
