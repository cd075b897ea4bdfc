"""Reading what people give Shudao: tables (CSV files or text, JSON lists) and dates.

One reader serves every command and job, so a file is read the same way wherever it is given:
UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark (Excel's "Unicode
text") and GBK (what Excel writes on a Chinese Windows machine, read as its superset GB 18030)
are decoded; comma- or tab-separated. A file that is binary, empty, not valid CSV, or whose
rows do not fit its header raises :class:`TableError` saying so in words, with the line.
Dates and times must fall within :data:`YEARS` (:func:`check_year`).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import chain
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.errors import InvalidInputError, clipped, quoted

#: The first and last year a date or time given to Shudao may fall in: converting a time of
#: year 1 or 9999 to UTC overflows, and no timetable, tariff or forecast reaches that far.
YEARS = (2000, 2199)
#: The largest seed every solver takes: CP-SAT's and HiGHS's ``random_seed`` are signed 32-bit
#: integers (2**31 is refused, "Value out of range"), PyVRP's unsigned 32-bit.
MAX_SEED = 2**31 - 1
#: What a file's bytes may be, and what a table may be, for error messages.
TEXT = "text in UTF-8, GBK, or UTF-16 with a byte-order mark"
ALLOWED = "CSV text with a header line"
#: Byte-order marks: the codec of a text that starts with one, the codec of the bytes after it,
#: and its name in messages.
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16-be", "UTF-16"),
)
#: Bytes read at a time from a file whose encoding is looked for.
_BLOCK_BYTES = 1 << 20
#: Control characters that text tables never hold (tab, line feed and carriage return do).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class TableError(InvalidInputError):
    """A table cannot be read; ``field`` names the file or input field, the message says why.

    Examples
    --------
    >>> str(TableError("lots.csv", "got an empty file", ALLOWED))[:50]
    'lots.csv: got an empty file; expected CSV text wit'
    """

    def __init__(self, field: str, problem: str, allowed: str = ALLOWED) -> None:
        super().__init__(field, None, allowed, message=f"{problem}; expected {allowed}")


@dataclass(frozen=True)
class Table:
    """A table read as text: its column names and one mapping per row (``""`` when blank)."""

    columns: tuple[str, ...]
    rows: list[dict[str, str]]

    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame of strings.

        Examples
        --------
        >>> table_from_text("id,kg\\nA,5\\n", "lots").frame().to_dict("records")
        [{'id': 'A', 'kg': '5'}]
        """
        return pd.DataFrame(self.rows, columns=list(self.columns), dtype=str)


def _undecodable(codec: str, blocks: Iterable[bytes]) -> tuple[int, int] | None:
    """The offset and value of the first byte of ``blocks`` (one text, in pieces) that
    ``codec`` cannot decode, or None."""
    decoder = codecs.getincrementaldecoder(codec)()
    offset = 0
    for block, final in chain(((block, False) for block in blocks), [(b"", True)]):
        held = len(decoder.getstate()[0])  # bytes of the last block that began a character
        try:
            decoder.decode(block, final)
        except UnicodeDecodeError as exc:
            return offset - held + exc.start, exc.object[exc.start]
        offset += len(block)
    return None


def _codec(blocks: Callable[[], Iterable[bytes]], name: str) -> str:
    """The codec of the bytes that every call of ``blocks`` gives from the start (a file's or
    a text's, in pieces of at least four bytes but the last): see :func:`decode_text`."""
    head = next(iter(blocks()), b"")
    for bom, codec, plain, label in _BOMS:
        if head.startswith(bom):
            skip = len(bom)
            after = (block[skip:] if i == 0 else block for i, block in enumerate(blocks()))
            bad = _undecodable(plain, after)
            if bad is not None:
                raise TableError(
                    name, f"got bytes that are not {label} after its byte-order mark "
                    f"(offset {skip + bad[0]:,})", TEXT,
                ) from None  # fmt: skip
            return codec
    offset = 0
    for block in blocks():
        if b"\x00" in block:
            zero = offset + block.index(0)
            raise TableError(name, f"got binary data (a zero byte at offset {zero:,})", TEXT)
        offset += len(block)
    if _undecodable("utf-8", blocks()) is None:
        return "utf-8"
    bad = _undecodable("gb18030", blocks())
    if bad is not None:
        raise TableError(
            name, f"got bytes that are neither UTF-8 nor GBK (0x{bad[1]:02x} at "
            f"offset {bad[0]:,})", TEXT,
        )  # fmt: skip
    return "gb18030"


