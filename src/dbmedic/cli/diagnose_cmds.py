"""Diagnose and lint commands."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dbmedic.cli.app import (
    EnvOpt,
    ExitCode,
    JsonOpt,
    app,
    escape,
    handled_errors,
    print_json,
    show_progress,
    stderr,
    stdout,
)
from dbmedic.cli.migration_cmds import AppOpt, DbOpt, FrameworkOpt

if TYPE_CHECKING:
    from dbmedic.diagnosis import Diagnosis, Lint

ReferenceOpt = Annotated[
    str | None,
    typer.Option(
        "--reference",
        help="Production to compare with: a database URL or a snapshot file; default: the "
        "--env's reference.",
    ),
]
CriticalOpt = Annotated[
    str | None,
    typer.Option(
        "--critical",
        help="Comma-separated tables that must exist (e.g. retell_agents,users); default: the "
        "--env's critical.",
    ),
]
ReportOpt = Annotated[
    Path | None,
    typer.Option(
        "--report", help="Also write a report: .md, .html or .json (by the file's suffix)."
    ),
]
NoRehearseOpt = Annotated[
    bool,
    typer.Option("--no-rehearse", help="Simulate only; create no shadow database."),
]


@contextmanager
def phase_spinner(enabled: bool) -> Iterator[Callable[[str, str], None] | None]:
    """A status line on stderr (terminal only) naming the phase being worked on."""
    if not enabled or not show_progress():
        yield None
        return
    with stderr.status("diagnosing") as status:

        def update(phase: str, message: str) -> None:
            status.update(f"{phase}: {escape(message)}")

        yield update


def _yesno(ok: bool | None) -> str:
    return {True: "[green]succeeds[/]", False: "[red]fails[/]", None: "[yellow]unknown[/]"}[ok]


def render_diagnosis(d: Diagnosis) -> None:
    """The terminal summary: every figure read from the Diagnosis."""
    from rich.table import Table

    out = stdout
    out.print(
        f"[bold]{escape(d.framework)}[/] app {escape(d.app)} on {escape(d.target)} ({d.dialect})"
    )
    counts = ", ".join(f"{n} {s}" for s, n in d.counts.items() if n)
    expected = f" of {d.expected_tables} expected" if d.expected_tables is not None else ""
    out.print(f"migrations: {d.total} ({counts}); tables: {d.tables}{expected}")
    if d.last_applied:
        out.print(f"last applied: {escape(d.last_applied.id)}")
    f = d.failing
    if f is None:
        out.print("[green]no migration fails[/]" + (" (nothing pending)" if d.healthy else ""))
    else:
        where = f" ({escape(f.file)}{':' + str(f.line) if f.line else ''})" if f.file else ""
        out.print(f"[bold red]fails at[/] {escape(f.migration.id)}{where}")
        out.print(
            f"  error: {escape(f.error)}  [dim]\\[{f.error_class.value}, {f.evidence.value}][/]"
        )
        if f.statement:
            out.print(f"  statement: {escape(f.statement)}")
    if d.cause:
        out.print(f"[bold]why:[/] {escape(d.cause.explanation)}")
    if d.blocked.count:
        out.print(
            f"[bold]blocked:[/] {d.blocked.count} migration(s), {len(d.blocked.tables)} table(s) never created"
        )
        for g in d.blocked.by_prefix[:8]:
            out.print(
                f"  {escape(g.key)}: {len(g.migrations)} migration(s), {len(g.tables)} table(s)"
            )
    if d.critical:
        t = Table("critical table", "state", "created by", box=None)
        for c in d.critical:
            style = "green" if c.present else "red"
            t.add_row(
                escape(c.table),
                f"[{style}]{escape(c.state)}[/]",
                escape(c.creator.migration if c.creator else "-"),
            )
        out.print(t)
    if d.parity:
        text = ", ".join(
            f"{p.kind} {p.present}/{p.expected} ({p.percent:.1f}%)"
            for p in d.parity.lines
            if p.expected or p.extra
        )
        out.print(f"[bold]parity[/] with {escape(d.parity.reference)}: {text}")
    for k in d.conflicts:
        out.print(
            f"[bold magenta]conflict:[/] {escape(k.object_kind)} {escape(k.object)} ({escape('; '.join(k.differences))})"
        )
    t = Table("repair", "outcome", "how known", "time", "why", box=None)
    for o in d.options:
        secs = f"{o.seconds:.1f} s" if o.seconds is not None else "-"
        t.add_row(
            o.strategy.value, _yesno(o.predicted_ok), o.evidence.value, secs, escape(o.reason)
        )
    out.print(t)
    if d.guard:
        out.print(f"[bold]guard[/] for {escape(d.guard.migration)} ({d.guard.language}):")
        out.print(escape(d.guard.snippet))
    if d.simulation.disagreement:
        out.print(f"[yellow]note:[/] {escape(d.simulation.disagreement)}")
    if d.shadow_note:
        out.print(f"[yellow]simulated only:[/] {escape(d.shadow_note)}")
    r = d.recommendation
    if r.strategy is not None:
        out.print(f"[bold green]recommended:[/] {r.strategy.value}: {escape(r.reason)}")
        out.print(f"  {escape(r.command)}")
    else:
        out.print(f"[bold]recommendation:[/] {escape(r.reason)}")


def _write_report(d: Diagnosis, path: Path) -> None:
    """Markdown, HTML or JSON by the file's suffix, written atomically (dbmedic.report)."""
    from dbmedic.report import write

    write(d, path)


