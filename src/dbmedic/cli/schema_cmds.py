"""Schema commands: inspect, diff, verify. Thin: parse, call :mod:`dbmedic.api`, render."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dbmedic.cli.app import ExitCode, JsonOpt, app, fail, print_json, show_progress, state, stdout

if TYPE_CHECKING:
    from dbmedic.diff import Diff, TableGroup
    from dbmedic.inspect import Progress
    from dbmedic.model import Schema
    from dbmedic.verify import Verdict


@contextmanager
def guarded() -> Iterator[None]:
    """DbmedicError -> ``dbmedic: <sentence>`` on stderr and its exit code (2 unless it says);
    any other error -> one sentence, exit 2. ``--debug`` lets the traceback through."""
    import click

    from dbmedic.errors import DbmedicError

    try:
        yield
    except (typer.Exit, click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
        raise
    except DbmedicError as e:
        if state["debug"]:
            raise
        code = (
            ExitCode(e.exit_code)
            if e.exit_code in {c.value for c in ExitCode}
            else ExitCode.TROUBLE
        )
        raise fail(str(e), code) from None
    except Exception as e:
        if state["debug"]:
            raise
        raise fail(
            f"unexpected error: {type(e).__name__}: {e} (run with --debug for the traceback)"
        ) from None


@contextmanager
def progress_callback(enabled: bool) -> Iterator[Progress | None]:
    """A spinner on stderr while the library works, only on a terminal."""
    if not enabled or not show_progress():
        yield None
        return
    from dbmedic.cli.app import stderr

    with stderr.status("working...") as status:

        def report(done: int, total: int, what: str) -> None:
            status.update(what)

        yield report


UrlArg = Annotated[
    str, typer.Argument(help="Database URL, e.g. mysql://user@host/db.", show_default=False)
]
SourceArg = Annotated[
    str,
    typer.Argument(
        help="SOURCE: database URL or snapshot file (.json); the schema wanted.", show_default=False
    ),
]
TargetArg = Annotated[
    str,
    typer.Argument(
        help="TARGET: database URL or snapshot file (.json); the schema to bring to SOURCE.",
        show_default=False,
    ),
]
StrictOrderOpt = Annotated[
    bool,
    typer.Option(
        "--strict-order", help="Count a different column order as a difference (off by default)."
    ),
]


def say(text: str) -> None:
    """One line of output on stdout, never hard-wrapped (pipes and logs keep whole lines)."""
    stdout.print(text, soft_wrap=True)


# --- inspect ----------------------------------------------------------------------------------


@app.command("inspect")
def inspect_cmd(
    url: UrlArg,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="Write a JSON snapshot to this file.", show_default=False
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Read a database's schema: a summary table, or a JSON snapshot with -o / --json.

    The database is opened read-only. The snapshot is stable, sorted JSON (format
    dbmedic.schema/1) that diff and verify accept in place of a URL; it never holds a secret.
    """
    import sys

    from dbmedic import api

    with guarded(), progress_callback(not as_json) as progress:
        schema = api.snapshot(url, output, progress) if output else api.inspect(url, progress)
    if as_json:
        from dbmedic.inspect import snapshot_dict

        print_json(snapshot_dict(schema))
    elif output:
        # Plain text, not Rich: nothing to style, and Rich's import (~40 ms) is saved.
        sys.stdout.write(f"wrote {output}: {_totals_text(schema)}\n")
    else:
        _show_schema(schema)


def _totals(schema: Schema) -> dict[str, int]:
    tables = schema.tables.values()
    return {
        "tables": len(schema.tables),
        "columns": sum(len(t.columns) for t in tables),
        "indexes": sum(
            len(t.indexes) + len(t.uniques) + (t.primary_key is not None) for t in tables
        ),
        "foreign keys": sum(len(t.foreign_keys) for t in tables),
        "views": len(schema.views),
        "triggers": len(schema.triggers),
    }


def _about(schema: Schema) -> str:
    parts = [schema.dialect + (f" {schema.server_version}" if schema.server_version else "")]
    if schema.database:
        parts.append(f"database {schema.database}")
    if schema.inspect_seconds is not None:
        parts.append(f"read in {schema.inspect_seconds:.2f} s")
    return ", ".join(parts)


def _totals_text(schema: Schema) -> str:
    counts = ", ".join(f"{n} {kind}" for kind, n in _totals(schema).items())
    return f"{counts} ({_about(schema)})"


