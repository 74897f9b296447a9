"""How alike a screened subject and a watch-list entry are: one score in [0, 1] and its reasons.

Pure Python (no Django): :func:`prepare` normalises a :class:`Party` once (names, tokens,
phonetic keys, dates, nationality, identifiers) and :func:`score` compares two prepared parties
with rapidfuzz's C functions only: a subject is prepared and scored against 50 candidates in
about 1 ms on one core (~1,000 subjects/s measured on the labelled set's entries).

Names
-----
Every name goes through :func:`valar.screening.text.tokens` (Latin, case-folded, honorifics
out, and here also the "sheikh" spellings it misses: Shaikh, Syaikh, Шейх → "sheykh"), then
through a transliteration folding so that the spellings of one name meet:

* ``abd`` prefixes are one token: "Abdul Rahman", "Abdurrahman", "Abd al-Rahman" and
  "Abdel Rahman" are all ``abdrahman``; "Abdus Samad" and "Abdussamad" are ``abdsamad``;
* Arabic articles (``al``, ``el``, ``az``, ``at``...) are left out when another word follows,
  and patronymic links (``bin``, ``binti``, ``ibn``, ``ben``) also when not the first word
  ("Ben" may be a given name);
* per word: ``dj`` → ``j``, ``tj`` → ``c``, ``sj``/``sy``/``sh`` → ``s``, ``oe``/``ou``/``oo``
  → ``u``, ``ee``/``ie`` → ``i``, ``kh``/``ch`` → ``h``, ``th`` → ``t``, ``dh`` → ``d``,
  ``gh`` → ``g``, ``ph`` → ``f``, ``q`` → ``k``, ``v`` → ``w``, a ``y`` before no vowel → ``i``,
  doubled letters once, a final ``h`` after a vowel dropped (``Dujanah`` = ``Dujana``), and
  every Muhammad (Mohammed, Mohamad, Muhamad, Mochammad, Mohd, Md...) is ``muhammad``.

"Ba'asyir", "Baasyir", "Basyir" and "Bashir" all fold to ``basir``. :func:`phonetic_key` is
the Metaphone code of every folded word (a leading vowel written ``A``), codes sorted.

Weights of words. Common given names say little about who someone is: ``muhammad``, ``ahmad``,
``abu``, ``ali``, ``nur``, ``siti``, ``umar``, ``imam``, ``agus``, ``hasan``, ``husin``,
``ibrahim``, ``ismail``, ``yusuf``, ``abdlah`` (Abdullah), ``abdrahman`` and a bare ``abd``
weigh :data:`COMMON_WEIGHT` (0.3); other ``abd...`` names (Abdul Aziz, Abdul Rahim) weigh
:data:`ABD_WEIGHT` (0.5); a single letter (an initial) 0.3; every other word 1.0.

Name similarity of two names is the best of:

``exact``
    1.0 when the folded words are the same (in any order).
``jaro_winkler`` / ``phonetic`` (the word alignment)
    the similarity of two words is the mean of rapidfuzz's Jaro-Winkler and Indel ratio of
    the folded words (Jaro-Winkler alone rewards a shared prefix: "ali" / "alizein" 0.89, the
    mean 0.74), raised to :data:`PHONETIC_SIMILARITY` (0.9) when their phonetic codes are
    equal (``phonetic``) or one is the initial of the other; under :data:`WORD_FLOOR` (0.8)
    it is 0. Each word is paired with at most one word of the other name, most alike pairs
    first; the value is ``sum((w_a + w_b) * sim) / (W_a + W_b)`` over the pairs, ``w`` a
    word's weight and ``W`` the sum of a name's weights. A dropped or added word costs its
    weight (a dropped "Muhammad" little, a different surname a lot); word order is free.
``token_set``
    rapidfuzz token-set ratio of the folded names, used only when both names have as many
    words and every word found a partner (a reordered name with a typo).
``joined``
    the Indel ratio of the folded words written together (for "Dul Matin" / "Dulmatin",
    "Agus Dwi Karna" / "Agus Dwikarna"), only when at least :data:`JOINED_FLOOR` (0.9).

The name feature is the best (subject name x entry name or alias) pair.

Score and features
------------------
``features`` (JSON) has ``name`` always, ``identifier`` when one matched, ``birth_date`` and
``nationality`` when both sides have one, and ``total``. Each feature has a ``value`` and a
``weight``; the score is ``total = clamp(sum(value * weight), 0, 1)`` over ``name``,
``birth_date`` and ``nationality`` (each of weight 1.0: ``value`` is already the signed
contribution), rounded to 4 decimals; an ``identifier`` match (weight ``null``) makes the
total 1.0 whatever else says.

* ``identifier``: the same normalised value, same kind or either kind ``other``.
* ``birth_date`` (rules): ``same_date`` +0.08 (a full date equal); ``same_year`` +0.04 (a year
  equal where one side has only the year); ``different_date`` -0.15 (both sides have full
  dates and none is equal, even in the same year: list dates are often mistyped, so an exact
  name stays at 0.85, reviewable); ``different_year`` -0.10 (one side has only years and no
  year is equal).
* ``nationality``: normalised to an ISO 3166 alpha-2 code ("Indonesia", "Indonesian", "WNI",
  "ID", "IDN" are ``ID``); ``same`` +0.03, ``different`` -0.05, left out when either side is
  not recognised.
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache

import jellyfish
import pycountry
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel, JaroWinkler

from valar.screening.text import normalize, normalize_identifier, tokens

#: Weight of a common given name (and of a bare ``abd``).
COMMON_WEIGHT = 0.3
#: Weight of an ``abd...`` name not in :data:`COMMON_NAMES`.
ABD_WEIGHT = 0.5
#: Weight of a single letter (an initial).
INITIAL_WEIGHT = 0.3
#: A word pair less alike than this (Jaro-Winkler) counts 0.
WORD_FLOOR = 0.8
#: Similarity given to two words with the same phonetic code, or an initial and its word.
PHONETIC_SIMILARITY = 0.9
#: The least Indel ratio of the joined names that counts.
JOINED_FLOOR = 0.9
#: Birth-date contributions by rule.
BIRTH_DATE_VALUES = {
    "same_date": 0.08,
    "same_year": 0.04,
    "different_date": -0.15,
    "different_year": -0.10,
}
#: Nationality contributions by rule.
NATIONALITY_VALUES = {"same": 0.03, "different": -0.05}

#: Folded common given names (see the module).
COMMON_NAMES = frozenset(
    {
        "muhammad",
        "ahmad",
        "ahmed",
        "abu",
        "ali",
        "nur",
        "nurul",
        "siti",
        "umar",
        "imam",
        "agus",
        "hasan",
        "husin",
        "husein",
        "ibrahim",
        "ismail",
        "yusuf",
        "abd",
        "abdlah",
        "abdrahman",
    }
)
_ARTICLES = frozenset(
    {"al", "el", "ul", "ad", "an", "ar", "as", "at", "az", "ash", "ath", "adh", "ed", "es", "ez"}
)
_LINKS = frozenset({"bin", "binti", "bint", "binte", "ibn", "ibnu", "ben", "bn", "bte"})
#: Spellings of "sheikh" that :data:`valar.screening.text.HONORIFICS` does not list.
_MORE_HONORIFICS = frozenset({"shaikh", "syaikh", "syeikh", "sheykh", "shaykh", "cheikh", "shaik"})
_ABD = re.compile(r"^abd(?:(?:u|e|o|ou|oe|a|i)(?:l|r|s|z|n|sh|sy|d|t)?)?")
_ABD_ALONE = frozenset(
    {"abd", "abdu", "abdul", "abdel", "abdal", "abdoel", "abdoul", "abdur", "abdus", "abdil"}
)
_FOLDS = (
    ("dj", "j"),
    ("tj", "c"),
    ("sj", "s"),
    ("oe", "u"),
    ("ou", "u"),
    ("oo", "u"),
    ("ee", "i"),
    ("ie", "i"),
    ("kh", "h"),
    ("ch", "h"),
    ("sy", "s"),
    ("sh", "s"),
    ("th", "t"),
    ("dh", "d"),
    ("gh", "g"),
    ("ph", "f"),
    ("q", "k"),
    ("v", "w"),
)
_Y_NOT_BEFORE_VOWEL = re.compile(r"y(?![aeiou])")
_DOUBLED = re.compile(r"(.)\1+")
_FINAL_H = re.compile(r"(?<=[aeiou])h$")
_MUHAMMAD = re.compile(r"^m[uoe]?h?[ae]?m+[aeiou]?d$")
_MUHAMMAD_SHORT = frozenset({"mohd", "muhd", "md", "mhd", "moh", "muh", "mhmd"})
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})-(\d{2}))?")

#: Nationality words pycountry does not know (demonyms, Indonesian usage).
_NATIONALITIES = {
    "wni": "ID",
    "indonesian": "ID",
    "warga negara indonesia": "ID",
    "saudi": "SA",
    "saudi arabian": "SA",
    "filipino": "PH",
    "philippine": "PH",
    "american": "US",
    "british": "GB",
    "malay": "MY",
    "afghan": "AF",
    "russia": "RU",
}


def _fold_word(word: str) -> str:
    """One word's transliteration folding (see the module)."""
    if word.isdigit():
        return word
    for old, new in _FOLDS:
        if old in word:
            word = word.replace(old, new)
    word = _Y_NOT_BEFORE_VOWEL.sub("i", word)
    word = _DOUBLED.sub(r"\1", word)
    if len(word) > 3:
        word = _FINAL_H.sub("", word)
    if word in _MUHAMMAD_SHORT or _MUHAMMAD.match(word):
        return "muhammad"
    return word


