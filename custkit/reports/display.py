"""Presentation helpers for report notebooks: header, findings, tables, KPI cards, figures.

Each ``show_*`` function displays HTML through :func:`IPython.display.display`; the matching
``*_html`` function returns that HTML so it can be tested without a kernel. Every string that
comes from data or params is escaped. Tables pass :func:`pii_guard` first: a report page must never
carry personal data (customer lists go to ``ctx.export``).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from custkit.errors import ReportError
from custkit.findings import Finding

# number formatting lives in the core layer (custkit.formatting); re-exported for notebooks
from custkit.formatting import MINUS as MINUS
from custkit.formatting import format_change as format_change
from custkit.formatting import format_count as format_count
from custkit.formatting import format_days as format_days
from custkit.formatting import format_kpi as format_kpi
from custkit.formatting import format_money as format_money
from custkit.formatting import format_share as format_share
from custkit.formatting import is_missing as _missing
from custkit.formatting import signed as signed
from custkit.i18n import (
    _,
    format_date,
    format_day,
    format_message,
    format_value,
    n_,
)
from custkit.reports.privacy import ContactDigests, current_digests, describe_kinds

if TYPE_CHECKING:
    from custkit.reports.context import ReportContext

GREEN, RED, GREY = "#2e7d32", "#c62828", "#666666"
_LEVEL_COLOURS = {  # border, background
    "good": ("#2e7d32", "#edf7ee"),
    "info": ("#1565c0", "#eef4fb"),
    "warning": ("#ef6c00", "#fff5e6"),
    "bad": ("#c62828", "#fdecec"),
}
_FONT = "font-family: -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif;"

# --- personal data -------------------------------------------------------------------------------

_PII_NAMES = frozenset(
    {
        "name",
        "first_name",
        "last_name",
        "middle_name",
        "full_name",
        "customer_name",
        "surname",
        "fio",
        "фио",
        "имя",
        "фамилия",
        "birth_date",
        "date_of_birth",
        "dob",
        "address",
        "street",
    }
)
_PII_WORDS = frozenset(
    {"email", "phone", "mobile", "telephone", "birthday", "birthdate", "passport", "телефон"}
)


def _pii_names() -> frozenset[str]:
    from custkit.contract import TABLES

    return _PII_NAMES | {name for table in TABLES.values() for name in table.pii}


def is_pii_column(name: object) -> bool:
    """True when a column name looks like personal data (``email``, ``customer_phone``…)."""
    norm = re.sub(r"[\W_]+", "_", str(name).lower()).strip("_")
    tokens = set(norm.split("_"))
    return norm in _pii_names() or bool(tokens & _PII_WORDS) or "e_mail" in norm


def pii_guard(frame: pd.DataFrame, what: str = "This table") -> pd.DataFrame:
    """Return *frame* unchanged, or raise if it holds personal data.

    Checks column and index names (see :func:`is_pii_column`) and text values: for the store's
    e-mails, phones and names once ``start_report`` ran in this kernel
    (:mod:`custkit.reports.privacy`), else for anything that looks like an e-mail address.

    Raises
    ------
    ReportError
        Names the offending column and says where personal data belongs instead.
    """
    names = [*map(str, frame.columns), *(str(n) for n in frame.index.names if n is not None)]
    for name in names:
        if is_pii_column(name):
            raise ReportError(
                f"{what} has a column '{name}' that holds personal data; report pages must not "
                "show personal data. Drop the column before showing the table, and send customer "
                "lists to ctx.export(frame, name) instead."
            )
    # the store's own contact values once start_report recorded them (an experiment called
    # checkout@v2.test is not a customer's e-mail); before that, anything e-mail-like
    digests = current_digests()
    if digests is None:
        digests = ContactDigests.empty(complete=False)
    sample = frame.head(1000)
    for column in sample.columns:
        values = sample[column]
        if values.dtype == object or isinstance(
            values.dtype, (pd.StringDtype, pd.CategoricalDtype)
        ):
            found = digests.find_in(values.dropna().astype(str).unique())
            if found:
                whose = "" if not digests.complete else " of the store's customers"
                raise ReportError(
                    f"{what} has {describe_kinds(found)}{whose} in column '{column}'; report "
                    "pages must not show personal data. Send customer lists to "
                    "ctx.export(frame, name) instead."
                )
    return frame


# --- formatting ----------------------------------------------------------------------------------


_ACRONYMS = {
    "auc": "AUC",
    "roc": "ROC",
    "pr": "PR",
    "clv": "CLV",
    "ltv": "LTV",
    "mae": "MAE",
    "rmse": "RMSE",
    "rfm": "RFM",
    "kpi": "KPI",
    "p(alive)": "P(alive)",
    "srm": "SRM",
    "aov": "AOV",
    "cuped": "CUPED",
}


def humanize(name: object) -> str:
    """``repeat_customer_rate`` → ``Repeat customer rate``, ``clv_12m_total`` → ``CLV 12
    months total``; other labels are kept as written. The label is then translated into the
    report language when the catalogue knows it (``Доля повторных покупателей``)."""
    text = str(name)
    if re.fullmatch(r"[a-z0-9_]+", text):
        text = re.sub(r"(^|_)p_alive($|_)", r"\1p(alive)\2", text)  # the models' P(alive)
        words = [_ACRONYMS.get(w, w) for w in text.split("_") if w]
        words = [re.sub(r"^(\d+)m$", r"\1 months", w) for w in words]
        text = " ".join(words)
        text = text[:1].upper() + text[1:]
    return _(text)


_SHARE_RE = re.compile(r"(^|_)(share|rate|ratio|pct_of|p_alive)($|_)")
_PERCENT_RE = re.compile(r"(^|_)pct$")  # already in per cent: total_error_pct = 15.5


def _column_formatter(name: str, values: pd.Series, spec: Any) -> Callable[[Any], str]:
    if callable(spec):
        return lambda v: "—" if _missing(v) else str(spec(v))
    if isinstance(spec, str) and "{" in spec:
        return lambda v: "—" if _missing(v) else signed(format_message(spec, v))
    kind = spec
    if kind is None:
        if pd.api.types.is_bool_dtype(values):
            kind = "text"
        elif pd.api.types.is_numeric_dtype(values):
            lowered = name.lower()
            if _PERCENT_RE.search(lowered):
                kind = "percent"
            else:
                kind = "share" if _SHARE_RE.search(lowered) else "number"
        elif pd.api.types.is_datetime64_any_dtype(values):
            kind = "date"
        else:
            kind = "text"
    if kind == "share":
        return format_share
    if kind == "percent":
        return lambda v: "—" if _missing(v) else signed(format_value(v, ".1f") + "%")
    if kind in ("count", "money"):
        return format_count if kind == "count" else format_money
    if kind == "number":
        numbers = pd.to_numeric(values, errors="coerce").dropna()
        integral = numbers.empty or bool((numbers == numbers.round()).all())
        big = not numbers.empty and numbers.abs().max() >= 1000
        return format_count if integral or big else lambda v: format_money(v)
    if kind == "date":

        def date(v: Any) -> str:
            if _missing(v):
                return "—"
            stamp = pd.Timestamp(v)
            day = format_day(stamp)  # "14 окт. 2026" in Russian, never wrapped
            return day if stamp == stamp.normalize() else f"{day}\u00a0{stamp:%H:%M}"

        return date
    # custkit's own labels in a table (a tier, a verdict) are translated; a store's data is not
    # in the catalogue and stays as written
    return lambda v: "—" if _missing(v) else _(str(v))


# --- HTML builders -------------------------------------------------------------------------------


_ISO_DAY_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ \u00a0]\d{2}:\d{2})?")


def _dates_whole(cell: str) -> str:
    """*cell* (escaped HTML) with each ISO date kept on one line: a narrow column would break
    ``2026-12-14`` at its hyphens ("judge on 2026-12-14" in a table's text cell)."""
    return _ISO_DAY_TEXT.sub(
        lambda m: f'<span style="white-space: nowrap">{m.group(0)}</span>', cell
    )


def table_html(
    frame: pd.DataFrame,
    caption: str | None = None,
    max_rows: int = 25,
    formats: Mapping[str, Any] | None = None,
) -> str:
    """HTML of *frame*: humanized headers, thousands separators, shares as percentages.

    ``formats`` maps a column to ``"count"``, ``"money"``, ``"share"`` (0.25 → 25.0%),
    ``"percent"`` (25 → 25.0%), ``"number"``, ``"date"``, ``"text"``, a format string
    (``"{:.1f}"``) or a function. Without one, a column is told by its name (``…_share``,
    ``…_rate``, ``p_alive…`` are shares; ``…_pct`` per cent) and its values.
    """
    pii_guard(frame)
    shown = frame
    if not (isinstance(frame.index, pd.RangeIndex) and frame.index.name is None):
        shown = frame.reset_index()
    if isinstance(shown.columns, pd.MultiIndex):
        shown = shown.set_axis([" ".join(map(str, c)).strip() for c in shown.columns], axis=1)
    total = len(shown)
    shown = shown.head(max_rows)
    formats = dict(formats or {})
    formatters = {c: _column_formatter(str(c), shown[c], formats.get(c)) for c in shown.columns}
    numeric = {c for c in shown.columns if pd.api.types.is_numeric_dtype(shown[c])}
    cell = "padding: 4px 10px; border-bottom: 1px solid #e0e0e0;"
    head = "".join(
        f'<th style="{cell} text-align: {"right" if c in numeric else "left"};">'
        f"{html.escape(humanize(c))}</th>"
        for c in shown.columns
    )
    rows = []
    for record in shown.itertuples(index=False):
        cells = "".join(
            f'<td style="{cell} text-align: {"right" if c in numeric else "left"};">'
            f"{_dates_whole(html.escape(formatters[c](value)))}</td>"
            for c, value in zip(shown.columns, record, strict=True)
        )
        rows.append(f"<tr>{cells}</tr>")
    caption_html = (
        f'<caption style="caption-side: top; text-align: left; font-weight: 600; '
        f'padding: 4px 0;">{html.escape(caption)}</caption>'
        if caption
        else ""
    )
    note = ""
    if total > max_rows:
        shown_rows = n_(
            "Showing the first {shown:,} of {n:,} row.",
            "Showing the first {shown:,} of {n:,} rows.",
            total,
            shown=max_rows,
        )
        note = f'<p style="color: {GREY}; font-size: 0.85em;">{html.escape(shown_rows)}</p>'

    return (
        f'<table style="border-collapse: collapse; margin: 8px 0; {_FONT}">{caption_html}'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{note}"
    )


def finding_html(finding: Finding) -> str:
    """A box coloured by ``finding.level``: title, the conclusion in bold, what to do."""
    border, background = _LEVEL_COLOURS.get(finding.level, _LEVEL_COLOURS["info"])
    action = _("What to do: {action}", action=finding.action)
    return (
        f'<div style="border-left: 6px solid {border}; background: {background}; '
        f'padding: 10px 14px; margin: 10px 0; {_FONT}">'
        f'<div style="color: {border}; font-size: 0.85em; font-weight: 600; '
        f'text-transform: uppercase;">{html.escape(finding.title)}</div>'
        f'<p style="margin: 6px 0;"><b>{html.escape(finding.conclusion)}</b></p>'
        f'<p style="margin: 6px 0;">'
        f"{html.escape(action)}</p></div>"
    )


def banner_html(text: str) -> str:
    """A red warning strip (e.g. a split test's sample-ratio mismatch on each of its metrics);
    ``""`` for an empty *text*, so a notebook can show it unconditionally."""
    if not text:
        return ""
    red = _LEVEL_COLOURS["bad"][0]
    return (
        f'<div style="background: {red}; color: white; font-weight: 600; padding: 6px 12px; '
        f'margin: 8px 0; border-radius: 3px; {_FONT}">&#9888; {html.escape(text)}</div>'
    )


def line_html(text: str, level: str | None = None) -> str:
    """One line of plain words for managers, escaped: with a *level*, marked by a thin bar
    coloured as a finding's (what is wrong with, or when to judge, something a page folds away,
    e.g. a broken or too early split test); without, a plain sentence that needs no box (e.g. the
    model behind a forecast and how far to trust it). ``""`` for an empty *text*."""
    if not text:
        return ""
    if level is None:
        return f'<p style="margin: 8px 0; {_FONT}">{html.escape(text)}</p>'
    border, background = _LEVEL_COLOURS.get(level, _LEVEL_COLOURS["info"])
    return (
        f'<p style="border-left: 4px solid {border}; background: {background}; '
        f'padding: 4px 10px; margin: 6px 0; {_FONT}">{html.escape(text)}</p>'
    )


def heading_html(text: str, level: int = 2) -> str:
    """A section heading from data (e.g. one per split test), escaped."""
    level = min(max(int(level), 1), 6)
    return f"<h{level}>{html.escape(text)}</h{level}>"


_KPI_COLUMNS = ("kpi", "label", "value", "unit")


def kpis_html(frame: pd.DataFrame, currency: str = "") -> str:
    """KPI cards: value, change vs the previous month and vs the same month last year.

    *frame* has columns ``kpi, label, value, previous_month, change_vs_previous_month,
    same_month_last_year, change_vs_last_year, unit`` (unit ∈ count, money, share). A change is
    relative for counts and money (0.042 → +4.2%) and a difference for shares (−0.013 →
    −1.3 pp); missing change columns are computed from the values. An optional
    ``higher_is_better`` column decides green or red (default: true, false for churn/lapsed/lost).
    """
    missing = [c for c in _KPI_COLUMNS if c not in frame.columns]
    if missing:
        raise ReportError(f"KPI table is missing column(s) {', '.join(missing)}.")
    cards = []
    for row in frame.to_dict("records"):
        unit = str(row["unit"])
        value = row["value"]
        value_text = format_kpi(value, unit, currency)
        better = row.get("higher_is_better")
        if _missing(better):
            better = higher_is_better(str(row["kpi"])) is not False
        lines = []
        for base, change, words in (
            ("previous_month", "change_vs_previous_month", _("vs previous month")),
            ("same_month_last_year", "change_vs_last_year", _("vs same month last year")),
        ):
            delta = row.get(change)
            if _missing(delta):
                delta = _change(value, row.get(base), unit)
            lines.append(_change_line(delta, unit, bool(better), words))
        cards.append(
            '<div style="border: 1px solid #e0e0e0; border-radius: 6px; padding: 10px 14px; '
            'min-width: 170px; flex: 1 1 170px;">'
            f'<div style="color: {GREY}; font-size: 0.85em;">{html.escape(str(row["label"]))}</div>'
            f'<div style="font-size: 1.6em; font-weight: 600; margin: 4px 0;">'
            f"{html.escape(value_text)}</div>{''.join(lines)}</div>"
        )
    return f'<div style="display: flex; flex-wrap: wrap; gap: 10px; {_FONT}">{"".join(cards)}</div>'


_LOWER_IS_BETTER_RE = re.compile(r"churn|lapsed|lost|at_risk|srm_alert|(^|_)(mae|rmse)($|_)")


def higher_is_better(kpi: str) -> bool | None:
    """Whether a rise of *kpi* is good news: False for churn, lapsed, lost, at-risk figures and
    model errors; None (neither) for a member of a breakdown such as ``reason_shares.forgot``;
    True otherwise."""
    if "." in kpi:
        return None
    return not _LOWER_IS_BETTER_RE.search(kpi)


def kpi_history_html(
    frame: pd.DataFrame, currency: str = "", period: str | None = None, collapsed: bool = False
) -> str:
    """A small table of this month's KPIs against earlier reports: value, the previous month's
    value and the change, the same month last year's value and the change ("—" where no
    earlier report holds the KPI).

    *frame* has the columns of :func:`custkit.reports.history.kpi_history_comparison`; *period*
    (``"YYYY-MM"``) names the months in the headings. *collapsed* folds the table under a
    one-line summary, for a report that already shows the same changes computed afresh.
    """
    from custkit.reports.history import COMPARISON_COLUMNS

    missing = [c for c in COMPARISON_COLUMNS if c not in frame.columns]
    if missing:
        raise ReportError(f"KPI history table is missing column(s) {', '.join(missing)}.")
    if period:
        month = pd.Period(period, freq="M")
        now, before, year_ago = (
            format_date(m.to_timestamp(), "%B %Y") for m in (month, month - 1, month - 12)
        )
        headings = [capitalized(m) for m in (now, before, year_ago)]
    else:
        now, before, year_ago = _("This month"), _("Previous month"), _("Same month last year")
        headings = [now, before, year_ago]
    cell = "padding: 4px 10px; border-bottom: 1px solid #e0e0e0;"
    right = f"{cell} text-align: right;"
    head = "".join(
        f'<th style="{cell} text-align: {align};">{html.escape(text)}</th>'
        for text, align in (
            ("", "left"),
            (headings[0], "right"),
            (headings[1], "right"),
            (_("Change"), "right"),
            (headings[2], "right"),
            (_("Change"), "right"),
        )
    )
    rows = []
    for row in frame.to_dict("records"):
        unit = str(row["unit"])
        better = higher_is_better(str(row["kpi"]))
        cells = [
            f'<td style="{cell} text-align: left;">{html.escape(str(row["label"]))}</td>',
            f'<td style="{right} font-weight: 600;">'
            f"{html.escape(_format_value(row['value'], unit, currency))}</td>",
        ]
        for base, change in (
            ("previous_month", "change_vs_previous_month"),
            ("same_month_last_year", "change_vs_last_year"),
        ):
            delta = row[change]
            text = format_change(delta, unit)
            colour = "inherit"
            if text != "—" and delta != 0 and better is not None:
                colour = GREEN if (delta > 0) == better else RED
            cells.append(
                f'<td style="{right} color: {GREY};">'
                f"{html.escape(_format_value(row[base], unit, currency))}</td>"
            )
            cells.append(f'<td style="{right} color: {colour};">{html.escape(text)}</td>')
        rows.append(f"<tr>{''.join(cells)}</tr>")
    no_history = frame[["previous_month", "same_month_last_year"]].isna().all().all()
    if no_history:
        note = (
            _(
                "No earlier report of this store in this output folder for {before} or "
                "{year_ago} yet; the changes appear once those months have been reported.",
                before=before,
                year_ago=year_ago,
            )
            if period
            else _("No earlier report of this store in this output folder yet.")
        )
    else:
        note = _(
            "The earlier figures are those published in the earlier reports of this output "
            "folder; — : that month was not reported. Shares change in percentage points."
        )
    title = html.escape(_("Against earlier reports"))
    months = (
        _("the figures as published for {before} and {year_ago}", before=before, year_ago=year_ago)
        if period
        else _("the figures as published for the previous month and a year earlier")
    )
    table = (
        f'<table style="border-collapse: collapse;"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        f'<p style="color: {GREY}; font-size: 0.85em; margin: 4px 0;">{html.escape(note)}</p>'
    )
    if collapsed:
        return (
            f'<details style="margin: 10px 0; {_FONT}"><summary style="cursor: pointer;">'
            f"<b>{title}</b>: {html.escape(months)}</summary>"
            f"{table}</details>"
        )
    return (
        f'<div style="margin: 10px 0; {_FONT}">'
        f'<div style="font-weight: 600; padding: 4px 0;">{title}</div>{table}</div>'
    )


def _format_value(value: Any, unit: str, currency: str = "") -> str:
    return format_kpi(value, unit, currency)


def _change(value: Any, base: Any, unit: str) -> float | None:
    if _missing(value) or _missing(base):
        return None
    if unit in ("share", "percent", "score"):
        return value - base
    return None if base == 0 else value / base - 1


def _change_line(delta: Any, unit: str, higher_is_better: bool, words: str) -> str:
    text = format_change(delta, unit)
    colour = GREY
    if text != "—" and delta != 0:
        colour = GREEN if (delta > 0) == higher_is_better else RED
    return (
        f'<div style="font-size: 0.85em;"><span style="color: {colour}; font-weight: 600;">'
        f"{html.escape(text)}</span> {html.escape(words)}</div>"
    )


def header_html(ctx: ReportContext, run_date: dt.datetime | None = None) -> str:
    """Report header: store, title, period and as-of date, data accounting, the sections skipped
    for lack of data (one line each), version, run date.

    A month reported before it is over (``--partial``) says so: "month not over: data through
    <the last day of data>".
    """
    import custkit

    period, store = ctx.period, ctx.store
    as_of = period.as_of
    run_date = run_date or dt.datetime.now()
    rows = []
    for table, acc in store.accounting.items():
        reasons = sorted(acc.reasons.items(), key=lambda kv: -kv[1])[:3]
        reason_text = ", ".join(
            f"{rejection_reason_label(r)} ({format_value(n, ',')})" for r, n in reasons
        )
        notes = list(acc.notes)  # written in the report language by the data checks
        if table == "orders":
            after = _orders_after(store.orders, period.end)
            if after:
                notes.append(
                    _(
                        "{n:,} orders dated after {as_of:%Y-%m-%d} are outside this report.",
                        n=after,
                        as_of=as_of,
                    )
                )
            not_bought = _orders_not_purchases(store.orders)
            if not_bought:
                notes.append(
                    _(
                        "{n:,} cancelled or returned orders are not counted as purchases.",
                        n=not_bought,
                    )
                )
        rows.append(
            "<tr>"
            + "".join(
                f'<td style="padding: 2px 10px; {align}">{html.escape(text)}</td>'
                for text, align in (
                    (table_label(table), ""),
                    (format_value(acc.read, ","), "text-align: right;"),
                    (format_value(acc.accepted, ","), "text-align: right;"),
                    (format_value(acc.rejected, ","), "text-align: right;"),
                    (reason_text or "—", ""),
                    (" ".join(notes) or "—", ""),
                )
            )
            + "</tr>"
        )
    head = "".join(
        f'<th style="padding: 2px 10px; text-align: left;">{html.escape(h)}</th>'
        for h in (
            _("Table"),
            _("Rows read"),
            _("Accepted"),
            _("Rejected"),
            _("Main reasons"),
            _("Notes"),
        )
    )
    store_name = getattr(ctx.params, "store_name", None) or store.name
    title = getattr(ctx, "title", "") or humanize(ctx.report)
    month = capitalized(format_date(as_of, "%B %Y"))
    data_as_of = _("data as of {as_of:%-d %B %Y}", as_of=as_of)
    if not getattr(period, "complete", True):
        data_as_of = _("month not over: data through {as_of:%-d %B %Y}", as_of=as_of)
    data_used = _("Data used: {tables}", tables=_accepted_summary(store.accounting))
    quarantine = _(
        "Rejected rows are listed with their reasons in the quarantine folder next to this report."
    )
    generated = _("generated {when:%Y-%m-%d %H:%M}", when=run_date)
    return (
        f'<div class="custkit-header" style="{_FONT} border-bottom: 2px solid #333; '
        'padding-bottom: 8px; margin-bottom: 12px;">'
        f'<div style="color: {GREY};">{html.escape(str(store_name))}</div>'
        f'<h1 style="margin: 4px 0;">{html.escape(title)}</h1>'
        f'<div style="font-size: 1.1em;">{html.escape(month)} · {html.escape(data_as_of)}</div>'
        f'<details style="margin-top: 8px;"><summary>{html.escape(data_used)}</summary>'
        f'<table style="border-collapse: collapse; font-size: 0.9em;"><thead><tr>{head}</tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table>"
        f"<p style='font-size: 0.85em;'>{html.escape(quarantine)}</p></details>"
        f"{skipped_html(list(getattr(ctx, 'skipped', {}).values()))}"
        f'<div style="color: {GREY}; font-size: 0.8em; margin-top: 6px;">custkit '
        f"{html.escape(custkit.__version__)} · {html.escape(generated)}</div></div>"
    )


def skipped_html(lines: Sequence[str]) -> str:
    """The header's list of skipped sections, one line each; ``""`` when nothing is skipped."""
    if not lines:
        return ""
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    heading = html.escape(_("Sections skipped for lack of data:"))
    return (
        '<div class="custkit-skipped" style="margin-top: 8px; color: #666666;">'
        f'{heading}<ul style="margin: 2px 0;">{items}</ul></div>'
    )


def skipped_line_html(line: str) -> str:
    """One skipped section, shown where the section would have been."""
    return f'<p class="custkit-skipped-here" style="color: #666666;">{html.escape(line)}</p>'


#: The tables of a store as the header names them (translated when shown).
_TABLE_LABELS = {
    "orders": "orders",
    "customers": "customers",
    "feedback": "feedback",
    "messages": "messages",
    "experiments": "experiments",
}


def table_label(table: str) -> str:
    """A store table's name in the report language (``orders`` → ``заказы``); the name of a
    table custkit does not know is shown as written."""
    return _(_TABLE_LABELS[table]) if table in _TABLE_LABELS else table


def rejection_reason_label(code: str) -> str:
    """A rejection reason code of :data:`custkit.data.validate.REASONS` in words, in the report
    language (``unparseable_date`` → ``unparseable date``)."""
    return _(code.replace("_", " "))


def capitalized(text: str) -> str:
    """*text* with a capital first letter: a month name that starts a line or a heading
    (Russian writes month names in lower case: ``октябрь 2026`` → ``Октябрь 2026``)."""
    return text[:1].upper() + text[1:]


def _orders_after(orders: pd.DataFrame | None, end: pd.Timestamp) -> int:
    if orders is None or "order_date" not in orders:
        return 0
    return int((orders["order_date"] >= end).sum())


def _orders_not_purchases(orders: pd.DataFrame | None) -> int:
    from custkit.contract import NON_PURCHASE_STATUSES

    if orders is None or "status" not in orders:
        return 0
    status = orders["status"].astype("category")
    dropped = status.cat.categories.astype(str).str.strip().str.lower().isin(NON_PURCHASE_STATUSES)
    return int(dropped[status.cat.codes[status.cat.codes >= 0]].sum())


def _accepted_summary(accounting: Mapping[str, Any]) -> str:
    """``3 of 5 orders rows accepted; …`` (plain text: the caller escapes it)."""
    parts = [
        n_(
            "{accepted:,} of {n:,} {table} row accepted",
            "{accepted:,} of {n:,} {table} rows accepted",
            acc.read,
            accepted=acc.accepted,
            table=table_label(table),
        )
        for table, acc in accounting.items()
    ]
    return "; ".join(parts) or _("no tables")


# --- notebook entry points -----------------------------------------------------------------------


def _display_html(text: str) -> None:
    from IPython.display import HTML, display

    display(HTML(text))


def show_header(ctx: ReportContext) -> None:
    """Display the report header (see :func:`header_html`)."""
    _display_html(header_html(ctx))


def show_finding(finding: Finding) -> None:
    """Display a finding as a coloured box (see :func:`finding_html`)."""
    _display_html(finding_html(finding))


class reserve_finding:  # called like the show_* helpers it stands beside
    """A place for a finding that is computed further down the page.

    A page opens with its answer, but the answer adds up sections below it (the churn page's
    win-back plan). ``answer = reserve_finding()`` holds the place (nothing visible);
    ``answer.show(finding)`` in a later cell fills it: the kernel updates that first output
    (an IPython display id), and the executed notebook keeps the finding where it was reserved.
    """

    def __init__(self) -> None:
        from IPython.display import HTML, display

        self._handle = display(HTML(""), display_id=True)

    def show(self, finding: Finding) -> None:
        """Fill the reserved place with *finding* (see :func:`finding_html`)."""
        from IPython.display import HTML

        self._handle.update(HTML(finding_html(finding)))


def show_table(
    frame: pd.DataFrame,
    caption: str | None = None,
    max_rows: int = 25,
    formats: Mapping[str, Any] | None = None,
) -> None:
    """Display *frame* as a readable table (see :func:`table_html`); refuses personal data."""
    _display_html(table_html(frame, caption, max_rows, formats))


def show_banner(text: str) -> None:
    """Display a red warning strip (see :func:`banner_html`); nothing for an empty *text*."""
    if text:
        _display_html(banner_html(text))


def show_line(text: str, level: str | None = None) -> None:
    """Display one line of plain words (see :func:`line_html`); nothing for an empty *text*."""
    if text:
        _display_html(line_html(text, level))


def show_heading(text: str, level: int = 2) -> None:
    """Display a section heading (see :func:`heading_html`)."""
    _display_html(heading_html(text, level))


def show_kpis(frame: pd.DataFrame, currency: str = "") -> None:
    """Display KPI cards (see :func:`kpis_html`)."""
    _display_html(kpis_html(frame, currency))


def show_kpi_history(
    ctx: ReportContext,
    kpis: Mapping[str, Any] | None = None,
    names: Sequence[str] | None = None,
    collapsed: bool = False,
) -> None:
    """Display this run's KPIs against last month's and the same month last year's reports.

    Call it after ``ctx.save_kpis(...)``: by default it compares the KPIs just saved. See
    :meth:`~custkit.reports.context.ReportContext.history_comparison` (*kpis*, *names*) and
    :func:`kpi_history_html` (*collapsed*).
    """
    frame = ctx.history_comparison(kpis, names)
    currency = str(getattr(ctx.params, "currency", "") or "")
    _display_html(kpi_history_html(frame, currency, ctx.period.period, collapsed))


def show_figure(fig: Any) -> None:
    """Display a matplotlib figure as an embedded PNG and close it.

    The PNG is rendered here rather than left to the kernel's matplotlib backend, so figures
    appear in the HTML report whatever backend the kernel runs with, and are not drawn twice.
    """
    import io

    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    buffer = io.BytesIO()
    # figures use the constrained layout; bbox_inches="tight" would draw each one twice
    fig.savefig(buffer, format="png", dpi=110)
    texts = figure_texts(fig)
    plt.close(fig)
    # the words drawn into the picture ride along in the output's metadata (not on the page), so
    # a test can check a Russian report has no English left inside its figures either
    display(Image(data=buffer.getvalue(), format="png"), metadata={"custkit": {"texts": texts}})


def figure_texts(fig: Any) -> list[str]:
    """Every visible text of a drawn figure: titles, axis labels, tick labels, legends, notes."""
    from matplotlib.text import Text

    found = []
    for artist in fig.findobj(Text):
        text = artist.get_text().strip()
        if text and artist.get_visible() and (artist.axes is None or artist.axes.get_visible()):
            found.append(text)
    return list(dict.fromkeys(found))


def details_html(summary: str, parts: Sequence[str], *, open_: bool = False) -> str:
    """A block folded under a one-line *summary* (``<details>``), holding the HTML *parts*.

    The summary is plain text (escaped); the parts are HTML already built by the ``*_html``
    functions (tables, findings, figures as ``<img>``). A page's height counts only the summary
    line until the reader opens the block.
    """
    opened = " open" if open_ else ""
    return (
        f'<details class="ck-details" style="margin: 10px 0; {_FONT}"{opened}>'
        f'<summary style="cursor: pointer; color: {GREY};">{html.escape(summary)}</summary>'
        f'<div style="padding-left: 12px;">{"".join(parts)}</div></details>'
    )


def _output_html(output: Any) -> tuple[str, list[str]]:
    """One captured display output as HTML, with the figure texts it carried."""
    import base64

    data, metadata = output.data, output.metadata or {}
    texts = list((metadata.get("custkit") or {}).get("texts", []))
    if "text/html" in data:
        return str(data["text/html"]), texts
    if "image/png" in data:
        png = data["image/png"]
        if isinstance(png, bytes):
            png = base64.b64encode(png).decode("ascii")
        return f'<img src="data:image/png;base64,{png}" style="max-width: 100%;">', texts
    if "text/plain" in data:
        return f"<pre>{html.escape(str(data['text/plain']))}</pre>", texts
    return "", texts


class for_analysts:
    """Fold everything the block displays under one line for analysts.

    ``with for_analysts(tr("Model fits, holdout errors and intervals")): show_table(...)``
    shows the tables, findings and figures displayed inside the block as one collapsed
    ``<details>`` headed "For analysts: <summary>". Pages stay short for a manager; nothing is
    dropped. Figures keep the words drawn into them in the output's metadata, as
    :func:`show_figure` leaves them. Nothing is shown for a block that displayed nothing.
    """

    def __init__(self, summary: str = "") -> None:
        self.summary = summary

    def __enter__(self) -> for_analysts:
        from IPython.utils.capture import capture_output

        self._capture = capture_output(stdout=False, stderr=False, display=True)
        self._captured = self._capture.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._capture.__exit__(*exc)
        if exc[0] is not None:
            return
        parts, texts = [], []
        for output in self._captured.outputs:
            part, drawn = _output_html(output)
            parts.append(part)
            texts.extend(drawn)
        if not any(parts):
            return
        label = _("For analysts")
        summary = f"{label}: {self.summary}" if self.summary else label
        from IPython.display import HTML, display

        display(HTML(details_html(summary, parts)), metadata={"custkit": {"texts": texts}})