def decode_text(data: bytes, name: str) -> str:
    """The text of a file's bytes: UTF-8, UTF-16 with a byte-order mark, or GBK.

    Raises
    ------
    TableError
        For binary data (a zero byte without a UTF-16 byte-order mark) or bytes that are
        neither UTF-8 nor GBK.

    Examples
    --------
    >>> decode_text("始发地,重量\\n".encode("gbk"), "lots.csv")
    '始发地,重量\\n'
    >>> decode_text("id\\n".encode("utf-16"), "lots.csv")
    'id\\n'
    >>> decode_text(b"\\x89PNG\\r\\n\\x1a\\n\\x00\\x00", "lots.csv")
    Traceback (most recent call last):
    ...
    optimizer.inputs.TableError: lots.csv: got binary data (a zero byte at offset 8); expected ...
    """
    return data.decode(_codec(lambda: [data], name))


def _unreadable(path: Path, exc: OSError) -> TableError:
    return TableError(
        path.name or str(path), f"got a file that cannot be read ({exc.strerror})", TEXT
    )


def _file_blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        while block := file.read(_BLOCK_BYTES):
            yield block


def read_text(path: str | Path) -> str:
    """The text of a file (see :func:`decode_text`); an unreadable file raises
    :class:`TableError` naming it.

    Examples
    --------
    >>> read_text("/")
    Traceback (most recent call last):
    ...
    optimizer.inputs.TableError: /: got a file that cannot be read (Is a directory); expected ...
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _unreadable(path, exc) from None
    return decode_text(data, path.name)


def _lines(reader: Iterator[list[str]]) -> Iterator[list[str]]:
    """The reader's records, skipping blank lines."""
    for fields in reader:
        if any(field.strip() for field in fields):
            yield fields


def _control_error(name: str, character: str, line: int) -> TableError:
    return TableError(
        name, f"got binary data (control character U+{ord(character):04X} on line {line})"
    )


def _text_lines(lines: Iterable[str], name: str) -> Iterator[str]:
    """``lines`` (of a text read with universal newlines, their endings kept), refusing the
    first with a control character."""
    number = 1
    for line in lines:
        control = _CONTROL.search(line)
        if control:
            raise _control_error(
                name, control.group(), number + line.count("\n", 0, control.start())
            )
        number += line.count("\n")
        yield line


def _first_line(lines: Iterator[str]) -> tuple[str, Iterator[str]]:
    """The text's first line after its leading space (up to its first line feed: a carriage
    return alone does not end it), and every line."""
    seen: list[str] = []
    text = False
    for line in lines:
        seen.append(line)
        text = text or bool(line.strip())
        if text and "\n" in line:
            break
    return "".join(seen).lstrip().partition("\n")[0], chain(seen, lines)


def _csv_rows(
    lines: Iterable[str], name: str, *, max_rows: int | None = None
) -> tuple[tuple[str, ...], Iterator[dict[str, str]]]:
    """The column names of CSV text given line by line, and its rows as they are read: the
    rules of :func:`table_from_text`, whose errors the rows raise when their line comes."""
    first, text = _first_line(_text_lines(lines, name))
    delimiter = "\t" if "\t" in first and "," not in first else ","
    reader = csv.reader(text, delimiter=delimiter, strict=True)
    records = _lines(reader)

    def malformed(exc: csv.Error) -> TableError:
        return TableError(
            name, f"got malformed CSV on line {reader.line_num} ({clipped(str(exc))})"
        )

    try:
        header = next(records, None)
    except csv.Error as exc:
        raise malformed(exc) from None
    if header is None:
        raise TableError(name, "got an empty table")
    columns = [column.strip() for column in header]
    named = [column for column in columns if column]
    repeated = sorted({column for column in named if named.count(column) > 1})
    if repeated:
        raise TableError(name, f"got the column {quoted(repeated[0])} twice in the header")

    def rows() -> Iterator[dict[str, str]]:
        count = 0
        try:
            for fields in records:
                if len(fields) > len(columns):
                    raise TableError(
                        name, f"got {len(fields)} fields on line {reader.line_num}; expected "
                        f"at most {len(columns)}, one per column of the header",
                    )  # fmt: skip
                row = {}
                for column, value in zip(columns, fields, strict=False):
                    if column:
                        row[column] = value
                    elif value.strip():
                        raise TableError(
                            name, f"got {quoted(value)} on line {reader.line_num} in a column "
                            "without a name in the header",
                        )  # fmt: skip
                count += 1
                if max_rows is not None and count > max_rows:
                    raise TableError(
                        name, f"got more than {max_rows:,} rows", f"at most {max_rows:,}"
                    )
                yield {**dict.fromkeys(named, ""), **row}
        except csv.Error as exc:
            raise malformed(exc) from None

    return tuple(named), rows()


