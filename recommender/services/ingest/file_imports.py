"""File imports: items, users or interactions from CSV or JSON Lines, streamed in two passes.

Pass 1 reads the whole file and validates every row with the batch API's own parsers; if any row
is at fault, nothing is written and the error names the rows. Pass 2 reads the file again and
writes it chunk by chunk, each chunk in its own transaction, through the API's set-based writers;
events are written a few chunks at a time on connections of their own (see `_ChunkWriter`).
Memory holds a few chunks, never the file.

What a caller should know:
- Rows are numbered from 1: CSV data rows after the header, JSON Lines lines. Each error also
  gives the line of the file where its row starts.
- CSV columns are the wire fields. `categories` is `a|b|c`, `attributes` a JSON object, `available`
  true/false/1/0; empty cells are absent fields. Values are converted to their wire types first,
  so the shared validators see what the API would.
- Items and users: a later row with an id seen before updates that item or user, in the file as
  in the database, and is counted as updated.
- Interactions: a row without an event_id gets `import:<file digest>:<row>`, so importing the same
  file again (a re-delivered job, a re-run command) stores nothing twice. A repeated event_id, in
  the file or already stored, is counted as a duplicate, not a fault; when its rows are in chunks
  written at the same time, which of them is kept is not defined (as for concurrent API batches).
- Should the file (or the catalog) change between the passes, pass 2 stops at the first faulty
  chunk; the chunks before it stay written.
"""

import csv
import hashlib
import io
import shutil
import tempfile
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import psycopg
from django.db import OperationalError, connection, transaction
from django.db.models.fields.files import FieldFile
from django.utils import timezone

from recommender.models import Job
from recommender.services.config import interaction_types
from recommender.services.ingest.batches import (
    resolve_interaction_items,
    users_ensure,
    write_interactions,
    write_items,
    write_users,
)
from recommender.services.ingest.rows import (
    MAX_ERRORS_REPORTED,
    InteractionRow,
    ItemRow,
    RowErrors,
    UserRow,
    interaction_parser,
    parse_item,
    parse_rows,
    parse_user,
)
from recommender.services.jobs.lifecycle import ProgressReport
from recsys_platform.errors import ApplicationError
from tenants.models import Tenant

if TYPE_CHECKING:
    from hashlib import _Hash

IMPORT_KINDS: tuple[str, ...] = ("items", "users", "interactions")
IMPORT_JOB_KINDS: dict[str, str] = {
    "items": Job.Kind.IMPORT_ITEMS,
    "users": Job.Kind.IMPORT_USERS,
    "interactions": Job.Kind.IMPORT_INTERACTIONS,
}
FILE_FORMATS: dict[str, str] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
CSV_COLUMNS: dict[str, tuple[str, ...]] = {
    "items": ("id", "title", "description", "categories", "attributes", "available"),
    "users": ("id", "attributes", "profile_text"),
    "interactions": ("user", "item", "type", "value", "timestamp", "event_id", "recommendation_id"),
}
_REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "items": ("id",),
    "users": ("id",),
    "interactions": ("user", "item", "type"),
}
# Bigger chunks mean fewer user and item lookups (ids repeat within a chunk); one of 20,000
# events holds about 25 MB, and an events import holds about four (see _ChunkWriter).
DEFAULT_CHUNK_ROWS = 20_000
MAX_LINE_BYTES = 1 << 20
_READ_BUFFER_BYTES = 256 * 1024
_BOM = b"\xef\xbb\xbf"


# --- reading: raw rows in chunks, each with its row number and line -------------------------


@dataclass
class _Chunk:
    rows: list[Any] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)  # the row numbers errors report
    lines: list[int] = field(default_factory=list)  # the line where each row starts

    def add(self, raw: Any, number: int, line: int) -> None:
        self.rows.append(raw)
        self.numbers.append(number)
        self.lines.append(line)


