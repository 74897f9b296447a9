"""The screening rows of ``make bench``: the matcher's quality and its throughput.

Quality is measured twice on the labelled set (``tests/data/quality_pairs.csv``):

- **scoring**: every pair scored directly (``quality.evaluate``), at the default threshold;
- **pipeline**: the set's entries are loaded into an organization among ``entries`` filler
  entries (synthetic Indonesian names), and each subject goes through the whole screening
  (candidate search in SQL, then scoring), as a run would screen it; a pair counts as
  flagged when its entry comes back at or above the threshold. A true pair the candidate
  search missed is a miss here.

Throughput: ``subjects`` subjects (the set's subjects, then synthetic names) screened
against those entries by one :class:`~valar.screening.services.Screener`, as a batch run does
(each entry read and prepared once per run), first without storing matches, then storing
them (rolled back).
"""

import datetime
import random
import time
from types import SimpleNamespace

from django.db import transaction

from valar.accounts.models import User
from valar.organizations.models import Membership, Organization
from valar.screening import quality, services
from valar.screening.models import Entry, ListDocument, Run

ORGANIZATION = "bench-screening"
GIVEN = (
    "Muhammad Ahmad Abdul Siti Nur Agus Budi Dedi Eko Fajar Hendra Indra Joko Kurniawan Lukman "
    "Rizki Rahmat Yusuf Hasan Husein Umar Ali Ibrahim Ismail Sri Dewi Ratna Wahyu Bambang "
    "Slamet Sutrisno Hadi Teguh Arief Rudi Andi Dian Putri Ayu Fitri Rina Yuni Lestari"
).split()
FAMILY = (
    "Santoso Wijaya Saputra Hidayat Nugroho Setiawan Pratama Kusuma Siregar Nasution Harahap "
    "Lubis Simanjuntak Sitompul Gunawan Halim Susanto Wibowo Purnomo Hartono Suryadi Syahputra "
    "Ramadhan Firmansyah Maulana Hakim Rahman Hamzah Fauzi Hasibuan Tanjung Ginting Sembiring "
    "Rangkuti Daulay Batubara Manurung Panjaitan Sinaga Situmorang Tambunan Pardede"
).split()
PLACES = "Jakarta Bandung Surabaya Medan Solo Jombang Poso Bima Makassar Palembang".split()


def _synthetic_name(rng: random.Random) -> str:
    """A plausible Indonesian name: one to three given names and a family name."""
    given = rng.sample(GIVEN, rng.choice((1, 1, 2, 2, 3)))
    return " ".join([*given, rng.choice(FAMILY)])


def _parsed(names, birth_dates=(), nationality="Indonesia", reference="", row=0):
    """An entry as the ETL gives it to ``services.entries_write``."""
    return SimpleNamespace(
        kind="person",
        name=names[0],
        names=list(names),
        birth_dates=list(birth_dates),
        birth_place="",
        nationality=nationality,
        identifiers=[],
        address="",
        description="",
        reference=reference,
        rows=[row] if row else [],
    )


def seed(entries: int, *, stdout) -> tuple[Organization, dict]:
    """An organization holding the set's entries plus ``entries`` filler ones (re-seeded when
    the count differs); the set's entry ids by their names."""
    pairs = quality.load_pairs()
    listed = {pair.entry.names: pair.entry for pair in pairs}
    organization = Organization.objects.filter(slug=ORGANIZATION).first()
    wanted = entries + len(listed)
    if organization and Entry.objects.filter(organization=organization).count() != wanted:
        organization.delete()
        organization = None
    if organization is None:
        stdout.write(f"seeding {wanted:,} screening entries...\n")
        admin, _ = User.objects.get_or_create(email="bench-screening@valar.local")
        organization = Organization.objects.create(name="Bench screening", slug=ORGANIZATION)
        Membership.objects.create(organization=organization, user=admin, role="admin")
        document = ListDocument.objects.create(
            organization=organization,
            created_by=admin,
            name="Bench list",
            file_type="csv",
            status=ListDocument.Status.PROCESSED,
        )
        rng = random.Random(17)
        parsed = [
            _parsed(
                party.names,
                party.birth_dates,
                party.nationality or "Indonesia",
                reference=f"SET-{index}",
            )
            for index, party in enumerate(listed.values())
        ]
        for index in range(entries):
            names = [_synthetic_name(rng)]
            if rng.random() < 0.3:
                names.append(_synthetic_name(rng))
            year = rng.randint(1950, 2000)
            born = datetime.date(year, rng.randint(1, 12), rng.randint(1, 28)).isoformat()
            parsed.append(_parsed(names, [born], reference=f"FILL-{index}"))
        with transaction.atomic():
            services.entries_write(document=document, parsed=parsed)
    ids = {}
    for row in Entry.objects.filter(organization=organization, reference__startswith="SET-"):
        ids[tuple(row.names)] = row.pk
    return organization, ids


def measure(entries: int, subjects: int, *, stdout) -> dict:
    """Quality (scoring and pipeline) and throughput; see the module."""
    organization, ids = seed(entries, stdout=stdout)
    pairs = quality.load_pairs()
    threshold, cutoff = services.scores(organization)
    scoring = quality.evaluate(pairs, threshold=float(threshold))
    screener = services.Screener(
        organization_id=organization.pk, threshold=threshold, cutoff=cutoff
    )
    tp = fp = fn = tn = 0
    for pair in pairs:
        subject = services.Subject(
            kind="adhoc",
            id=None,
            name=pair.subject.names[0],
            birth_date=pair.subject.birth_dates[0] if pair.subject.birth_dates else "",
            nationality=pair.subject.nationality,
        )
        found = {entry_id: value for entry_id, _, value, _ in screener.screen(subject)}
        flagged = found.get(ids.get(tuple(pair.entry.names)), 0) >= float(threshold)
        tp += flagged and pair.label
        fp += flagged and not pair.label
        fn += (not flagged) and pair.label
        tn += (not flagged) and not pair.label
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    rng = random.Random(29)
    names = [pair.subject for pair in pairs]
    batch = [
        services.Subject(kind="adhoc", id=None, name=party.names[0])
        for party in (names * (subjects // len(names) + 1))[: subjects // 2]
    ]
    batch += [
        services.Subject(kind="adhoc", id=None, name=_synthetic_name(rng))
        for _ in range(subjects - len(batch))
    ]
    fresh = services.Screener(organization_id=organization.pk, threshold=threshold, cutoff=cutoff)
    started = time.perf_counter()
    candidates = sum(len(fresh.screen(subject)) for subject in batch)
    screen_seconds = time.perf_counter() - started
    stored = services.Screener(organization_id=organization.pk, threshold=threshold, cutoff=cutoff)
    with transaction.atomic():
        run = Run.objects.create(
            organization=organization, scope=Run.Scope.FILE, threshold=threshold, cutoff=cutoff
        )
        started = time.perf_counter()
        made = len(stored.matches(run, batch))
        store_seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return {
        "entries": Entry.objects.filter(organization=organization).count(),
        "threshold": float(threshold),
        "scoring": {
            key: scoring[key] for key in ("tp", "fp", "fn", "tn", "precision", "recall", "f1")
        },
        "pipeline": {
            "tp": int(tp),
            "fp": int(fp),
            "fn": int(fn),
            "tn": int(tn),
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
        },
        "pairs": len(pairs),
        "subjects": len(batch),
        "kept": candidates,
        "subjects_per_second": len(batch) / screen_seconds,
        "stored_per_second": len(batch) / store_seconds,
        "matches_stored": made,
    }
