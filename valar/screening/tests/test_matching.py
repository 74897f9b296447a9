"""The screening matcher: phonetic keys, name rules, evidence features and measured quality."""

import json
import unittest

from valar.screening.matching import Party, phonetic_key, prepare, score, token_keys
from valar.screening.quality import evaluate, load_pairs

THRESHOLD = 0.80

BAASYIR = Party(
    names=("Abu Bakar Ba'asyir", "Abu Bakar Baasyir", "Abdus Samad"),
    birth_dates=("1938-08-17",),
    nationality="Indonesia",
)
JIBRIEL = Party(names=("Muhammad Jibriel Abdul Rahman", "Mohammad Jibriel Abdurrahman"))
NOORDIN = Party(names=("Noordin Mohammad Top",))


def _score(subject: Party, entry: Party) -> tuple[float, dict]:
    """Prepare both sides and score them."""
    return score(prepare(subject), prepare(entry))


def _name_only(*names: str) -> Party:
    """A party with names only."""
    return Party(names=names)


class PhoneticKeyTests(unittest.TestCase):
    """Transliteration variants of one name share a phonetic key."""

    def assertSameKey(self, *names: str) -> None:
        """Every name in ``names`` has the same phonetic key."""
        keys = {phonetic_key(name) for name in names}
        self.assertEqual(len(keys), 1, keys)

    def test_baasyir_spellings(self):
        """Ba'asyir, Baasyir, Basyir and Bashir meet (sy -> sh -> s, doubled letters once)."""
        self.assertSameKey("Ba'asyir", "Baasyir", "Basyir", "Bashir")

    def test_muhammad_spellings(self):
        """Every spelling of Muhammad, and its abbreviations, is one key."""
        self.assertSameKey("Muhammad", "Mohammed", "Mohamad", "Muhamad", "Mochammad", "Mohd")

    def test_abdul_forms(self):
        """Abdul Rahman, Abdurrahman, Abdel Rahman and Abd al-Rahman are one word."""
        self.assertSameKey("Abdul Rahman", "Abdurrahman", "Abdel Rahman", "Abd al-Rahman")

    def test_old_indonesian_spelling(self):
        """Old spellings (dj, tj, oe, ch) meet the modern ones."""
        self.assertSameKey("Djoko Pitono", "Joko Pitono")
        self.assertSameKey("Entjep Nurjaman", "Encep Nurjaman")
        self.assertSameKey("Oemar Patek", "Umar Patek")
        self.assertSameKey("Mochammad Achwan", "Muhammad Akhwan")

    def test_other_folds(self):
        """q -> k, th -> t, dh -> d and an Arabic article left out."""
        self.assertSameKey("Thoriquddin", "Toriqudin")
        self.assertSameKey("Ardhan", "Ardan")
        self.assertSameKey("Ayman al-Zawahiri", "Ayman Zawahiri")

    def test_key_is_order_free_and_token_keys_keep_order(self):
        """The key sorts the codes; token_keys keep the name's order."""
        self.assertEqual(phonetic_key("Bashir, Abu Bakar"), phonetic_key("Abu Bakar Ba'asyir"))
        self.assertEqual(token_keys("Umar Patek"), ["AMR", "PTK"])
        self.assertEqual(token_keys("Patek Umar"), ["PTK", "AMR"])

    def test_different_names_differ(self):
        """Different names keep different keys."""
        self.assertNotEqual(phonetic_key("Budi Santoso"), phonetic_key("Santoso"))
        self.assertNotEqual(phonetic_key("Ahmad"), phonetic_key("Muhammad"))