class _FileErrors:
    """Row faults of the whole file: all counted, the first MAX_ERRORS_REPORTED kept."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.total = 0

    def add(self, row: int, line: int, field_name: str | None, message: str) -> None:
        self.total += 1
        if len(self.items) < MAX_ERRORS_REPORTED:
            self.items.append({"row": row, "line": line, "field": field_name, "message": message})

    def merge(self, chunk: _Chunk, errors: RowErrors) -> None:
        """Add a chunk's faults (indexed by position in the chunk) under their file rows."""
        for fault in sorted(errors.items, key=lambda e: e["row"]):
            index = fault["row"]
            self.add(chunk.numbers[index], chunk.lines[index], fault["field"], fault["message"])
        self.total += errors.total - len(errors.items)

    def rejection(self, file_format: str) -> ApplicationError:
        n = self.total
        numbering = (
            "CSV data rows, counted from 1 after the header"
            if file_format == "csv"
            else "line numbers of the file, from 1"
        )
        shown = "" if n <= len(self.items) else f" The first {len(self.items)} are listed."
        return ApplicationError(
            "validation_error",
            f"{n} row{'s are' if n != 1 else ' is'} invalid; nothing was imported. "
            f"Rows are {numbering}.{shown}",
            details=sorted(self.items, key=lambda e: e["row"]),
        )


class _MeteredFile(io.RawIOBase):
    """A binary file that counts, and optionally hashes, the bytes read through it."""

    def __init__(self, raw: io.FileIO, digest: "_Hash | None") -> None:
        self._raw = raw
        self._digest = digest
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._raw.readinto(buffer)
        if count:
            self.bytes_read += count
            if self._digest is not None:
                self._digest.update(memoryview(buffer)[:count])
        return count or 0


@contextmanager
def _open_metered(
    path: Path, digest: "_Hash | None" = None
) -> Iterator[tuple[io.BufferedReader, _MeteredFile]]:
    with path.open("rb", buffering=0) as raw:
        meter = _MeteredFile(raw, digest)
        yield io.BufferedReader(meter, _READ_BUFFER_BYTES), meter


def detect_format(path: Path) -> str:
    """'csv' or 'jsonl', by the file's extension or else by its first character."""
    by_extension = FILE_FORMATS.get(path.suffix.lower())
    if by_extension:
        return by_extension
    with path.open("rb") as handle:
        head = handle.read(4096).removeprefix(_BOM).lstrip()
    if head.startswith(b"["):
        raise ApplicationError(
            "invalid_file",
            "A JSON array is not supported: write one JSON object per line (JSON Lines).",
        )
    return "jsonl" if head.startswith(b"{") else "csv"


class _CsvFaultError(Exception):
    def __init__(self, field_name: str, message: str) -> None:
        self.field_name = field_name
        self.message = message


def _csv_categories(value: str) -> list[str]:
    return [part.strip() for part in value.split("|")]


def _csv_attributes(value: str) -> Any:
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:
        raise _CsvFaultError(
            "attributes", '\'attributes\' must be a JSON object, e.g. {"brand": "Acme"}'
        ) from None


_CSV_TRUE = frozenset({"true", "1"})
_CSV_FALSE = frozenset({"false", "0"})


def _csv_bool(value: str) -> Any:
    lowered = value.strip().lower()
    if lowered in _CSV_TRUE:
        return True
    if lowered in _CSV_FALSE:
        return False
    return value  # left as text: the shared validator reports it in the API's words


def _csv_number(value: str) -> Any:
    try:
        return float(value)
    except ValueError:
        return value  # left as text: the shared validator reports it


_CSV_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "categories": _csv_categories,
    "attributes": _csv_attributes,
    "available": _csv_bool,
    "value": _csv_number,
}


