"""Safe reading and writing of CSV and XLSX files (uploads in, exports out)."""

from __future__ import annotations

import csv
import io
import logging
import re
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from xml.parsers import expat

from dispatch import error_codes
from dispatch.errors import DomainError, Invalid, PayloadTooLarge

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_ROWS = 100_000
# An XLSX is a zip: these bound what opening it may cost, checked before openpyxl reads a byte.
MAX_UNCOMPRESSED_BYTES = 256 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
MAX_ZIP_MEMBERS = 200
MAX_COLUMNS = 32

_MAGIC = [
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\xd0\xcf\x11\xe0", "an old Excel 97-2003 (.xls) or Word file; save it as .xlsx or CSV"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
]
# Control characters other than tab, CR, LF: text files do not contain them.
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Table:
    """A parsed sheet: normalised header names and data rows numbered as a spreadsheet shows."""

    kind: str  # "csv" or "xlsx"
    header: list[str]
    rows: list[tuple[int, list[Any]]]  # (row number as shown in the file, cell values)
    epoch: datetime | None = None  # XLSX date system, for serial numbers in plain cells


def _unsupported(what: str) -> DomainError:
    return error_codes.NOT_A_SPREADSHEET(what=what)


def too_large(what: str) -> DomainError:
    return error_codes.FILE_TOO_LARGE(
        what=what, rows=f"{MAX_ROWS:,}", mb=MAX_FILE_BYTES // (1024 * 1024)
    )


