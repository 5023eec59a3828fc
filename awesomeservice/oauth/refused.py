"""What every refusal of the client's protocol carries: a reason code, the section that says
so, and what came back — the words for John are the pages' (awesomeservice/pages/wording.py),
and /errors/{reason} explains each reason (RFC 6749 §4.1.2.1 and §5.2 name the provider's)."""

from __future__ import annotations


class Refused(Exception):
    """A check of the client said no; `reason` is a short code, `detail` what came back."""

    def __init__(self, reason: str, rfc: str = "", detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.rfc = rfc
        self.detail = detail