def _csv_header(header: list[str], kind: str) -> list[str]:
    names = [name.strip() for name in header]
    allowed = CSV_COLUMNS[kind]
    required = _REQUIRED_COLUMNS[kind]
    problems = [
        {"line": 1, "field": name, "message": f"unknown column '{name}'"}
        for name in names
        if name not in allowed
    ]
    problems += [
        {"line": 1, "field": name, "message": f"column '{name}' appears twice"}
        for name in sorted({n for n in names if names.count(n) > 1})
    ]
    problems += [
        {"line": 1, "field": name, "message": f"required column '{name}' is missing"}
        for name in required
        if name not in names
    ]
    if problems:
        raise ApplicationError(
            "invalid_file",
            f"The CSV header is not valid for {kind}: the columns are {', '.join(allowed)} "
            f"({', '.join(required)} required).",
            details=problems,
        )
    return names


def _csv_chunks(
    stream: io.BufferedReader, kind: str, chunk_rows: int, errors: _FileErrors
) -> Iterator[_Chunk]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader, None)
        if header is None:
            raise ApplicationError("empty_file", "The file is empty.")
        columns = _csv_header(header, kind)
        converters = [(name, _CSV_CONVERTERS[name]) for name in columns if name in _CSV_CONVERTERS]
        width = len(columns)
        chunk = _Chunk()
        number = 0
        next_line = reader.line_num + 1
        for record in reader:
            line, next_line = next_line, reader.line_num + 1
            if not record:
                continue  # a blank line
            number += 1
            if len(record) != width:
                errors.add(
                    number, line, None, f"the row has {len(record)} fields; the header {width}"
                )
                continue
            raw: dict[str, Any] = {
                name: value for name, value in zip(columns, record, strict=True) if value
            }
            try:
                for name, convert in converters:
                    if name in raw:
                        raw[name] = convert(raw[name])
            except _CsvFaultError as fault:
                errors.add(number, line, fault.field_name, fault.message)
                continue
            chunk.add(raw, number, line)
            if len(chunk.rows) >= chunk_rows:
                yield chunk
                chunk = _Chunk()
        if chunk.rows:
            yield chunk
    except csv.Error as exc:
        raise ApplicationError(
            "invalid_file", f"The file is not valid CSV (line {reader.line_num}): {exc}."
        ) from None
    except UnicodeDecodeError:
        raise ApplicationError(
            "invalid_file", f"The file is not UTF-8 text (near line {reader.line_num + 1})."
        ) from None
    finally:
        text.detach()


def _jsonl_chunks(
    stream: io.BufferedReader, chunk_rows: int, errors: _FileErrors
) -> Iterator[_Chunk]:
    chunk = _Chunk()
    number = 0
    while line := stream.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            errors.add(number, number, None, f"the line is longer than {MAX_LINE_BYTES} bytes")
            # Skip the rest of the line, a bounded read at a time.
            while line and not line.endswith(b"\n"):
                line = stream.readline(MAX_LINE_BYTES)
            continue
        if number == 1:
            line = line.removeprefix(_BOM)
        if not line.strip():
            continue
        try:
            raw = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            errors.add(number, number, None, f"invalid JSON: {exc}")
            continue
        chunk.add(raw, number, number)
        if len(chunk.rows) >= chunk_rows:
            yield chunk
            chunk = _Chunk()
    if chunk.rows:
        yield chunk


def _chunks(
    stream: io.BufferedReader, file_format: str, kind: str, chunk_rows: int, errors: _FileErrors
) -> Iterator[_Chunk]:
    if file_format == "csv":
        return _csv_chunks(stream, kind, chunk_rows, errors)
    return _jsonl_chunks(stream, chunk_rows, errors)


# --- each kind: validate a chunk, write a chunk ----------------------------------------------


def _no_key(row: Any) -> None:
    # Repeats across a file are allowed (see the module docstring), so inside a chunk too.
    return None