def _folded(text: str) -> list[str]:
    """The folded words of a name in their order: ``abd`` merged, articles and links out."""
    words = [word for word in tokens(text) if word not in _MORE_HONORIFICS] or tokens(text)
    merged: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word in _ABD_ALONE and i + 1 < len(words):
            j = i + 1
            if words[j] in _ARTICLES and j + 1 < len(words):
                j += 1
            merged.append("abd" + _fold_word(words[j]))
            i = j + 1
            continue
        if word.startswith("abd") and word not in _ABD_ALONE:
            rest = _ABD.sub("", word)
            merged.append("abd" + _fold_word(rest) if rest else "abd")
            i += 1
            continue
        if i + 1 < len(words) and (word in _ARTICLES or (word in _LINKS and i > 0)):
            i += 1
            continue
        merged.append(_fold_word(word))
        i += 1
    return [word for word in merged if word] or [_fold_word(word) for word in words]


def _code(word: str) -> str:
    """The Metaphone code of a folded word, a leading vowel written ``A``."""
    code = jellyfish.metaphone(word) if word else ""
    if code and code[0] in "AEIOU":
        code = "A" + code[1:]
    return code or word.upper()


def token_keys(text: str) -> list[str]:
    """The phonetic code of each folded word of ``text``, in order (for candidate retrieval)."""
    return [_code(word) for word in _folded(text)]