def table_from_text(text: str, name: str, *, max_rows: int | None = None) -> Table:
    """Read CSV text (comma-separated, or tab-separated when the header has tabs, no commas).

    A row with fewer fields than the header gets ``""`` for the rest; columns without a name
    (trailing separators) are left out when they hold nothing.

    Raises
    ------
    TableError
        Naming ``name`` and the line: no header, control characters, malformed quoting, more
        fields than the header, a value under a nameless column, a repeated column name, more
        than ``max_rows`` rows.

    Examples
    --------
    >>> table_from_text("id,kg,\\nA,5,\\nB\\n", "lots").rows
    [{'id': 'A', 'kg': '5'}, {'id': 'B', 'kg': ''}]
    >>> table_from_text('origin,destination\\n"x', "input.csv")
    Traceback (most recent call last):
    ...
    optimizer.inputs.TableError: input.csv: got malformed CSV on line 2 (unexpected end of data...
    >>> table_from_text("", "input.csv")
    Traceback (most recent call last):
    ...
    optimizer.inputs.TableError: input.csv: got an empty table; expected CSV text with a header...
    """
    control = _CONTROL.search(text)
    if control:  # anywhere in the text, before any other problem
        raise _control_error(name, control.group(), text.count("\n", 0, control.start()) + 1)
    columns, rows = _csv_rows(io.StringIO(text, newline=""), name, max_rows=max_rows)
    return Table(columns, list(rows))


#: Excel workbooks read by :func:`read_table` (their first sheet), by file name suffix.
EXCEL_SUFFIXES = (".xlsx", ".xlsm")