class _RowsKind:
    """How one kind parses and writes a chunk, and its running counts.

    `parse` runs on the importing thread; `prepare` and `write` may run on writer threads, so
    they return what they add to the counts instead of adding it.
    """

    # Chunks of this kind that may be written at once, each on a connection of its own.
    writers = 1

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.file_key = ""
        self.totals: Counter[str] = Counter()

    def parse(self, chunk: _Chunk, errors: RowErrors) -> Any:
        raise NotImplementedError

    def prepare(self, parsed: Any) -> Counter[str]:
        """Work done one chunk at a time, committed before the chunk's write (none by default)."""
        return Counter()

    def write(self, parsed: Any, chunk: _Chunk) -> Counter[str]:
        raise NotImplementedError

    def counts(self) -> dict[str, int]:
        raise NotImplementedError


class _UpsertKind(_RowsKind):
    """Items or users: upserted by id; a later row of the same id updates the earlier one.

    One writer: chunks are written in file order, so the last row of an id is the one kept.
    """

    parse_one: Callable[[Any], Any]
    writer: Callable[[Tenant, list[Any]], dict[str, int]]

    def parse(self, chunk: _Chunk, errors: RowErrors) -> list[Any]:
        parsed, _ = parse_rows(
            chunk.rows, type(self).parse_one, errors, unique_key=_no_key, unique_field="id"
        )
        return parsed

    def write(self, parsed: list[ItemRow] | list[UserRow], chunk: _Chunk) -> Counter[str]:
        # One statement cannot upsert the same key twice; the last row of an id wins.
        latest = {row.external_id: row for row in parsed}
        result = type(self).writer(self.tenant, list(latest.values()))
        return Counter(
            rows=len(parsed),
            created=result["created"],
            updated=result["updated"] + len(parsed) - len(latest),
        )

    def counts(self) -> dict[str, int]:
        return {name: self.totals[name] for name in ("rows", "created", "updated")}


class _ItemsKind(_UpsertKind):
    parse_one = staticmethod(parse_item)
    writer = staticmethod(write_items)


class _UsersKind(_UpsertKind):
    parse_one = staticmethod(parse_user)
    writer = staticmethod(write_users)


class _InteractionsKind(_RowsKind):
    """Events: stored once per event_id, in any order, so several chunks are written at once."""

    # Measured on two cores against the embedded Postgres: 1 writer 0.45x COPY, 2 0.6x, 3 0.65x.
    writers = 3

    def __init__(self, tenant: Tenant) -> None:
        super().__init__(tenant)
        # Rows without a timestamp get the import's start, the "time of receipt" of the API.
        self._parse = interaction_parser(interaction_types(tenant), timezone.now())

    def parse(
        self, chunk: _Chunk, errors: RowErrors
    ) -> tuple[list[InteractionRow], list[int], dict[str, int]]:
        parsed, indexes = parse_rows(
            chunk.rows, self._parse, errors, unique_key=_no_key, unique_field="event_id"
        )
        item_ids = resolve_interaction_items(self.tenant, parsed, indexes, errors)
        return parsed, indexes, item_ids

    def prepare(
        self, parsed: tuple[list[InteractionRow], list[int], dict[str, int]]
    ) -> Counter[str]:
        # New users are created here, one chunk at a time: two concurrent writes creating the
        # same new users in different orders would deadlock. The writes then find them all.
        return Counter(users_created=users_ensure(self.tenant, (row.user for row in parsed[0])))

    def write(
        self, parsed: tuple[list[InteractionRow], list[int], dict[str, int]], chunk: _Chunk
    ) -> Counter[str]:
        rows, indexes, item_ids = parsed
        for row, index in zip(rows, indexes, strict=True):
            if row.event_id is None:
                row.event_id = f"import:{self.file_key}:{chunk.numbers[index]}"
        result = write_interactions(self.tenant, rows, item_ids)
        return Counter(
            rows=len(rows),
            stored=result["stored"],
            duplicates=result["duplicates"],
            users_created=result["users_created"],
        )

    def counts(self) -> dict[str, int]:
        return {
            name: self.totals[name] for name in ("rows", "stored", "duplicates", "users_created")
        }