def read_limited(stream: Any, limit: int = MAX_FILE_BYTES) -> bytes:
    """Read at most ``limit`` bytes; one byte more is a 413, never a silent truncation."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise too_large(f"more than {limit // (1024 * 1024)} MB")
    return bytes(data)


def read_table(data: bytes) -> Table:
    """Parse an uploaded CSV or XLSX, refusing anything else with a 4xx that says what to do."""
    if not data.strip():
        raise error_codes.EMPTY_FILE()
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data)
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise _unsupported(what)
    if data.startswith(b"PK"):
        raise _unsupported("a damaged or unusual zip archive")
    return _read_csv(data)


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise _unsupported("UTF-16 text that does not decode") from None
    if b"\x00" in data:
        raise _unsupported("binary data")
    for encoding in ("utf-8", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _BINARY.search(text):
            raise _unsupported("binary data")
        return text
    raise error_codes.BAD_ENCODING()


def _read_csv(data: bytes) -> Table:
    text = _decode(data)
    try:
        dialect: Any = csv.Sniffer().sniff(text[:4096].split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        header = next(reader, None)
        rows: list[tuple[int, list[Any]]] = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise too_large(f"more than {MAX_ROWS:,} rows")
            rows.append((reader.line_num, values))
    except csv.Error as exc:
        raise error_codes.MALFORMED_CSV(line=reader.line_num, why=str(exc)) from None
    return Table("csv", normalise_header(header or []), rows)


def _check_zip(data: bytes) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _unsupported("a damaged zip archive") from None
    names = {m.filename for m in members}
    if "xl/workbook.xml" not in names:
        raise _unsupported("a zip archive but not an Excel workbook")
    if len(members) > MAX_ZIP_MEMBERS:
        raise too_large(f"the workbook holds {len(members)} parts")
    total = sum(m.file_size for m in members)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise too_large(f"it unpacks to {total // (1024 * 1024)} MB")
    for m in members:
        # A real sheet compresses 5-20x; a zip bomb thousands of times.
        if m.file_size > 1024 * 1024 and m.file_size > MAX_COMPRESSION_RATIO * max(
            m.compress_size, 1
        ):
            raise too_large(f"part {m.filename} unpacks {m.file_size // max(m.compress_size, 1)}x")
    return archive


def _read_xlsx(data: bytes) -> Table:
    _check_zip(data)
    # Deferred: only uploads of XLSX pay for importing openpyxl.
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.utils.datetime import CALENDAR_WINDOWS_1900

    # openpyxl reads the package, the shared strings and the styles (which cells are dates);
    # the first sheet's XML is streamed by _SheetReader. load_workbook would also build every
    # sheet, walking a whole sheet that lacks a <dimension> element just to size it.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles it cannot map
            reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=False)
            try:
                reader.read_manifest()
                reader.read_strings()
                reader.read_workbook()
                apply_stylesheet(reader.archive, reader.wb)
                _sheet, rel = next(iter(reader.parser.find_sheets()))
                epoch = getattr(reader.wb, "epoch", CALENDAR_WINDOWS_1900)
                sheet = _SheetReader(
                    list(reader.shared_strings),
                    set(getattr(reader.wb, "_date_formats", ())),
                    epoch,
                )
                with reader.archive.open(rel.target) as source:
                    sheet.parse(source)
            finally:
                reader.archive.close()
    except (PayloadTooLarge, Invalid):
        raise
    except Exception as exc:  # openpyxl and expat raise many unrelated types on a bad workbook
        log.info("unreadable workbook: %r", exc)
        raise error_codes.UNREADABLE_XLSX() from None
    header: list[Any] | None = None
    rows: list[tuple[int, list[Any]]] = []
    formula_rows = sheet.formulas
    for number, values in sheet.rows:
        if header is None:
            header = values
            continue
        rows.append((number, values))
    if formula_rows:
        raise error_codes.FORMULAS_NOT_ALLOWED(
            errors={
                f"row {n}": {"cells": cells, "error": "enter the value, not a formula"}
                for n, cells in sorted(formula_rows.items())
            },
        )
    return Table("xlsx", normalise_header(header or []), rows, epoch)


class _SheetReader:
    """A streaming reader of one worksheet's XML on expat.

    openpyxl builds an element tree per cell and takes ~40 CPU seconds for 100,000 rows; this
    keeps only what a timesheet needs (values, dates by style, formula cells) and takes a few.
    Documents with a DTD are refused: no entity expansion, no external references.
    """

    def __init__(self, shared: list[Any], date_styles: set[int], epoch: datetime) -> None:
        self.shared, self.date_styles, self.epoch = shared, date_styles, epoch
        self.rows: list[tuple[int, list[Any]]] = []
        self.formulas: dict[int, list[str]] = {}
        self._row: dict[int, Any] = {}
        self._row_no = 0
        self._col = 0
        self._cell: tuple[str, str, int, str] | None = None  # type, style, column, ref
        self._text: list[str] = []
        self._collect = False
        self._formula = False

    def parse(self, stream: Any) -> None:
        parser = expat.ParserCreate()
        parser.StartDoctypeDeclHandler = self._refuse
        parser.EntityDeclHandler = self._refuse
        parser.ExternalEntityRefHandler = self._refuse
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._chars
        parser.buffer_text = True
        while chunk := stream.read(1 << 16):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)

    def _refuse(self, *_args: Any) -> None:
        raise ValueError("DTDs and entities are not allowed in a worksheet")

    def _start(self, name: str, attrs: dict[str, str]) -> None:
        name = name.rpartition(":")[2]
        if name == "c":
            ref = attrs.get("r", "")
            letters = ref.rstrip("0123456789")
            col = 0
            for ch in letters:
                col = col * 26 + ord(ch) - 64
            self._col = col if letters else self._col + 1
            self._cell = (attrs.get("t", "n"), attrs.get("s", "0"), self._col, ref)
            self._text, self._formula = [], False
        elif name == "row":
            self._row_no = int(attrs["r"]) if "r" in attrs else self._row_no + 1
            self._row, self._col = {}, 0
        elif name in ("v", "t") and self._cell is not None:
            self._collect = True
        elif name == "f":
            self._formula = True
        elif name == "rPh":  # phonetic hints (振り仮名) are not part of the text
            self._collect = False

    def _chars(self, data: str) -> None:
        if self._collect:
            self._text.append(data)

    def _end(self, name: str) -> None:
        name = name.rpartition(":")[2]
        if name in ("v", "t"):
            self._collect = False
        elif name == "c" and self._cell is not None:
            kind, style, col, ref = self._cell
            self._cell = None
            if col > MAX_COLUMNS:
                return
            if self._formula:
                self.formulas.setdefault(self._row_no, []).append(ref or f"col {col}")
            self._row[col] = self._value(kind, int(style or 0), "".join(self._text))
        elif name == "row" and any(
            v is not None and (not isinstance(v, str) or v.strip()) for v in self._row.values()
        ):
            if len(self.rows) > MAX_ROWS:  # the header is one of them
                raise too_large(f"more than {MAX_ROWS:,} rows")
            width = max(self._row)
            self.rows.append((self._row_no, [self._row.get(c) for c in range(1, width + 1)]))

    def _value(self, kind: str, style: int, text: str) -> Any:
        if kind == "s":
            return str(self.shared[int(text)]) if text else None
        if kind in ("inlineStr", "str"):
            return text
        if kind == "b":
            return text == "1"
        if kind == "e" or not text:
            return text or None
        number: int | float = int(text) if text.lstrip("-").isdigit() else float(text)
        if style in self.date_styles:
            try:
                return excel_serial(float(number), self.epoch)
            except (ValueError, OverflowError):
                return number
        return number


def normalise_header(values: Sequence[Any]) -> list[str]:
    names = [
        str(v).strip().lstrip("\ufeff").strip().lower() if v is not None else "" for v in values
    ]
    while names and not names[-1]:
        names.pop()
    return names


# ---- writing -------------------------------------------------------------------------------

_DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: Any) -> str:
    """A cell's text that no spreadsheet will run as a formula (OWASP CSV injection)."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_DANGEROUS_START):
        return "'" + text
    return text