@app.command("diagnose")
def diagnose_cmd(
    app_dir: AppOpt = None,
    db: DbOpt = None,
    reference: ReferenceOpt = None,
    critical: CriticalOpt = None,
    framework: FrameworkOpt = None,
    env: EnvOpt = None,
    report: ReportOpt = None,
    no_rehearse: NoRehearseOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Where the migrations stopped, why, what is blocked, and which repair will work.

    Reads DB only; rehearses on shadow databases that are always dropped. Exit 0 when
    healthy, 1 when something needs repair, 2 on bad input.
    """
    from dbmedic import api

    names = [c.strip() for c in (critical or "").split(",") if c.strip()]
    if report is not None:
        from dbmedic.report import format_for

        format_for(report)  # an unknown suffix is refused before any work
    with handled_errors():
        target = api.resolve_target(env, db, app_dir)
    with phase_spinner(not as_json) as progress:
        d = api.diagnose(
            target.app or Path("."), target.url, reference=reference or target.reference,
            critical=names or list(target.critical), framework=framework or target.framework,
            environment=target.framework_environment, rehearse=not no_rehearse,
            progress=progress,
        )  # fmt: skip
    if report is not None:
        _write_report(d, report)
    if as_json:
        print_json(d.to_dict())
    else:
        render_diagnosis(d)
    raise typer.Exit(int(ExitCode.OK if d.healthy else ExitCode.DIFFERENT))


def render_lint(result: Lint) -> None:
    from rich.table import Table

    t = Table("migration", "predicted", "idempotent", "error", box=None)
    for f in result.findings:
        t.add_row(
            escape(f.migration), _yesno(f.predicted_ok), "yes" if f.idempotent else "[yellow]no[/]",
            escape(f.error or ""),
        )  # fmt: skip
    stdout.print(t)
    bad = sum(1 for f in result.findings if f.predicted_ok is False)
    stdout.print(
        f"{len(result.findings)} pending migration(s), {bad} predicted to fail, "
        f"{len(result.non_idempotent)} not idempotent ({result.evidence.value})"
    )
    if result.guard:
        stdout.print(
            f"[bold]guard[/] for {escape(result.guard.migration)}:\n{escape(result.guard.snippet)}"
        )
    if result.shadow_note:
        stdout.print(f"[yellow]simulated only:[/] {escape(result.shadow_note)}")


@app.command("lint")
def lint_cmd(
    app_dir: AppOpt = None,
    db: DbOpt = None,
    framework: FrameworkOpt = None,
    env: EnvOpt = None,
    no_rehearse: NoRehearseOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Predict the outcome of every pending migration before it runs (for CI).

    Reads DB only. Exit 1 when a failure is predicted, 0 otherwise, 2 on bad input.
    """
    from dbmedic import api

    with handled_errors():
        target = api.resolve_target(env, db, app_dir)
    with phase_spinner(not as_json) as progress:
        result = api.lint(
            target.app or Path("."),
            target.url,
            framework=framework or target.framework,
            environment=target.framework_environment,
            rehearse=not no_rehearse,
            progress=progress,
        )
    if as_json:
        print_json(result.to_dict())
    else:
        render_lint(result)
    raise typer.Exit(int(ExitCode.DIFFERENT if result.failure_predicted else ExitCode.OK))
