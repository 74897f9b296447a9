"""A screening run as a PDF report (ReportLab, as finance's documents): who screened what
against which lists, with which scores, the counts by review status, and the matches best
first (at most :data:`MAX_ROWS`)."""

import io
from xml.sax.saxutils import escape

from django.db.models import Count, Q
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from valar.screening.models import Match, Run

#: The most matches the report's table lists (its counts cover them all).
MAX_ROWS = 1000
MATCH_HEADER = ["Subject", "Listed entry", "Score", "Status", "Reason"]


def _text(value) -> str:
    """User text made safe for ReportLab's markup (it parses ``<`` and ``&``)."""
    return escape(str(value or "")).replace("\n", "<br/>")


def _instant(value) -> str:
    """An instant to the minute, UTC; ``-`` when there is none."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def _facts(run: Run) -> list[list[str]]:
    """The run's header: its organization, id, scope, scores and dates."""
    subject = run.subject.get("name") if run.subject else ""
    rows = [
        ["Organization", run.organization.name],
        ["Run", str(run.pk)],
        ["Scope", run.get_scope_display() + (f": {subject}" if subject else "")],
        ["Trigger", run.trigger],
        ["Status", run.status],
        ["Threshold", str(run.threshold)],
        ["Cutoff", str(run.cutoff)],
        ["Started", _instant(run.created_at)],
        ["Finished", _instant(run.finished_at)],
        ["Subjects screened", str(run.subject_count)],
    ]
    if run.document_id:
        rows.append(["List", run.document.name])
    return rows


def counts(run: Run) -> dict:
    """The run's matches: total, past the threshold, and per review status (one query)."""
    return Match.objects.filter(run=run).aggregate(
        total=Count("pk"),
        past_threshold=Count("pk", filter=Q(is_match=True)),
        **{status: Count("pk", filter=Q(status=status)) for status in Match.Status.values},
    )


def render(run: Run) -> tuple[bytes, dict]:
    """The run's report as PDF bytes, and its counts."""
    styles = getSampleStyleSheet()
    small = styles["BodyText"]
    figures = counts(run)
    matches = (
        Match.objects.filter(run=run)
        .order_by("-score", "created_at", "pk")
        .values_list("subject_name", "entry__name", "score", "status", "reason")[:MAX_ROWS]
    )
    lines = [MATCH_HEADER] + [
        [
            Paragraph(_text(subject), small),
            Paragraph(_text(entry), small),
            str(score),
            status,
            Paragraph(_text(reason), small),
        ]
        for subject, entry, score, status, reason in matches.iterator(chunk_size=500)
    ]
    buffer = io.BytesIO()
    title = f"Screening report: run {run.pk}"
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        author=run.organization.name,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
    )
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )
    count_rows = [
        ["Matches", str(figures["total"])],
        ["Past the threshold", str(figures["past_threshold"])],
        *[[status.capitalize(), str(figures[status])] for status in Match.Status.values],
    ]
    shown = min(figures["total"], MAX_ROWS)
    story = [
        Paragraph(_text(title), styles["Title"]),
        Table(
            [[Paragraph(_text(k), small), Paragraph(_text(v), small)] for k, v in _facts(run)],
            colWidths=[45 * mm, 135 * mm],
            hAlign="LEFT",
        ),
        Spacer(1, 5 * mm),
        Table(count_rows, hAlign="LEFT", style=grid),
        Spacer(1, 5 * mm),
        Paragraph(f"<b>Matches, best first</b> ({shown} of {figures['total']})", small),
        Spacer(1, 2 * mm),
    ]
    if len(lines) > 1:
        story.append(
            Table(
                lines,
                colWidths=[45 * mm, 45 * mm, 18 * mm, 22 * mm, 50 * mm],
                style=grid,
                repeatRows=1,
            )
        )
    else:
        story.append(Paragraph("The run found no match.", small))
    pdf.build(story)
    return buffer.getvalue(), figures
