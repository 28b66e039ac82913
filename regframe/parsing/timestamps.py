"""Parse the build and push times registries write into integer nanoseconds since the epoch, UTC.

Pure and pandas-free, so the registry client can read dates without the frame layer: the
frame turns the integers into a ``datetime64[ns, UTC]`` column.  Every function returns
``None`` for anything it cannot read exactly, and never raises.  Integers keep all nine
fractional digits of an RFC 3339 time exact across offsets, which neither ``float`` seconds
nor ``datetime`` (microseconds) would.

Times on the first day of 1970 are treated as unknown: build tools that want reproducible
output stamp the epoch (``SOURCE_DATE_EPOCH=0``) or a second after it (nixpkgs
``dockerTools``), and none of that day is a real build time.
"""

from __future__ import annotations

import calendar
import re
from datetime import timezone
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Literal

__all__ = ["EpochUnit", "epoch_ns", "http_date_ns", "rfc3339_ns"]

EpochUnit = Literal["s", "ms", "us", "ns"]

_RFC3339_RE = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})"
    r"(?:[Tt ](?P<h>\d{2}):(?P<mi>\d{2}):(?P<s>\d{2})(?:[.,](?P<frac>\d+))?"
    r"\s*(?P<tz>[Zz]|[+-]\d{2}:?\d{2})?)?",
    re.ASCII,
)
_NS_PER_S = 1_000_000_000
_EARLIEST_NS = 86_400 * _NS_PER_S
# pandas' datetime64[ns] ends here; later times could not become a column.
_INT64_MAX = 2**63 - 1
_UNIT_NS = {"s": _NS_PER_S, "ms": 1_000_000, "us": 1_000, "ns": 1}


def _usable(ns: int) -> int | None:
    if ns < _EARLIEST_NS or ns > _INT64_MAX:
        return None
    return ns


def rfc3339_ns(value: object) -> int | None:
    """Parse an RFC 3339 build time exactly, to nanoseconds since the epoch (UTC).

    Hand-parsed rather than with a general date parser: those accept words such as
    ``"now"`` and free-form dates.  Extra fraction digits are truncated; a missing offset
    means UTC; a bare date (``2024-08-08`` or label-schema's ``20240808``) means midnight UTC.

    Parameters
    ----------
    value
        Usually a string such as ``"2024-08-08T12:34:56.123456789+02:00"``; anything else
        gives ``None``.

    Returns
    -------
    int | None
        ``None`` for garbage, Go's zero time, the Unix epoch and anything before
        ``1970-01-02`` (reproducible builds), or beyond ``datetime64[ns]``'s range.

    Examples
    --------
    >>> rfc3339_ns("2024-08-08T12:34:56.123456789+02:00")
    1723113296123456789
    >>> rfc3339_ns("0001-01-01T00:00:00Z") is None
    True
    """
    if not isinstance(value, str) or len(value) > 100:
        return None
    text = value.strip()
    if len(text) == 8 and text.isascii() and text.isdigit():
        # yyyymmdd is what CentOS-era images put in org.label-schema.build-date.
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    m = _RFC3339_RE.fullmatch(text)
    if m is None:
        return None
    try:
        y, mo, d = int(m["y"]), int(m["mo"]), int(m["d"])
        h, mi, s = int(m["h"] or 0), int(m["mi"] or 0), int(m["s"] or 0)
        if not (1 <= mo <= 12 and 1 <= d <= calendar.monthrange(y, mo)[1]):
            return None
        if h > 23 or mi > 59 or s > 59:  # Go never emits leap seconds
            return None
        seconds = calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    frac = (m["frac"] or "")[:9].ljust(9, "0")
    tz = m["tz"]
    if tz and tz not in "Zz":
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        tz_h, tz_m = int(digits[:2]), int(digits[2:])
        if tz_h > 23 or tz_m > 59:
            return None
        seconds -= sign * (tz_h * 3600 + tz_m * 60)
    return _usable(seconds * _NS_PER_S + int(frac))


def epoch_ns(value: object, unit: EpochUnit = "s") -> int | None:
    """Convert epoch seconds/milliseconds (Quay ``start_ts``, GCR ``timeUploadedMs``) exactly.

    Decimal arithmetic avoids float rounding; strings of digits are accepted because GCR
    sends ``"1723120496123"``.

    Parameters
    ----------
    value
        An int, float or numeric string.
    unit
        ``"s"``, ``"ms"``, ``"us"`` or ``"ns"``.

    Returns
    -------
    int | None
        Nanoseconds since the epoch; ``None`` for garbage, zero (Artifact Registry's
        ``timeCreatedMs: "0"``), values on the first day of 1970, or out of range.

    Examples
    --------
    >>> epoch_ns("1723120496123", "ms")
    1723120496123000000
    >>> epoch_ns("0", "ms") is None
    True
    """
    if unit not in _UNIT_NS or isinstance(value, bool):
        return None
    if not isinstance(value, (int, float, str, Decimal)):
        return None
    try:
        number = Decimal(str(value).strip())
        if not number.is_finite():
            return None
        ns = int(number * _UNIT_NS[unit])
    except (InvalidOperation, ValueError, OverflowError):
        return None
    return _usable(ns)


def http_date_ns(value: object) -> int | None:
    """Parse an HTTP/e-mail date (Quay's ``last_modified``) to nanoseconds since the epoch.

    Parameters
    ----------
    value
        e.g. ``"Mon, 01 Sep 2025 15:23:01 -0000"``; a missing zone means UTC.

    Returns
    -------
    int | None
        ``None`` for garbage or times outside the usable range.

    Examples
    --------
    >>> http_date_ns("Tue, 14 Nov 2023 22:13:20 -0000")
    1700000000000000000
    """
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    try:
        seconds = calendar.timegm(when.utctimetuple())
    except (ValueError, OverflowError):
        return None
    return _usable(seconds * _NS_PER_S + when.microsecond * 1_000)