class NameRuleTests(unittest.TestCase):
    """How names alone score: variants reach the threshold, shared common names do not."""

    def test_transliteration(self):
        """Abu Bakar Bashir matches the listed Abu Bakar Ba'asyir."""
        value, features = _score(_name_only("Abu Bakar Bashir"), _name_only("Abu Bakar Ba'asyir"))
        self.assertGreaterEqual(value, 0.95)
        self.assertEqual(features["name"]["entry_name"], "Abu Bakar Ba'asyir")

    def test_reordered_name(self):
        """Baasyir Abu Bakar (surname first) matches Abu Bakar Ba'asyir fully."""
        value, _ = _score(_name_only("Baasyir Abu Bakar"), BAASYIR)
        self.assertEqual(value, 1.0)

    def test_dropped_middle_name(self):
        """Noordin Top (Mohammad dropped) still matches Noordin Mohammad Top."""
        value, _ = _score(_name_only("Noordin Top"), NOORDIN)
        self.assertGreaterEqual(value, THRESHOLD)

    def test_added_common_middle_name_is_cheap_but_a_different_surname_is_not(self):
        """An extra common name costs little; a different distinctive word costs a lot."""
        extra, _ = _score(_name_only("Noordin Muhammad Top"), _name_only("Noordin Top"))
        other, _ = _score(_name_only("Noordin Halid"), _name_only("Noordin Top"))
        self.assertGreaterEqual(extra, 0.9)
        self.assertLess(other, THRESHOLD)

    def test_cyrillic_script(self):
        """Абу Бакар Башир (Cyrillic) matches the Latin entry."""
        value, _ = _score(_name_only("Абу Бакар Башир"), BAASYIR)
        self.assertGreaterEqual(value, THRESHOLD)

    def test_alias_is_reported(self):
        """A match on an alias says so, with the alias's raw text."""
        _, features = _score(_name_only("Abdus Samad"), BAASYIR)
        self.assertTrue(features["name"]["alias"])
        self.assertEqual(features["name"]["entry_name"], "Abdus Samad")

    def test_joined_words(self):
        """Dul Matin (split) matches the mononym Dulmatin."""
        value, features = _score(_name_only("Dul Matin"), _name_only("Dulmatin"))
        self.assertGreaterEqual(value, THRESHOLD)
        self.assertEqual(features["name"]["method"], "joined")

    def test_common_given_name_is_no_match(self):
        """Muhammad Rizki does not reach the threshold against Muhammad Jibriel Abdul Rahman."""
        value, _ = _score(_name_only("Muhammad Rizki"), JIBRIEL)
        self.assertLess(value, THRESHOLD)

    def test_other_shared_common_names_are_no_match(self):
        """Sharing Abu Bakar, Abdul Rahman or a surname with a mononym is not enough."""
        for subject, entry in (
            ("Abu Bakar Siddiq", BAASYIR),
            ("Abdul Rahman", JIBRIEL),
            ("Budi Santoso", _name_only("Santoso")),
            ("Hisyam Ali", _name_only("Hisyam bin Alizein")),
        ):
            with self.subTest(subject=subject):
                value, _ = _score(_name_only(subject), entry)
                self.assertLess(value, THRESHOLD)


class EvidenceTests(unittest.TestCase):
    """Identifiers, birth dates and nationality move the name's score."""

    def test_identifier_sets_score_to_one(self):
        """The same NIK makes the score 1.0 whatever the names say."""
        subject = Party(names=("Budi",), identifiers=(("nik", "3201-0123 4567 8901"),))
        entry = Party(names=("Someone Else",), identifiers=(("nik", "3201012345678901"),))
        value, features = _score(subject, entry)
        self.assertEqual(value, 1.0)
        self.assertEqual(features["identifier"]["kind"], "nik")
        self.assertEqual(features["identifier"]["value_matched"], "3201012345678901")
        self.assertIsNone(features["identifier"]["weight"])

    def test_identifier_kind_other_matches_any_kind(self):
        """An identifier of kind 'other' matches the same value of any kind."""
        subject = Party(names=("A",), identifiers=(("other", "A1234567"),))
        entry = Party(names=("B",), identifiers=(("passport", "a-1234567"),))
        self.assertEqual(_score(subject, entry)[0], 1.0)

    def test_identifier_of_another_kind_does_not_match(self):
        """A NIK and a passport number with the same digits are not a match."""
        subject = Party(names=("A",), identifiers=(("nik", "12345678"),))
        entry = Party(names=("B",), identifiers=(("passport", "12345678"),))
        value, features = _score(subject, entry)
        self.assertLess(value, 1.0)
        self.assertNotIn("identifier", features)

    def test_different_full_birth_date_lowers(self):
        """Both sides with full dates, none equal: the score drops below the name's."""
        subject = Party(names=("Umar Patek",), birth_dates=("1990-02-10",))
        entry = Party(names=("Umar Patek",), birth_dates=("1970-07-20",))
        value, features = _score(subject, entry)
        self.assertLess(value, features["name"]["value"])
        self.assertEqual(features["birth_date"]["rule"], "different_date")

    def test_same_birth_year_raises(self):
        """A year equal to the list's year raises the score."""
        subject = Party(names=("Umar Patek",), birth_dates=("1970-07-20",))
        entry = Party(names=("Umar Patik",), birth_dates=("1970",))
        value, features = _score(subject, entry)
        self.assertGreater(value, features["name"]["value"])
        self.assertEqual(features["birth_date"]["rule"], "same_year")

    def test_same_full_date_raises(self):
        """The same full date raises the score more than a year does."""
        subject = Party(names=("Encep Nurjaman",), birth_dates=("1964-04-04",))
        entry = Party(names=("Encep Nurjaman",), birth_dates=("1964-04-04",))
        _, features = _score(subject, entry)
        self.assertEqual(features["birth_date"]["rule"], "same_date")
        self.assertGreater(features["birth_date"]["value"], 0.04)

    def test_nationality_forms_are_one_country_and_raise(self):
        """Indonesia, Indonesian, WNI, ID and IDN are the same nationality: it raises."""
        entry = Party(names=("Aman Abdurahman",), nationality="Indonesia")
        for form in ("Indonesian", "WNI", "ID", "IDN", "indonesia"):
            with self.subTest(form=form):
                subject = Party(names=("Aman Abdurrahman",), nationality=form)
                value, features = _score(subject, entry)
                self.assertEqual(features["nationality"]["rule"], "same")
                self.assertGreater(value, features["name"]["value"])

    def test_different_nationality_lowers_slightly(self):
        """A different recognised nationality lowers the score a little."""
        subject = Party(names=("Aman Abdurrahman",), nationality="Malaysian")
        entry = Party(names=("Aman Abdurrahman",), nationality="Indonesia")
        value, features = _score(subject, entry)
        self.assertEqual(features["nationality"]["rule"], "different")
        self.assertLess(value, 1.0)
        self.assertGreaterEqual(value, 0.9)

    def test_unknown_nationality_is_left_out(self):
        """A nationality not recognised on either side gives no feature."""
        subject = Party(names=("Aman Abdurrahman",), nationality="Atlantis")
        _, features = _score(subject, Party(names=("Aman",), nationality="Indonesia"))
        self.assertNotIn("nationality", features)


