"""Writing tables to .xlsx (openpyxl) and CSV (UTF-8 with a BOM, so Excel reads Chinese right)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from webapp.timeutil import STATION_TZ

BOM = "\ufeff"
DATE_FORMAT = "yyyy-mm-dd hh:mm"
MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


@dataclass
class Table:
    """One sheet: a title, its columns (key, header, width) and rows (dicts by key)."""

    title: str
    columns: list[tuple[str, str, int]]
    rows: Iterable[dict]
    date_columns: set[str] = field(default_factory=set)


def local(value: datetime | None) -> datetime | None:
    """A stored UTC time as the station's wall-clock time (Excel has no time zones)."""
    return value.astimezone(STATION_TZ).replace(tzinfo=None, microsecond=0) if value else None


def _cell(value):
    if isinstance(value, datetime):
        return local(value)
    return value


def _text(value) -> str:
    if isinstance(value, datetime):
        return local(value).strftime("%Y-%m-%d %H:%M")
    if value is None:
        return ""
    text = str(value)
    # A cell starting with = + - @ would run as a formula in Excel (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def to_xlsx(tables: list[Table], progress=None) -> bytes:
    """One sheet per table: bold frozen header row, set column widths, dates as dates."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        sheet = workbook.create_sheet(title=table.title[:31])
        sheet.append([header for _key, header, _width in table.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for index, (_key, _header, width) in enumerate(table.columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
        date_indexes = [
            i for i, (key, _h, _w) in enumerate(table.columns, start=1) if key in table.date_columns
        ]
        for count, row in enumerate(table.rows, start=1):
            values = [_cell(row.get(key)) for key, _h, _w in table.columns]
            # openpyxl stores a string starting with "=" as a formula: keep it text.
            values = ["'" + v if isinstance(v, str) and v.startswith("=") else v for v in values]
            sheet.append(values)
            for index in date_indexes:
                sheet.cell(row=count + 1, column=index).number_format = DATE_FORMAT
            if progress is not None:
                progress(count)
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def to_csv(tables: list[Table], progress=None) -> bytes:
    """UTF-8 with a BOM; several tables follow one another, each under its title, a blank line apart."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out)
    for number, table in enumerate(tables):
        if len(tables) > 1:
            if number:
                writer.writerow([])
            writer.writerow([table.title])
        writer.writerow([header for _key, header, _width in table.columns])
        for count, row in enumerate(table.rows, start=1):
            writer.writerow([_text(row.get(key)) for key, _h, _w in table.columns])
            if progress is not None:
                progress(count)
    return out.getvalue().encode("utf-8")


def render(fmt: str, tables: list[Table], progress=None) -> bytes:
    return to_xlsx(tables, progress) if fmt == "xlsx" else to_csv(tables, progress)