def _cell_text(value: object) -> str:
    """An Excel cell as the text a CSV would hold: whole numbers without ``.0``, dates (and
    times at midnight) as ISO dates, other times as ISO times."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def excel_text(path: Path) -> str:
    """The first sheet of an Excel workbook as CSV text, read with openpyxl (values, not
    formulas); a file that is not a workbook raises :class:`TableError` naming it."""
    from zipfile import BadZipFile

    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError) as exc:
        raise TableError(
            path.name, f"got a file that is not an Excel workbook ({clipped(str(exc))})",
            "an .xlsx workbook whose first sheet holds the table",
        ) from None  # fmt: skip
    try:
        sheet = workbook.worksheets[0]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for row in sheet.iter_rows(values_only=True):
            writer.writerow([_cell_text(value) for value in row])
    finally:
        workbook.close()
    return out.getvalue()


def read_table(path: str | Path, *, max_rows: int | None = None) -> Table:
    """Read a CSV file (see :func:`decode_text` and :func:`table_from_text`), or the first
    sheet of an Excel workbook (``.xlsx``, :func:`excel_text`).

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "lots.csv"
    >>> _ = path.write_text("id,weight_kg\\r\\nA,5\\r\\n", encoding="utf-16")
    >>> read_table(path).rows
    [{'id': 'A', 'weight_kg': '5'}]
    """
    path = Path(path)
    if path.suffix.lower() in EXCEL_SUFFIXES:
        return table_from_text(excel_text(path), path.name, max_rows=max_rows)
    return table_from_text(read_text(path), path.name, max_rows=max_rows)


def read_table_chunks(path: str | Path, rows: int) -> Iterator[Table]:
    """Read a table file as :func:`read_table` does, ``rows`` rows at a time, holding one
    chunk in memory (a CSV file is decoded and parsed as it is read; a workbook is converted
    whole): the same columns, rows and errors, each error raised when its line is reached.
    A file without rows gives one :class:`Table` without rows.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "lots.csv"
    >>> _ = path.write_text("id,始发地\\nA,成都\\nB,\\nC,合肥\\n", encoding="gbk")
    >>> [table.rows for table in read_table_chunks(path, 2)]
    [[{'id': 'A', '始发地': '成都'}, {'id': 'B', '始发地': ''}], [{'id': 'C', '始发地': '合肥'}]]
    """
    path = Path(path)
    if rows < 1:
        raise InvalidInputError("rows", rows, "at least 1")
    if path.suffix.lower() in EXCEL_SUFFIXES:
        columns, found = _csv_rows(io.StringIO(excel_text(path), newline=""), path.name)
        yield from _tables(columns, found, rows)
        return
    try:
        codec = _codec(lambda: _file_blocks(path), path.name)
        with path.open(encoding=codec, newline="") as file:  # a control character anywhere
            for _ in _text_lines(file, path.name):  # is named before any other problem
                pass
        with path.open(encoding=codec, newline="") as file:
            columns, found = _csv_rows(file, path.name)
            yield from _tables(columns, found, rows)
    except OSError as exc:
        raise _unreadable(path, exc) from None


def _tables(
    columns: tuple[str, ...], found: Iterator[dict[str, str]], rows: int
) -> Iterator[Table]:
    chunk: list[dict[str, str]] = []
    given = False
    for row in found:
        chunk.append(row)
        if len(chunk) == rows:
            yield Table(columns, chunk)
            chunk, given = [], True
    if chunk or not given:
        yield Table(columns, chunk)


def read_rows(path: str | Path, *, required: bool = True) -> list[dict[str, Any]]:
    """The rows of a CSV file, or of a JSON file (``.json``) holding a list of objects.

    ``required``: a file without rows raises :class:`TableError`.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "lots.json"
    >>> _ = path.write_text('[{"id": "A", "weight_kg": 5}]')
    >>> read_rows(path)
    [{'id': 'A', 'weight_kg': 5}]
    >>> _ = path.write_text("[]")
    >>> read_rows(path)
    Traceback (most recent call last):
    ...
    optimizer.inputs.TableError: lots.json: got no rows; expected at least one row
    """
    path = Path(path)
    rows: list[dict[str, Any]]
    if path.suffix.lower() == ".json":
        objects = "a JSON list of objects"
        try:
            document = json.loads(read_text(path))
        except json.JSONDecodeError as exc:
            raise TableError(
                path.name, f"got text that is not JSON ({exc.msg} on line {exc.lineno})", objects
            ) from None
        if not isinstance(document, list):
            raise TableError(path.name, f"got a JSON {type(document).__name__}", objects)
        odd = next((i for i, row in enumerate(document) if not isinstance(row, dict)), None)
        if odd is not None:
            kind = type(document[odd]).__name__
            raise TableError(path.name, f"got a JSON {kind} as item {odd}", objects)
        rows = document
    else:
        rows = list(read_table(path).rows)
    if required and not rows:
        raise TableError(path.name, "got no rows", "at least one row")
    return rows


def check_year(field: str, moment: date, given: object = None) -> None:
    """Raise :class:`~optimizer.errors.InvalidInputError` on ``field`` unless ``moment`` (a date
    or datetime) falls within :data:`YEARS`; ``given`` is quoted (default: ``moment``).

    Examples
    --------
    >>> check_year("start", date(2026, 12, 3))
    >>> check_year("start", date(1, 1, 1), "0001-01-01T00:00+14:00")
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: start: got '0001-01-01T00:00+14:00'; expected a date ...
    """
    if not YEARS[0] <= moment.year <= YEARS[1]:
        shown = moment.isoformat() if given is None else given
        raise InvalidInputError(field, shown, f"a date in the years {YEARS[0]}-{YEARS[1]}")


def check_positive(field: str, value: object, limit: float) -> None:
    """Refuse ``value`` unless it is a finite number in (0, ``limit``], naming ``field``.

    Examples
    --------
    >>> check_positive("weight_kg", 2.5, 1000)
    >>> check_positive("weight_kg", True, 1000)
    Traceback (most recent call last):
    ...
    optimizer.errors.InvalidInputError: weight_kg: got True; expected a number > 0 and <= 1,000
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 < value <= limit
    ):
        raise InvalidInputError(field, value, f"a number > 0 and <= {limit:,.0f}")
