"""Tables out as CSV and JSON: the same numbers the pages show, safe to open in a spreadsheet."""
from __future__ import annotations

import csv
import io
import json
import math
import re
import textwrap

import numpy as np
import pandas as pd
from flask import Response, abort, request

#: A cell a spreadsheet would run as a formula starts with one of these (after any spaces)...
FORMULA_STARTS = "=+-@\t\r"
#: ...and a spreadsheet that splits a line on ``;``, ``,`` or tab (whatever its locale, or a
#: user's import choice) starts a cell after each of them, or after a line break.
_FORMULA = re.compile(rf"(^|[;,\t\r\n])([ ]*)(?=[{re.escape(FORMULA_STARTS)}])")


def neutralise(value):
    """Text that a spreadsheet could read as a formula, at its start or after a separator,
    gets an apostrophe there (OWASP's CSV injection advice), so it stays text."""
    if isinstance(value, str):
        return _FORMULA.sub(lambda m: f"{m.group(1)}{m.group(2)}'", value)
    return value


def to_csv(table: pd.DataFrame) -> str:
    """Every field quoted, and text neutralised (`neutralise`): no cell is a formula, whichever
    separator the spreadsheet splits on."""
    safe = table.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise)
    buffer = io.StringIO()
    safe.to_csv(buffer, index=False, quoting=csv.QUOTE_ALL)
    return buffer.getvalue()


def _plain(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def to_json(tables: dict[str, pd.DataFrame], **meta) -> str:
    """All tables in one document: {"meta": ..., "tables": {name: [records]}}; NaN as null."""
    doc = {"meta": {k: _plain(v) for k, v in meta.items()}, "tables": {
        name: [{k: _plain(v) for k, v in row.items()} for row in table.to_dict("records")]
        for name, table in tables.items()}}
    return json.dumps(doc, indent=1, ensure_ascii=False)


def to_xlsx(sheets: dict[str, pd.DataFrame]) -> bytes:
    """An Excel workbook, one sheet per table; text cells neutralised like the CSV."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, table in sheets.items():
            safe = table.copy()
            for column in safe.columns:
                if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
                    safe[column] = safe[column].map(neutralise)
            safe.to_excel(writer, sheet_name=name[:31], index=False)
    return buffer.getvalue()


def to_sav(table: pd.DataFrame, *, column_labels: dict, value_labels: dict,
           documents: list[str] = ()) -> bytes:
    """An SPSS .sav file with variable and value labels, measurement levels, display formats
    (answers as whole numbers F1.0, scores F4.2, the survey date as a scale DATE11) and the
    notes an analyst needs (reverse keying, the scoring rule) as the file's documents."""
    import os
    import tempfile

    import pyreadstat
    measure, formats = {}, {}
    for column in table.columns:
        if column in value_labels:
            measure[column] = "ordinal" if column != "wave_kind" else "nominal"
            formats[column] = "F1.0"
        elif column.startswith("score_"):
            measure[column], formats[column] = "scale", "F4.2"
        elif column == "followup_days":
            measure[column], formats[column] = "scale", "F4.0"
        elif column == "wave_date":
            measure[column], formats[column] = "scale", "DATE11"
        else:
            measure[column] = "nominal"
    frame = table.copy()
    if "wave_date" in frame:
        frame["wave_date"] = pd.to_datetime(frame["wave_date"]).dt.date
    handle, path = tempfile.mkstemp(suffix=".sav")
    os.close(handle)
    try:
        pyreadstat.write_sav(frame, path,
                             column_labels={c: column_labels.get(c, c)[:250]
                                            for c in frame.columns},
                             note=[part for line in documents
                                   for part in textwrap.wrap(line, 80)] or None,
                             variable_value_labels=value_labels, variable_measure=measure,
                             variable_format=formats)
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.remove(path)


#: The paper sizes a brief is printed on (CSS page sizes).
PAPERS = {"letter": "Letter", "a4": "A4"}


def to_pdf(html: str) -> bytes:
    """A PDF of a self-contained HTML document (its styles inline, its charts as inline SVG),
    laid out by WeasyPrint; the paper size comes from the document's ``@page`` rule."""
    from weasyprint import HTML
    return HTML(string=html).write_pdf()


def download(body, filename: str, mimetype: str) -> Response:
    """A file to save, never cached."""
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


def table_name(name: str) -> str:
    """A table's name from a query string, or a 404 for anything that cannot be one."""
    if not (0 < len(name) <= 40 and name.replace("_", "").isalnum() and name.isascii()):
        abort(404, f"There is no table called {name[:40]}.")
    return name


def table_or_404(tables: dict, name: str) -> pd.DataFrame:
    if name not in tables:
        abort(404, f"There is no table called {name[:40]}.")
    return tables[name]


def tables_download(fmt: str, tables: dict[str, pd.DataFrame], stem: str, default: str,
                    **meta) -> Response:
    """All tables as one JSON document, or the table named in ``?table=`` as CSV."""
    if fmt == "json":
        return download(to_json(tables, **meta), f"{stem}.json", "application/json")
    name = request.args.get("table", default)
    return download(to_csv(table_or_404(tables, name)), f"{stem}-{name}.csv", "text/csv")
