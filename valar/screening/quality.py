"""The matcher's measured quality on a labelled set of (subject, entry) pairs.

``tests/data/quality_pairs.csv`` holds one pair a row: the subject's name, birth date and
nationality, the entry's names (primary first, then aliases, joined by ``|``), birth dates
(``|``) and nationality, ``label`` (1: the same person, 0: not) and a ``note``.
:func:`evaluate` scores every pair with :mod:`valar.screening.matching` and counts, at a
threshold, the true and false positives and negatives, precision, recall and F1.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

from valar.screening.matching import Party, prepare, score

#: The labelled set shipped with the tests.
DEFAULT_PATH = Path(__file__).resolve().parent / "tests" / "data" / "quality_pairs.csv"


@dataclass(frozen=True)
class Pair:
    """One labelled pair: a subject, an entry and whether they are the same person."""

    subject: Party
    entry: Party
    label: int
    note: str = ""


def _split(value: str) -> tuple[str, ...]:
    """A ``|``-joined cell as a tuple of its non-empty parts."""
    return tuple(part.strip() for part in (value or "").split("|") if part.strip())


def load_pairs(path: str | Path | None = None) -> list[Pair]:
    """Read the labelled pairs from ``path`` (the shipped set by default)."""
    with open(path or DEFAULT_PATH, newline="", encoding="utf-8") as handle:
        return [
            Pair(
                subject=Party(
                    names=(row["subject_name"],),
                    birth_dates=_split(row["subject_birth_date"]),
                    nationality=row["subject_nationality"] or "",
                ),
                entry=Party(
                    names=_split(row["entry_names"]),
                    birth_dates=_split(row["entry_birth_dates"]),
                    nationality=row["entry_nationality"] or "",
                ),
                label=int(row["label"]),
                note=row.get("note") or "",
            )
            for row in csv.DictReader(handle)
        ]


def evaluate(pairs: list[Pair], threshold: float = 0.80) -> dict:
    """Confusion counts, precision, recall and F1 (4 decimals) at ``threshold``.

    ``misclassified`` lists every pair on the wrong side of the threshold with its score,
    label, note and name feature, so a reviewer can see why.
    """
    tp = fp = fn = tn = 0
    misclassified = []
    for pair in pairs:
        value, features = score(prepare(pair.subject), prepare(pair.entry))
        flagged = value >= threshold
        if flagged and pair.label:
            tp += 1
        elif flagged:
            fp += 1
        elif pair.label:
            fn += 1
        else:
            tn += 1
        if flagged != bool(pair.label):
            misclassified.append(
                {
                    "subject": pair.subject.names[0],
                    "entry": pair.entry.names[0],
                    "label": pair.label,
                    "score": value,
                    "note": pair.note,
                    "name": features["name"],
                }
            )
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "threshold": threshold,
        "pairs": len(pairs),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "misclassified": misclassified,
    }
