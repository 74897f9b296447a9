"""Names and identifiers as screening compares them: the one normalisation every part uses.

:func:`tokens` turns a name into comparable words: Unicode NFKC, case-folded, transliterated
to Latin (``anyascii``: "Абу Бакар" → "abu bakar", "أبو بكر" → "abw bkr"), apostrophes
dropped inside words ("Ba'asyir" → "baasyir"), every other punctuation a space, and
honorifics and titles ("H.", "Drs.", "Haji", "Ustadz", "Mr") left out. :func:`normalize` is
the same words sorted and joined by one space, so that a reordered name normalises alike.
"""

import re
import unicodedata

from anyascii import anyascii

#: Titles and honorifics that say nothing about who a person is (Indonesian, Arabic, English).
HONORIFICS = frozenset(
    {
        "h",
        "hj",
        "haji",
        "hajjah",
        "kh",
        "kyai",
        "kiai",
        "ustadz",
        "ustad",
        "ustaz",
        "ustadzah",
        "syekh",
        "sheikh",
        "shaykh",
        "sheik",
        "drs",
        "dr",
        "ir",
        "prof",
        "mr",
        "mrs",
        "ms",
        "mister",
        "sir",
        "tuan",
        "bapak",
        "pak",
        "ibu",
        "sdr",
        "sdri",
        "alm",
        "almarhum",
        "st",
        "se",
        "sh",
        "mh",
        "ssi",
        "spd",
        "lc",
        "ma",
        "phd",
    }
)
_APOSTROPHES = re.compile(r"[\u0027\u2018\u2019\u02bc\u02bb\u0060\u00b4]")
_NOT_WORD = re.compile(r"[^0-9a-z]+")
_IDENTIFIER_JUNK = re.compile(r"[^0-9A-Z]+")


def fold(text: str) -> str:
    """NFKC, transliterated to Latin ASCII and case-folded, apostrophes dropped."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _APOSTROPHES.sub("", text)
    return anyascii(text).casefold()


def tokens(text: str) -> list[str]:
    """The name's comparable words in their order (see the module); honorifics left out.

    A name made only of honorifics keeps them (``"Haji"`` alone is still a name).
    """
    words = [word for word in _NOT_WORD.split(fold(text)) if word]
    kept = [word for word in words if word not in HONORIFICS]
    return kept or words


def normalize(text: str) -> str:
    """The name's words sorted and joined by one space ("Ba'asyir, Abu Bakar" → "abu bakar
    baasyir")."""
    return " ".join(sorted(tokens(text)))


def normalize_identifier(value: str) -> str:
    """An identity number as compared: upper case, letters and digits only."""
    return _IDENTIFIER_JUNK.sub("", anyascii(unicodedata.normalize("NFKC", value or "")).upper())
