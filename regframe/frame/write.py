"""Writing a tags or releases frame to a file: CSV and JSON with stable columns and UTC text.

Both writers put the columns in the documented order (:mod:`regframe.frame.columns`) and
write timestamps as ISO-8601 UTC text, so files from different runs and machines compare
line by line.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from regframe.frame.columns import DATE_COLUMNS, LABEL_COLUMNS, TAG_COLUMNS

__all__ = ["to_csv", "to_json"]


def _iso_utc(s: pd.Series) -> pd.Series:
    """ISO-8601 UTC text (``2024-08-08T10:34:56.123456789Z``), fraction only when non-zero."""
    s = s.dt.tz_localize("UTC") if s.dt.tz is None else s.dt.tz_convert("UTC")
    base = s.dt.strftime("%Y-%m-%dT%H:%M:%S")
    ns = (s.dt.microsecond * 1000 + s.dt.nanosecond).astype("Int64")
    frac = ns.astype("string").str.zfill(9).str.rstrip("0")
    text = base.astype("string") + ("." + frac).where(ns > 0, "") + "Z"
    out: pd.Series = text.where(s.notna(), pd.NA).astype("string")
    return out


def _ordered_columns(df: pd.DataFrame) -> list[Any]:
    """``image`` (several images) first, then the documented columns, then the frame's others."""
    known = [c for c in ["image", *TAG_COLUMNS, *DATE_COLUMNS, *LABEL_COLUMNS] if c in df.columns]
    return known + [c for c in df.columns if c not in known]


def _csv_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.loc[:, _ordered_columns(df)].copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_datetime64_any_dtype(series):
            out[col] = _iso_utc(series)
        elif series.dtype == object:
            out[col] = series.map(_flatten)
    return out


def _flatten(value: Any) -> Any:
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(v) for v in value)
    if isinstance(value, Mapping):
        # labels: one cell, stable across runs (sorted keys) and as short as JSON gets
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return value


def to_csv(
    df: pd.DataFrame,
    path_or_buf: str | os.PathLike[str] | io.TextIOBase | None = None,
    /,
    **kwargs: Any,
) -> str | None:
    """Write a tags or releases frame as CSV with stable columns and ISO-8601 UTC dates.

    Columns come in the documented order (``tag, release, major, minor, patch,
    prerelease, variant, scheme, is_prerelease, prefix, build, digest,
    media_type, platforms, created, created_source, pushed, pushed_source, size,
    resolves_to, error, date_note, attested``), then any others in the frame's
    order; a several-images frame starts with ``image``.  Timestamps are written
    as ``2024-08-08T10:34:56Z`` (with a fraction only when there is one); list
    values are comma-joined; ``labels`` (a dict per row) is compact JSON with
    sorted keys; missing values are empty.  The index is not written unless ``index=True``.

    Parameters
    ----------
    df
        A frame from :func:`read_tags`, :func:`releases` or a filtered slice.
    path_or_buf
        File path or text buffer; ``None`` returns the CSV as a string.
    **kwargs
        Passed on to :meth:`pandas.DataFrame.to_csv`.

    Returns
    -------
    str or None
        The CSV text when ``path_or_buf`` is ``None``.

    Examples
    --------
    >>> import regframe as rf
    >>> print(rf.to_csv(rf.parse_tags(["1.2.3-alpine"])), end="")
    tag,release,major,minor,patch,prerelease,variant,scheme,is_prerelease,prefix,build
    1.2.3-alpine,1.2.3,1,2,3,,alpine,semver,False,,
    """
    kwargs.setdefault("index", False)
    kwargs.setdefault("lineterminator", "\n")
    out = _csv_frame(df)
    if isinstance(path_or_buf, str | os.PathLike):
        Path(path_or_buf).parent.mkdir(parents=True, exist_ok=True)
    return out.to_csv(path_or_buf, **kwargs)


def _json_value(value: Any) -> Any:
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_value(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    item = getattr(value, "item", None)  # numpy scalars
    return item() if callable(item) else value


def to_json(
    df: pd.DataFrame,
    path_or_buf: str | os.PathLike[str] | io.TextIOBase | None = None,
    /,
) -> str | None:
    """Write a tags or releases frame as a JSON array of records.

    Columns come in the same order as :func:`to_csv`; timestamps are ISO-8601 UTC
    text (``"2024-08-08T10:34:56Z"``), missing values are ``null``, list values
    (``platforms``) stay arrays.

    Parameters
    ----------
    df
        A frame from :func:`read_tags`, :func:`releases` or a filtered slice.
    path_or_buf
        File path or text buffer; ``None`` returns the JSON as a string.

    Returns
    -------
    str or None
        The JSON text when ``path_or_buf`` is ``None``.

    Examples
    --------
    >>> import regframe as rf
    >>> from regframe.frame.write import to_json
    >>> print(to_json(rf.parse_tags(["1.2"]).loc[:, ["tag", "patch", "variant"]]))
    [{"tag": "1.2", "patch": null, "variant": null}]
    """
    frame = df.loc[:, _ordered_columns(df)]
    columns: dict[str, list[Any]] = {}
    for col in frame.columns:
        series = frame[col]
        if pd.api.types.is_datetime64_any_dtype(series):
            series = _iso_utc(series)
        columns[str(col)] = [_json_value(v) for v in series.astype(object)]
    records = [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]
    text = json.dumps(records, ensure_ascii=False, allow_nan=False)
    if path_or_buf is None:
        return text
    if isinstance(path_or_buf, str | os.PathLike):
        target = Path(path_or_buf)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text + "\n", encoding="utf-8")
    else:
        path_or_buf.write(text + "\n")
    return None