class FeaturesTests(unittest.TestCase):
    """The features map's shape, and that its total is the score and reproducible."""

    def test_shape_and_total(self):
        """Every feature has a value and a weight; total is the clamped sum of value x weight."""
        subject = Party(
            names=("Baasyir Abu Bakar",), birth_dates=("1938",), nationality="Indonesian"
        )
        value, features = _score(subject, BAASYIR)
        json.dumps(features)
        self.assertEqual(
            set(features["name"]),
            {"value", "weight", "method", "subject_name", "entry_name", "alias"},
        )
        self.assertEqual(features["name"]["subject_name"], "Baasyir Abu Bakar")
        self.assertEqual(set(features), {"name", "birth_date", "nationality", "total"})
        self.assertEqual(features["birth_date"]["entry"], ["1938-08-17"])
        self.assertEqual(features["total"], value)
        summed = sum(
            features[key]["value"] * features[key]["weight"]
            for key in ("name", "birth_date", "nationality")
        )
        self.assertEqual(round(min(max(summed, 0.0), 1.0), 4), value)

    def test_total_reproducible_below_one(self):
        """A score under 1.0 is exactly the rounded sum of its features."""
        subject = Party(names=("Abu Bakar Basir",), birth_dates=("1950-01-01",))
        value, features = _score(subject, BAASYIR)
        self.assertLess(value, 1.0)
        summed = features["name"]["value"] + features["birth_date"]["value"]
        self.assertEqual(round(summed, 4), value)

    def test_no_optional_features_without_data(self):
        """Without dates, nationality or identifiers only name and total are present."""
        _, features = _score(_name_only("Umar Patek"), _name_only("Umar Patek"))
        self.assertEqual(set(features), {"name", "total"})


class QualityTests(unittest.TestCase):
    """The measured quality on the labelled set at the default threshold."""

    def test_f1_and_recall_on_labelled_set(self):
        """F1 >= 0.90 and recall >= 0.95 at 0.80 on tests/data/quality_pairs.csv."""
        pairs = load_pairs()
        self.assertGreaterEqual(len(pairs), 150)
        result = evaluate(pairs, threshold=THRESHOLD)
        self.assertEqual(result["tp"] + result["fp"] + result["fn"] + result["tn"], len(pairs))
        self.assertGreaterEqual(result["recall"], 0.95, result["misclassified"])
        self.assertGreaterEqual(result["f1"], 0.90, result["misclassified"])