def _cell(value: Any) -> Any:
    """Numbers stay numbers; everything else becomes neutralised text."""
    if isinstance(value, bool):
        return safe_text(value)
    if isinstance(value, int | Decimal | float):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return safe_text(value)


def csv_bytes(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    """CSV with a UTF-8 BOM, so that Excel shows Chinese text correctly."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_text(h) for h in header])
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def xlsx_bytes(
    sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Any]]]],
) -> bytes:
    """An XLSX whose every cell is typed explicitly: text as strings, numbers as numbers."""
    # Deferred like the reader's: only XLSX exports pay for importing openpyxl.
    from openpyxl import Workbook
    from openpyxl.cell.cell import Cell

    wb = Workbook(write_only=True)
    for title, header, rows in sheets:
        ws = wb.create_sheet(title=title)
        for row in [list(header), *rows]:
            cells = []
            for value in row:
                cell = Cell(ws, row=1, column=1)  # the writer sets the real position
                plain = _cell(value)
                if isinstance(plain, int | float | Decimal):
                    cell.value = plain
                    cell.data_type = "n"
                else:
                    # Assigning through .value would let openpyxl read "=..." as a formula.
                    cell._value = plain
                    cell.data_type = "s"
                cells.append(cell)
            ws.append(cells)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def excel_serial(value: float, epoch: datetime | None) -> datetime:
    # Deferred: only spreadsheets with serial dates pay for importing openpyxl.
    from openpyxl.utils.datetime import CALENDAR_WINDOWS_1900, from_excel

    result = from_excel(value, epoch or CALENDAR_WINDOWS_1900)
    if not isinstance(result, datetime):
        raise ValueError("not a date and time")
    return result


def rows_as_dicts(table: Table, columns: Sequence[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    index = {name: table.header.index(name) for name in columns if name in table.header}
    for number, values in table.rows:
        yield number, {name: (values[i] if i < len(values) else None) for name, i in index.items()}
