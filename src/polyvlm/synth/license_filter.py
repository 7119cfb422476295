"""license_filter: keep only records whose source licence and generator licence are both allowed.

Licences are SPDX expressions compared case-insensitively: `A AND B` needs both allowed (a record written
by two models), `A OR B` needs one (a dual-licensed source). A licence string that is not an expression
("CC BY 4.0") is compared as one id. NOASSERTION (a generator whose licence was not configured) is never
allowed.
"""

from __future__ import annotations

from pydantic import Field

from polyvlm.core.records import Record
from polyvlm.core.step import FilterStep, Params, register
from polyvlm.synth.license_expr import LicenseExpressionError, disallowed


class LicenseFilterParams(Params):
    """Parameters of license_filter."""

    allow: list[str] = Field(min_length=1)
    """allowed SPDX ids, e.g. [Apache-2.0, MIT, CC-BY-4.0, CC-BY-SA-4.0, ODC-By-1.0]"""
    require_generator: bool = False
    """drop records no model is recorded to have written (no metadata.generator_license): no_license"""


def _blocking(expression: str, allowed: set[str]) -> list[str]:
    """The ids of an expression that are not allowed ([] when it holds)."""
    try:
        return disallowed(expression, allowed)
    except LicenseExpressionError:
        return (
            [] if expression.strip().casefold() in {a.casefold() for a in allowed} else [expression.strip()]
        )


@register
class LicenseFilter(FilterStep):
    """Drop records whose source or generator licence is not in the allow-list (source_license:/generator_license:/no_license)."""

    name = "license_filter"
    Params = LicenseFilterParams

    def reject(self, record: Record) -> str | None:
        allowed = set(self.params.allow)
        source = record.provenance.license.strip()
        if not source:
            return "no_license"
        reason = _verdict("source_license", source, allowed)
        if reason:
            return reason
        generator = str(record.metadata.get("generator_license") or "").strip()
        if not generator:
            return "no_license" if self.params.require_generator else None
        return _verdict("generator_license", generator, allowed)


def _verdict(kind: str, expression: str, allowed: set[str]) -> str | None:
    """`<kind>:<id>` for the first licence id not allowed, no_license when only unknowns block, or None."""
    bad = _blocking(expression, allowed)
    known = [b for b in bad if b.upper() != "NOASSERTION"]
    if known:
        return f"{kind}:{known[0]}"
    return "no_license" if bad else None
