"""The rows the duplicate-data generator makes (:class:`LeadRow`), the dataset and the truth
about it (:class:`DuplicateDataset`), and the score of predicted pairs against it
(:class:`PairQuality`, :func:`pair_quality`).

Part of :mod:`leadkit.testing.dupdata`, which re-exports every public name here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs

from leadkit.duplicates.record_view import DuplicateRecord, RecordType
from leadkit.lead import Lead
from leadkit.patch import LeadPatch
from leadkit.values import Address, EmailAddress, LeadId, PersonName, PhoneNumber, Url, UserRef

__all__ = ["DuplicateDataset", "LeadRow", "PairQuality", "pair_quality"]

# --------------------------------------------------------------------------------------------
# Rows
# --------------------------------------------------------------------------------------------


@attrs.frozen
class LeadRow:
    """One generated lead as it was typed in: raw text, not yet validated.

    ``entity`` names the real person: rows with the same entity are duplicates of one another.
    ``business_e164`` and ``mobile_e164`` are the numbers the phone fields hold, as the
    generator made them (what parsing the typed text gives). ``changes`` lists what was done
    to a duplicate (empty for an original).
    """

    id: str
    entity: int
    locale: str
    first_name: str
    last_name: str
    company: str
    email: str
    business_phone: str
    mobile_phone: str
    business_e164: str
    mobile_e164: str
    region: str
    city: str
    postal_code: str
    website: str
    created_at: datetime
    changes: tuple[str, ...] = ()

    @property
    def topic(self) -> str:
        """The lead's topic: "Enquiry from <company or name>"."""
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return f"Enquiry from {self.company or name}"

    @property
    def is_duplicate(self) -> bool:
        """True for a row made by copying another one."""
        return bool(self.changes)

    def to_lead(self, *, by: UserRef | None = None) -> Lead:
        """A new Open lead with these fields (topic from the company or the name)."""
        user = by or UserRef("generator")
        name = PersonName(first=self.first_name, last=self.last_name)
        patch = LeadPatch(
            topic=self.topic,
            name=name,
            company=self.company,
            email=EmailAddress(self.email) if self.email else None,
            business_phone=self._phone(self.business_phone),
            mobile_phone=self._phone(self.mobile_phone),
            website=Url(self.website) if self.website else None,
            address=Address(city=self.city, postal_code=self.postal_code, country=self.locale),
        )
        return Lead.create(LeadId(self.id), patch, at=self.created_at, by=user)

    def to_record(self) -> DuplicateRecord:
        """The flat view the duplicate rules read, built straight from the row: the same
        values :func:`~leadkit.duplicates.record_view.duplicate_record` takes from
        :meth:`to_lead`, without validating a lead (fast enough for a million rows)."""
        business, mobile = self.business_e164, self.mobile_e164
        full = " ".join(p for p in (self.first_name, self.last_name) if p)
        return DuplicateRecord(
            record_type=RecordType.LEAD,
            record_id=self.id,
            first_name=self.first_name,
            last_name=self.last_name,
            full_name=full,
            email=self.email,
            email_domain=self.email.rpartition("@")[2].lower() if self.email else "",
            phones=(business, mobile),
            business_phone=business,
            mobile_phone=mobile,
            company=self.company,
            website_domain=Url(self.website).host if self.website else "",
            city=self.city,
            postal_code=self.postal_code,
            country=self.locale,
            topic=self.topic,
            created_at=self.created_at,
        )

    def _phone(self, raw: str) -> PhoneNumber | None:
        return PhoneNumber(raw, self.region) if raw else None


@attrs.frozen
class PairQuality:
    """Predicted duplicate pairs scored against the true ones."""

    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        """The share of predicted pairs that are true duplicates (1.0 with no predictions)."""
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        """The share of true duplicate pairs that were predicted (1.0 with none to find)."""
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else 1.0

    def describe(self) -> str:
        """``precision 0.981 recall 0.934 (tp 1234, fp 23, fn 87)``."""
        return (
            f"precision {self.precision:.3f} recall {self.recall:.3f} "
            f"(tp {self.true_positives}, fp {self.false_positives}, fn {self.false_negatives})"
        )


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


@attrs.frozen
class DuplicateDataset:
    """Generated rows, in a shuffled order, and the truth about them."""

    seed: int
    rows: tuple[LeadRow, ...]

    def duplicate_pairs(self) -> frozenset[tuple[str, str]]:
        """Every pair of row ids (smaller id first) that belong to the same person."""
        by_entity: dict[int, list[str]] = {}
        for row in self.rows:
            by_entity.setdefault(row.entity, []).append(row.id)
        pairs: set[tuple[str, str]] = set()
        for ids in by_entity.values():
            for i, a in enumerate(ids):
                for b in ids[i + 1 :]:
                    pairs.add(_pair(a, b))
        return frozenset(pairs)

    def leads(self) -> list[Lead]:
        """Every row as a new lead."""
        return [row.to_lead() for row in self.rows]

    def records(self) -> list[DuplicateRecord]:
        """Every row as the flat view duplicate rules read."""
        return [row.to_record() for row in self.rows]

    def quality(self, predicted: Iterable[tuple[str, str]]) -> PairQuality:
        """:func:`pair_quality` against this dataset's true pairs."""
        return pair_quality(predicted, self.duplicate_pairs())


def pair_quality(
    predicted: Iterable[tuple[str, str]], truth: Iterable[tuple[str, str]]
) -> PairQuality:
    """Score predicted duplicate pairs (in either order) against the true pairs."""
    found = {_pair(a, b) for a, b in predicted if a != b}
    actual = {_pair(a, b) for a, b in truth}
    tp = len(found & actual)
    return PairQuality(tp, len(found) - tp, len(actual) - tp)