def joined_key(text: str) -> str:
    """The phonetic code of a name's folded words written as one ("Dul Matin" and "Dulmatin",
    "Agus Dwi Karna" and "Agus Dwikarna" meet); empty for a name of one word."""
    words = _folded(text)
    return _code("".join(words)) if len(words) > 1 else ""


def phonetic_key(text: str) -> str:
    """The phonetic codes of ``text``'s folded words, sorted and joined by one space.

    ``phonetic_key("Abu Bakar Ba'asyir") == phonetic_key("Bashir, Abu Bakar")``.
    """
    return " ".join(sorted(token_keys(text)))


def search_key(text: str) -> str:
    """The folded words of a name, sorted and joined by one space: what the candidate search
    compares by trigrams (``screening_entryname.normalized``), so spelling variants are near."""
    return " ".join(sorted(_folded(text)))


def rare_words(name: "PreparedName") -> list[str]:
    """A prepared name's words that are not common given names or initials (full weight)."""
    return [word for word, weight in zip(name.words, name.weights, strict=True) if weight >= 1]


def _weight(word: str) -> float:
    """How much a folded word says about who someone is (see the module)."""
    if word in COMMON_NAMES:
        return COMMON_WEIGHT
    if len(word) == 1:
        return INITIAL_WEIGHT
    if word.startswith("abd"):
        return ABD_WEIGHT
    return 1.0