_KINDS: dict[str, type[_RowsKind]] = {
    "items": _ItemsKind,
    "users": _UsersKind,
    "interactions": _InteractionsKind,
}

# A deadlock (two chunks repeating each other's event_ids in different orders) aborts one of
# them whole; it is simply written again.
DEADLOCK_RETRIES = 5


def _close_thread_connection() -> None:
    connection.close()  # the calling thread's own connection


class _ChunkWriter:
    """Writes chunks, each in its own transaction, up to `rows_kind.writers` at a time.

    Outside any transaction the writes run on threads of their own, each with its own
    connection: reading and validating the next chunk overlaps the database's work on the ones
    in flight, which is where an import spends most of its time. Inside the caller's
    transaction they have to run in line, on the caller's connection.
    """

    def __init__(self, rows_kind: _RowsKind) -> None:
        self._rows_kind = rows_kind
        # One single-thread pool per writer: each thread keeps one connection, closed at the end.
        self._pools: list[ThreadPoolExecutor] = []
        self._in_flight: deque[Future[Counter[str]]] = deque()
        self._submitted = 0
        self._prepare_lock = threading.Lock()

    def __enter__(self) -> "_ChunkWriter":
        if not connection.in_atomic_block:
            self._pools = [
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer")
                for _ in range(self._rows_kind.writers)
            ]
        return self

    def _write(self, parsed: Any, chunk: _Chunk) -> Counter[str]:
        with self._prepare_lock:
            counts = self._rows_kind.prepare(parsed)
        for attempt in range(1, DEADLOCK_RETRIES + 1):
            try:
                with transaction.atomic():
                    written = self._rows_kind.write(parsed, chunk)
            except OperationalError as exc:
                deadlocked = isinstance(exc.__cause__, psycopg.errors.DeadlockDetected)
                if not deadlocked or attempt == DEADLOCK_RETRIES:
                    raise
            else:
                return counts + written
        raise AssertionError("unreachable")

    def _collect_oldest(self) -> None:
        self._rows_kind.totals.update(self._in_flight.popleft().result())

    def write(self, parsed: Any, chunk: _Chunk) -> None:
        if not self._pools:
            self._rows_kind.totals.update(self._write(parsed, chunk))
            return
        # Bounded: memory holds the chunks in flight and the one being read, whatever the file.
        while len(self._in_flight) >= len(self._pools):
            self._collect_oldest()
        pool = self._pools[self._submitted % len(self._pools)]
        self._in_flight.append(pool.submit(self._write, parsed, chunk))
        self._submitted += 1

    def __exit__(self, exc_type: Any, exc: Any, traceback: Any) -> None:
        try:
            while self._in_flight:
                if exc is None:
                    self._collect_oldest()
                else:
                    # Let the writes in flight end; the error already raised is the one to report.
                    with suppress(Exception):
                        self._collect_oldest()
        finally:
            for pool in self._pools:
                pool.submit(_close_thread_connection).result()
                pool.shutdown()


class _Progress:
    """Forwards progress to `report`, never backwards and never past 1."""

    def __init__(self, report: ProgressReport | None) -> None:
        self._report = report
        self._last = 0.0

    def __call__(self, progress: float, counts: Mapping[str, int]) -> None:
        self._last = min(max(progress, self._last), 1.0)
        if self._report is not None:
            self._report(self._last, dict(counts))


# --- the use case ------------------------------------------------------------------------------


