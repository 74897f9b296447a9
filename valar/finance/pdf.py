"""Documents as PDF (ReportLab): the organization's details, the customer, the lines and
exactly the totals the API shows (the stored figures, printed as they are, never recomputed)."""

import io
from decimal import Decimal
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from valar.finance.models import Document

TITLES = {
    Document.Type.QUOTE: "Quote",
    Document.Type.INVOICE: "Invoice",
    Document.Type.CREDIT_NOTE: "Credit note",
}
LINE_HEADER = ["Description", "Quantity", "Unit price", "Discount %", "Tax %", "Total"]


def _text(value) -> str:
    """User text made safe for ReportLab's markup (it parses ``<`` and ``&``)."""
    return escape(str(value or "")).replace("\n", "<br/>")


def _money(value: Decimal) -> str:
    """An amount as the API writes it: two decimals, no grouping."""
    return f"{value:.2f}"


def _number(value: Decimal) -> str:
    """A quantity or a percentage without trailing zeros."""
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _issuer(organization) -> list[str]:
    """The organization's name and the details its settings give for documents."""
    details = (organization.settings or {}).get("document_issuer") or {}
    return [organization.name] + [
        details[key] for key in ("address", "email", "phone", "tax_number") if details.get(key)
    ]


def _customer(document: Document) -> list[str]:
    """The customer's name and details."""
    customer = document.customer
    return [
        value
        for value in (
            customer.name,
            customer.company,
            customer.address,
            customer.email,
            customer.tax_number and f"Tax number: {customer.tax_number}",
        )
        if value
    ]


def _facts(document: Document) -> list[list[str]]:
    """Number, dates, status and currency of the document."""
    rows = [
        ["Number", document.number or "Draft"],
        ["Status", getattr(document, "shown_status", document.status)],
        ["Issue date", document.issue_date.isoformat() if document.issue_date else "-"],
    ]
    if document.due_date:
        rows.append(["Due date", document.due_date.isoformat()])
    if document.expiry_date:
        rows.append(["Valid until", document.expiry_date.isoformat()])
    if document.credits_id:
        rows.append(["Credits invoice", document.credits.number])
    rows.append(["Currency", document.currency])
    return rows


def _totals(document: Document, base_currency: str) -> list[list[str]]:
    """The document's stored totals, as the API answers them."""
    rows = [
        ["Subtotal", _money(document.subtotal)],
        ["Discount", _money(document.discount_total)],
        ["Tax", _money(document.tax_total)],
        ["Total", f"{_money(document.total)} {document.currency}"],
    ]
    if document.type == Document.Type.INVOICE:
        rows += [
            ["Paid", _money(document.paid_amount)],
            ["Credited", _money(document.credited_amount)],
            ["Balance due", f"{_money(document.balance)} {document.currency}"],
        ]
    if document.currency != base_currency:
        rows.append(
            [
                f"Total in {base_currency} at {_number(document.exchange_rate)}",
                _money(document.base_total),
            ]
        )
    return rows


def render(document: Document) -> bytes:
    """The document as a PDF (its lines in order, its totals as stored)."""
    organization = document.organization
    styles = getSampleStyleSheet()
    small = styles["BodyText"]
    buffer = io.BytesIO()
    title = f"{TITLES[document.type]} {document.number or '(draft)'}"
    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=title,
        author=organization.name,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
    )
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
            ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
    )
    lines = [LINE_HEADER] + [
        [
            Paragraph(_text(line.description), small),
            _number(line.quantity),
            _money(line.unit_price),
            _number(line.discount_percent),
            _number(line.tax_rate),
            _money(line.total),
        ]
        for line in document.lines.all()
    ]
    story = [
        Paragraph(_text(title), styles["Title"]),
        Paragraph("<br/>".join(_text(value) for value in _issuer(organization)), small),
        Spacer(1, 6 * mm),
        Paragraph("<b>Bill to</b><br/>" + "<br/>".join(map(_text, _customer(document))), small),
        Spacer(1, 4 * mm),
        Table(_facts(document), hAlign="LEFT"),
        Spacer(1, 6 * mm),
        Table(
            lines,
            colWidths=[70 * mm, 20 * mm, 24 * mm, 20 * mm, 16 * mm, 24 * mm],
            style=grid,
            repeatRows=1,
        ),
        Spacer(1, 4 * mm),
        Table(
            _totals(document, organization.base_currency),
            hAlign="RIGHT",
            style=TableStyle([("ALIGN", (1, 0), (1, -1), "RIGHT")]),
        ),
    ]
    for label, value in (("Terms", document.terms), ("Notes", document.notes)):
        if value:
            story += [Spacer(1, 4 * mm), Paragraph(f"<b>{label}</b><br/>{_text(value)}", small)]
    pdf.build(story)
    return buffer.getvalue()


def filename(document: Document) -> str:
    """The PDF's download name: its number, or the draft's id."""
    return f"{document.number or f'draft-{document.pk}'}.pdf"