@lru_cache(maxsize=512)
def _country(text: str) -> str:
    """A nationality or country as an ISO 3166 alpha-2 code, or ``""`` when not recognised."""
    key = " ".join((text or "").casefold().replace(".", " ").split())
    if not key:
        return ""
    if key in _NATIONALITIES:
        return _NATIONALITIES[key]
    candidates = [key]
    for suffix, replacement in (("ian", "ia"), ("ian", ""), ("an", "a"), ("i", ""), ("ese", "")):
        if key.endswith(suffix):
            candidates.append(key[: -len(suffix)] + replacement)
    for candidate in candidates:
        try:
            return pycountry.countries.lookup(candidate).alpha_2
        except LookupError:
            continue
    return ""


@dataclass(frozen=True)
class Party:
    """Either side of a comparison: a screened subject or a watch-list entry, as given."""

    names: tuple[str, ...]
    birth_dates: tuple[str, ...] = ()
    nationality: str = ""
    identifiers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PreparedName:
    """One name normalised for comparison: its folded words, their codes and weights."""

    raw: str
    position: int
    normalized: str
    words: tuple[str, ...]
    codes: tuple[str, ...]
    weights: tuple[float, ...]
    total_weight: float
    sorted_folded: str
    joined: str


@dataclass(frozen=True)
class Prepared:
    """A party normalised once (:func:`prepare`); :func:`score` reads only this."""

    party: Party
    names: tuple[PreparedName, ...]
    #: Every distinct folded word of every name, with its phonetic code.
    words: dict[str, str] = field(default_factory=dict)
    full_dates: frozenset[str] = frozenset()
    years: frozenset[str] = frozenset()
    has_year_only: bool = False
    country: str = ""
    identifiers: tuple[tuple[str, str], ...] = ()


def _prepare_name(raw: str, position: int) -> PreparedName | None:
    """A name's :class:`PreparedName`, or ``None`` when it has no word."""
    words = tuple(_folded(raw))
    if not words:
        return None
    weights = tuple(_weight(word) for word in words)
    return PreparedName(
        raw=raw,
        position=position,
        normalized=normalize(raw),
        words=words,
        codes=tuple(_code(word) for word in words),
        weights=weights,
        total_weight=sum(weights),
        sorted_folded=" ".join(sorted(words)),
        joined="".join(words),
    )


def prepare(party: Party) -> Prepared:
    """Normalise a party once: names (folded words, codes, weights), dates, country, ids."""
    names = []
    for position, raw in enumerate(party.names):
        prepared = _prepare_name(raw or "", position)
        if prepared is not None:
            names.append(prepared)
    words: dict[str, str] = {}
    for name in names:
        for word, code in zip(name.words, name.codes, strict=True):
            words[word] = code
    full_dates, years, year_only = set(), set(), False
    for value in party.birth_dates:
        found = _DATE.match((value or "").strip())
        if not found:
            continue
        years.add(found.group(1))
        if found.group(2):
            full_dates.add(found.group(0))
        else:
            year_only = True
    identifiers = tuple(
        (kind.strip().casefold() or "other", normalize_identifier(value))
        for kind, value in party.identifiers
        if normalize_identifier(value)
    )
    return Prepared(
        party=party,
        names=tuple(names),
        words=words,
        full_dates=frozenset(full_dates),
        years=frozenset(years),
        has_year_only=year_only,
        country=_country(party.nationality),
        identifiers=identifiers,
    )


def _word_similarities(subject: Prepared, entry: Prepared) -> dict[tuple[str, str], tuple]:
    """Each (subject word, entry word) pair's (similarity, by phonetic code or initial)."""
    similarities = {}
    jaro_winkler = JaroWinkler.normalized_similarity
    indel = Indel.normalized_similarity
    for a, code_a in subject.words.items():
        for b, code_b in entry.words.items():
            if a == b:
                similarities[a, b] = (1.0, False)
                continue
            value = (jaro_winkler(a, b) + indel(a, b)) / 2
            by_code = False
            if value < PHONETIC_SIMILARITY and (
                (code_a == code_b and len(code_a) >= 2)
                or (len(a) == 1 and b.startswith(a))
                or (len(b) == 1 and a.startswith(b))
            ):
                value, by_code = PHONETIC_SIMILARITY, True
            similarities[a, b] = (value if value >= WORD_FLOOR else 0.0, by_code)
    return similarities