def import_file(
    *,
    tenant: Tenant,
    kind: str,
    path: str | Path,
    report: ProgressReport | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> dict[str, int]:
    """Import a CSV or JSON Lines file of `kind` ("items", "users", "interactions") whole or not.

    Validates every row first and writes nothing if any is at fault (ApplicationError with the
    rows); then writes chunk by chunk. `report(progress, counts)` follows the bytes read over both
    passes: validation is the first half, writing the second. Returns the counts: rows, created,
    updated (items, users) or rows, stored, duplicates, users_created (interactions).
    """
    if kind not in _KINDS:
        raise ApplicationError(
            "invalid_kind", f"Unknown import kind {kind!r}; known: {', '.join(IMPORT_KINDS)}."
        )
    if chunk_rows < 1:
        raise ApplicationError("invalid_chunk_rows", "chunk_rows must be at least 1.")
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ApplicationError("file_missing", f"No file at {path.name!r}.") from None
    if size == 0:
        raise ApplicationError("empty_file", "The file is empty.")
    file_format = detect_format(path)
    rows_kind = _KINDS[kind](tenant)
    progress = _Progress(report)

    errors = _FileErrors()
    digest = hashlib.sha256()
    checked = 0
    with _open_metered(path, digest) as (stream, meter):
        for chunk in _chunks(stream, file_format, kind, chunk_rows, errors):
            chunk_errors = RowErrors()
            rows_kind.parse(chunk, chunk_errors)
            errors.merge(chunk, chunk_errors)
            checked += len(chunk.rows)
            progress(0.5 * min(meter.bytes_read / size, 1.0), {"rows": checked})
    if errors.total:
        raise errors.rejection(file_format)
    if checked == 0:
        raise ApplicationError("empty_file", "The file has no data rows.")
    rows_kind.file_key = digest.hexdigest()[:24]
    progress(0.5, {"rows": checked})

    with _open_metered(path) as (stream, meter), _ChunkWriter(rows_kind) as writer:
        for chunk in _chunks(stream, file_format, kind, chunk_rows, errors):
            chunk_errors = RowErrors()
            parsed = rows_kind.parse(chunk, chunk_errors)
            errors.merge(chunk, chunk_errors)
            if errors.total:
                raise _file_changed(errors)
            chunk.rows.clear()  # parsed now; the raw rows would only double the memory in flight
            writer.write(parsed, chunk)
            progress(0.5 + 0.5 * min(meter.bytes_read / size, 1.0), rows_kind.counts())
    if errors.total:  # faulty rows after the last chunk
        raise _file_changed(errors)
    counts = rows_kind.counts()
    progress(1.0, counts)
    return counts


def _file_changed(errors: _FileErrors) -> ApplicationError:
    first = errors.items[0]["row"] if errors.items else "?"
    return ApplicationError(
        "file_changed",
        f"The file or the catalog changed while the file was imported: row {first} is no longer "
        "valid. The rows before it were written; correct the file and import it again.",
        details=errors.items,
    )


@contextmanager
def _local_path(stored: FieldFile) -> Iterator[Path]:
    """A local path of a stored file: its own, or a temporary copy for remote storages."""
    try:
        local: str | None = stored.path
    except NotImplementedError:
        local = None
    if local is not None:
        yield Path(local)
        return
    with tempfile.NamedTemporaryFile(suffix=Path(stored.name or "").suffix) as copy:
        with stored.open("rb") as source:
            shutil.copyfileobj(source, copy, _READ_BUFFER_BYTES)
        copy.flush()
        yield Path(copy.name)


def import_job_run(*, job: Job, report: ProgressReport) -> dict[str, int]:
    """The service of the import job kinds: imports the job's input file."""
    kind = next((k for k, job_kind in IMPORT_JOB_KINDS.items() if job_kind == job.kind), None)
    if kind is None:
        raise ApplicationError("invalid_kind", f"{job.kind!r} is not an import job.")
    if not job.input_file:
        raise ApplicationError("file_missing", "The job has no input file.")
    chunk_rows = job.params.get("chunk_rows", DEFAULT_CHUNK_ROWS)
    if not isinstance(chunk_rows, int) or isinstance(chunk_rows, bool):
        raise ApplicationError("invalid_chunk_rows", "params.chunk_rows must be an integer.")
    with _local_path(job.input_file) as path:
        return import_file(
            tenant=job.tenant, kind=kind, path=path, report=report, chunk_rows=chunk_rows
        )
