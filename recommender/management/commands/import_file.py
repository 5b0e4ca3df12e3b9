"""`manage.py import_file --tenant SLUG --kind interactions FILE`: a streaming file import.

Runs the import here, with a progress bar (bytes, both passes) on stderr and the counts as JSON on
stdout's last line; or, with `--job`, stores the file and leaves the import to a worker.
"""

import json
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from tqdm import tqdm

from recommender.services.ingest.file_imports import (
    DEFAULT_CHUNK_ROWS,
    IMPORT_JOB_KINDS,
    IMPORT_KINDS,
    import_file,
)
from recommender.services.jobs.lifecycle import job_create
from recsys_platform.errors import ApplicationError
from tenants.models import Tenant


def _plain(text: str) -> str:
    return text  # not the error colour Django gives stderr


class _BarStream:
    """tqdm redraws with '\\r'; Django's OutputWrapper would end each write with a newline."""

    def __init__(self, out: OutputWrapper) -> None:
        self._out = out

    def write(self, text: str) -> None:
        self._out.write(text, style_func=_plain, ending="")

    def flush(self) -> None:
        self._out.flush()

    def isatty(self) -> bool:
        return self._out.isatty()


class Command(BaseCommand):
    help = "Import items, users or interactions from a CSV or JSON Lines file, streaming."
    # A data load, not a deployment step: the system checks would import every URL and view
    # (and through them the model libraries) for nothing, seconds before the first row.
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="a .csv, .jsonl or .ndjson file")
        parser.add_argument("--tenant", required=True, help="the tenant's slug")
        parser.add_argument("--kind", required=True, choices=IMPORT_KINDS)
        parser.add_argument(
            "--chunk-rows",
            type=int,
            default=DEFAULT_CHUNK_ROWS,
            help=f"rows per chunk and transaction (default {DEFAULT_CHUNK_ROWS})",
        )
        parser.add_argument(
            "--job",
            action="store_true",
            help="store the file and create a job for a worker instead of importing here",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {options['tenant']!r}.")
        try:
            if options["job"]:
                result = self._enqueue(tenant, options["kind"], path, options["chunk_rows"])
            else:
                result = self._import(tenant, options["kind"], path, options["chunk_rows"])
        except ApplicationError as exc:
            for fault in exc.details:
                where = ", ".join(
                    f"{key} {fault[key]}" for key in ("row", "line") if fault.get(key) is not None
                )
                column = f" [{fault['field']}]" if fault.get("field") else ""
                self.stderr.write(f"  {where}{column}: {fault['message']}")
            raise CommandError(exc.message) from None
        self.stdout.write(json.dumps(result, sort_keys=True))

    def _import(self, tenant: Tenant, kind: str, path: Path, chunk_rows: int) -> dict[str, Any]:
        total = 2 * path.stat().st_size  # both passes read the whole file
        with tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc="validating",
            file=_BarStream(self.stderr),
            disable=None,  # no bar when stderr is not a terminal
        ) as bar:
            writing = False

            def report(progress: float, counts: Any) -> None:
                nonlocal writing
                if progress > 0.5 and not writing:
                    writing = True
                    bar.set_description("writing", refresh=False)
                bar.set_postfix_str(", ".join(f"{k} {v}" for k, v in counts.items()), refresh=False)
                bar.update(int(progress * total) - bar.n)

            return import_file(
                tenant=tenant, kind=kind, path=path, report=report, chunk_rows=chunk_rows
            )

    def _enqueue(self, tenant: Tenant, kind: str, path: Path, chunk_rows: int) -> dict[str, Any]:
        with path.open("rb") as handle:
            job = job_create(
                tenant=tenant,
                kind=IMPORT_JOB_KINDS[kind],
                params={"chunk_rows": chunk_rows},
                input_file=File(handle, name=path.name),
            )
        return {"job": str(job.pk), "kind": job.kind, "status": job.status}