def _show_schema(schema: Schema) -> None:
    from rich.table import Table

    totals = _totals(schema)
    table = Table(title=_about(schema), title_justify="left", show_footer=True)
    table.add_column("table", footer=f"{totals['tables']} tables")
    table.add_column("columns", justify="right", footer=str(totals["columns"]))
    table.add_column("indexes", justify="right", footer=str(totals["indexes"]))
    table.add_column("foreign keys", justify="right", footer=str(totals["foreign keys"]))
    for t in schema.tables.values():
        n_idx = len(t.indexes) + len(t.uniques) + (t.primary_key is not None)
        table.add_row(t.name, str(len(t.columns)), str(n_idx), str(len(t.foreign_keys)))
    stdout.print(table)
    if schema.views or schema.triggers:
        say(f"views: {totals['views']}, triggers: {totals['triggers']}")


# --- diff -------------------------------------------------------------------------------------


@app.command("diff")
def diff_cmd(
    source: SourceArg,
    target: TargetArg,
    sql: Annotated[
        bool,
        typer.Option(
            "--sql", help="Print the DDL, in TARGET's dialect, that makes TARGET match SOURCE."
        ),
    ] = False,
    allow_drop: Annotated[
        bool, typer.Option("--allow-drop", help="With --sql: include DROP statements.")
    ] = False,
    strict_order: StrictOrderOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Compare two schemas (URLs or snapshots): parity first, then the differences.

    Exit 0 when TARGET matches SOURCE, 1 when they differ, 2 on bad input. Column order is
    listed but counts only with --strict-order. --sql prints DDL in dependency order (foreign
    keys last) and never DROP unless --allow-drop; nothing is executed.
    """
    from dbmedic import api

    with guarded(), progress_callback(not as_json) as progress:
        src = api.load(source, progress)
        tgt = api.load(target, progress)
        result = api.diff(src, tgt, strict_order=strict_order)
        statements = api.diff_sql(src, tgt, allow_drop=allow_drop) if sql else None
    code = ExitCode.OK if result.is_empty else ExitCode.DIFFERENT
    if as_json:
        from dbmedic.describe import diff_dict

        data = diff_dict(result)
        if statements is not None:
            data["sql"] = statements
        print_json(data)
    elif statements is not None:
        _show_sql(result, statements, allow_drop)
    else:
        show_diff(result)
    raise typer.Exit(int(code))


def _show_sql(result: Diff, statements: list[str], allow_drop: bool) -> None:
    import sys

    from dbmedic.diff import split_drops

    out = sys.stdout
    out.write(
        f"-- dbmedic: {len(statements)} statements ({result.target_dialect}) that make TARGET match SOURCE\n"
    )
    skipped = [] if allow_drop else split_drops(result.changes)[1]
    if skipped:
        out.write(f"-- left out {len(skipped)} drops (use --allow-drop to include them)\n")
    if result.column_order:
        out.write(
            f"-- column order differs in {len(result.column_order)} tables; SQL does not reorder columns\n"
        )
    for stmt in statements:
        out.write(stmt.rstrip().rstrip(";") + ";\n")


_LIST_LIMIT = 6


def _some(names: tuple[str, ...], room: int | None = None) -> str:
    """The first names, then ``... (+N)``; within ``room`` characters when given."""
    count = _LIST_LIMIT
    if room is not None:
        while count > 1 and len(_listed(names, count)) > room:
            count -= 1
    return _listed(names, count)


def _listed(names: tuple[str, ...], count: int) -> str:
    shown = ", ".join(names[:count])
    return shown + (f", ... (+{len(names) - count})" if len(names) > count else "")


def show_diff(result: Diff) -> None:
    """Parity, missing/extra tables in groups, changes per table (``dbmedic diff``, demo)."""
    from rich.markup import escape

    from dbmedic.describe import describe

    for line in result.parity.lines():
        if not line.expected and not line.extra and line is not result.parity.tables:
            continue
        style = "green" if line.complete else "yellow" if line.present == line.expected else "red"
        notes = []
        if line.changed:
            notes.append(f"{line.changed} changed")
        if line.extra:
            notes.append(f"{line.extra} extra")
        note = f"  [dim]{', '.join(notes)}[/]" if notes else ""
        say(f"[{style}]{escape(line.text())}[/]{note}")
    if result.cross_family:
        say(
            f"[dim]comparing {result.source_dialect} with {result.target_dialect}: "
            "engine, charset and collation are not compared[/]"
        )
    if result.is_empty:
        note = " (column order differs, see below)" if result.column_order else ""
        say(f"[green]identical[/]{note}")
    if result.missing_tables:
        say(f"\n[bold]missing tables[/] ({len(result.missing_tables)}):")
        _show_groups(result.missing_table_groups())
    if result.extra_tables:
        say(f"\n[bold]extra tables[/] ({len(result.extra_tables)}), not in SOURCE:")
        _show_groups(result.extra_table_groups())
    changed = result.table_changes()
    if changed:
        say(f"\n[bold]changed[/] ({len(changed)}):")
        for table, changes in changed.items():
            say(f"  {escape(table)}")
            for change in changes:
                mark = (
                    "+"
                    if change.kind.startswith("add")
                    else "-"
                    if change.kind.startswith("drop")
                    else "~"
                )
                colour = {"+": "green", "-": "red", "~": "yellow"}[mark]
                say(f"    [{colour}]{mark}[/] {escape(describe(change))}")
    if result.column_order:
        counted = "" if result.strict_order else " (not a difference without --strict-order)"
        say(f"\n[bold]column order[/] ({len(result.column_order)} tables){counted}:")
        for o in result.column_order:
            say(f"  {escape(o.table)}: SOURCE {escape(', '.join(o.source))}")
            say(f"  {' ' * len(o.table)}  TARGET {escape(', '.join(o.target))}")
    if not result.is_empty:
        total = len(result.changes) + (len(result.column_order) if result.strict_order else 0)
        say(f"\n{total} differences; `dbmedic diff --sql` prints the DDL that fixes TARGET")


def _show_groups(groups: list[TableGroup]) -> None:
    """Prefix groups one per line (``retell_*  12  retell_agents, ...``), then the single tables."""
    from rich.markup import escape

    shared = [g for g in groups if len(g.tables) > 1]
    single = [g.label for g in groups if len(g.tables) == 1]
    width = max((len(g.label) for g in shared), default=0)
    room = stdout.width - width - 10  # one line per group on a terminal
    for g in shared:
        names = _some(g.tables, room if stdout.is_terminal else None)
        say(f"  {escape(g.label.ljust(width))}  {len(g.tables):>4}  [dim]{escape(names)}[/]")
    if single:
        label = "other" if shared else "tables"
        stdout.print(f"  {label} ({len(single)}): {escape(', '.join(single))}")


# --- verify -----------------------------------------------------------------------------------


@app.command("verify")
def verify_cmd(
    url: UrlArg,
    reference: Annotated[
        str | None,
        typer.Option(
            "--reference",
            help="URL or snapshot file the database must match (read-only).",
            show_default=False,
        ),
    ] = None,
    expect_tables: Annotated[
        int | None,
        typer.Option(
            "--expect-tables", help="The exact number of tables expected.", show_default=False
        ),
    ] = None,
    critical: Annotated[
        str | None,
        typer.Option(
            "--critical", help="Comma-separated tables that must exist.", show_default=False
        ),
    ] = None,
    strict_order: StrictOrderOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Check a database: connection, table count, critical tables, parity with a reference.

    Exit 0 only when every check holds, 1 when a check fails (each failed check is listed), 2
    when the database or reference cannot be read. Never writes.
    """
    from dbmedic import api

    names = [n.strip() for n in (critical or "").split(",") if n.strip()]
    with guarded(), progress_callback(not as_json) as progress:
        verdict = api.verify(url, reference, expect_tables, names, strict_order, progress)
    if as_json:
        print_json(verdict.as_dict())
    else:
        show_verdict(verdict)
    if not verdict.connected:
        if not as_json:
            raise fail(verdict.failed[0].detail)
        raise typer.Exit(int(ExitCode.TROUBLE))
    raise typer.Exit(int(ExitCode.OK if verdict.in_sync else ExitCode.DIFFERENT))


def show_verdict(verdict: Verdict) -> None:
    """One line per check, then the verdict (``dbmedic verify``, demo)."""
    from rich.markup import escape

    for check in verdict.checks:
        mark = {"ok": "[green]✓[/]", "failed": "[red]✗[/]", "skipped": "[dim]-[/]"}[
            str(check.status)
        ]
        say(f"{mark} {check.name:<16} {escape(check.detail)}")
    if verdict.in_sync:
        say(f"[green]{escape(verdict.target)} passes all {len(verdict.checks)} checks[/]")
    else:
        say(
            f"[red]{len(verdict.failed)} of {len(verdict.checks)} checks failed[/] for {escape(verdict.target)}"
        )