def _name_similarity(a: PreparedName, b: PreparedName, similarities: dict) -> tuple[float, str]:
    """Two prepared names' similarity and the method that gave it (see the module)."""
    if a.sorted_folded == b.sorted_folded:
        return 1.0, "exact"
    pairs = []
    for i, word in enumerate(a.words):
        for j, other in enumerate(b.words):
            value, by_code = similarities[word, other]
            if value > 0:
                pairs.append((value, i, j, by_code))
    pairs.sort(reverse=True)
    used_a, used_b = set(), set()
    total = 0.0
    phonetic = False
    for value, i, j, by_code in pairs:
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        total += (a.weights[i] + b.weights[j]) * value
        phonetic = phonetic or by_code
    covered = len(used_a) == len(a.words) and len(used_b) == len(b.words)
    value = total / (a.total_weight + b.total_weight)
    method = "phonetic" if phonetic else "jaro_winkler"
    if covered and len(a.words) == len(b.words):
        token_set = fuzz.token_set_ratio(a.sorted_folded, b.sorted_folded) / 100
        if token_set > value:
            value, method = token_set, "token_set"
    if len(a.words) != len(b.words):
        joined = Indel.normalized_similarity(a.joined, b.joined)
        if joined >= JOINED_FLOOR and joined > value:
            value, method = joined, "joined"
    return value, method


def _birth_date(subject: Prepared, entry: Prepared) -> dict | None:
    """The birth-date feature, or ``None`` when either side has no date."""
    if not subject.years or not entry.years:
        return None
    if subject.full_dates & entry.full_dates:
        rule = "same_date"
    elif (
        subject.full_dates
        and entry.full_dates
        and not (subject.has_year_only or entry.has_year_only)
    ):
        rule = "different_date"
    elif subject.years & entry.years:
        rule = "same_year"
    else:
        rule = "different_year"
    return {
        "value": BIRTH_DATE_VALUES[rule],
        "weight": 1.0,
        "subject": ", ".join(subject.party.birth_dates),
        "entry": list(entry.party.birth_dates),
        "rule": rule,
    }


def _nationality(subject: Prepared, entry: Prepared) -> dict | None:
    """The nationality feature, or ``None`` unless both sides' countries are recognised."""
    if not subject.country or not entry.country:
        return None
    rule = "same" if subject.country == entry.country else "different"
    return {
        "value": NATIONALITY_VALUES[rule],
        "weight": 1.0,
        "subject": subject.party.nationality,
        "entry": entry.party.nationality,
        "subject_code": subject.country,
        "entry_code": entry.country,
        "rule": rule,
    }


def _identifier(subject: Prepared, entry: Prepared) -> dict | None:
    """The identifier feature when an identity number matches, else ``None``."""
    for kind, value in subject.identifiers:
        for other_kind, other_value in entry.identifiers:
            if value == other_value and (kind == other_kind or "other" in (kind, other_kind)):
                kind_shown = kind if kind != "other" else other_kind
                return {"value": 1.0, "weight": None, "kind": kind_shown, "value_matched": value}
    return None


def score(subject: Prepared, entry: Prepared) -> tuple[float, dict]:
    """The subject's score against the entry in [0, 1] (4 decimals) and its features map."""
    similarities = _word_similarities(subject, entry)
    best = (-1.0, "none", "", "", False)
    for a in subject.names:
        for b in entry.names:
            value, method = _name_similarity(a, b, similarities)
            if value > best[0]:
                best = (value, method, a.raw, b.raw, b.position > 0)
                if value >= 1.0:
                    break
        if best[0] >= 1.0:
            break
    value, method, subject_name, entry_name, alias = best
    features: dict = {
        "name": {
            "value": round(max(value, 0.0), 4),
            "weight": 1.0,
            "method": method,
            "subject_name": subject_name,
            "entry_name": entry_name,
            "alias": alias,
        }
    }
    identifier = _identifier(subject, entry)
    if identifier is not None:
        features["identifier"] = identifier
    for key, feature in (
        ("birth_date", _birth_date(subject, entry)),
        ("nationality", _nationality(subject, entry)),
    ):
        if feature is not None:
            features[key] = feature
    if identifier is not None:
        total = 1.0
    else:
        total = sum(
            feature["value"] * feature["weight"]
            for key, feature in features.items()
            if key in ("name", "birth_date", "nationality")
        )
        total = round(min(max(total, 0.0), 1.0), 4)
    features["total"] = total
    return total, features
