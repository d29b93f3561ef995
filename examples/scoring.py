"""Scoring leads the Outlook BCM way, changing the model, and learning from history.

Run it with ``python examples/scoring.py``. It

1. scores a handful of leads with the BCM preset and prints their stars and one explanation,
2. lets a user override one lead's stars by hand,
3. edits a criterion's weight (a new model version) and shows what changes,
4. prints the "by assigned to and rating" report,
5. trains the predictive model on generated history, prints its backtest and blends it in.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from leadkit import (
    Budget,
    Desk,
    Lead,
    LeadId,
    LeadPatch,
    LeadSource,
    Money,
    Need,
    PurchaseTimeframe,
    StatusReason,
    UserRef,
)
from leadkit.adapters.memory import MemoryStore
from leadkit.scoring import (
    BCM_MODEL,
    Blend,
    backtest,
    score,
    train,
)

AT = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
ADA = UserRef("ada", "Ada")
BOB = UserRef("bob", "Bob")


def new_lead(lead_id: str, owner: UserRef, ticked: tuple[str, ...] = (), **fields: object) -> Lead:
    lead = Lead.create(LeadId(lead_id), LeadPatch(**fields), at=AT, by=owner)  # type: ignore[arg-type]
    for criterion_id in ticked:  # the BCM check boxes the owner ticked
        lead = lead.tick_criterion(criterion_id, at=AT, by=owner)
    return lead


leads = [
    new_lead(
        "L-1",
        ADA,
        ("decision_maker_identified", "met_in_person"),
        topic="Fleet renewal",
        name="Grace Hopper",
        company="Navy Yard",
        email="grace@example.com",
        business_phone="+1 202 555 0143",
        budget=Budget.WILL_BUY,
        need=Need.MUST_HAVE,
        purchase_timeframe=PurchaseTimeframe.THIS_QUARTER,
        estimated_close_date=date(2024, 6, 15),
        estimated_value=Money("48000", "USD"),
        source=LeadSource.PARTNER,
    ),
    new_lead(
        "L-2",
        ADA,
        ("budget_confirmed",),
        topic="Analytics pilot",
        name="Alan Turing",
        company="Bletchley Ltd",
        need=Need.SHOULD_HAVE,
        purchase_timeframe=PurchaseTimeframe.NEXT_QUARTER,
    ),
    new_lead(
        "L-3",
        BOB,
        ("met_in_person",),
        topic="Office move",
        name="Katherine Johnson",
        email="kj@example.com",
        mobile_phone="+1 757 555 0100",
        source=LeadSource.WEB,
    ),
    new_lead("L-4", BOB, topic="Brochure request", name="Unknown Visitor"),
]

print(f"1. Scoring with {BCM_MODEL.name} (version {BCM_MODEL.version})")
for lead in leads:
    result = score(lead, BCM_MODEL, AT)
    stars, value, rating = result.star_text, result.value, result.rating
    print(f"  {lead.id}  {lead.full_name:<18} {stars}  {value:>6}  {rating}")
print(f"\n  Why {leads[1].full_name} scores {score(leads[1], BCM_MODEL, AT).value}:")
for line in score(leads[1], BCM_MODEL, AT).explanation.lines():
    print("   ", line)

print("\n2. Bob knows Katherine is ready to buy and sets her stars by hand for two weeks")
leads[2] = leads[2].set_manual_score(
    5, at=AT, by=BOB, reason="verbal yes on the phone", expires_at=AT + timedelta(days=14)
)
manual = score(leads[2], BCM_MODEL, AT + timedelta(days=1))
print(f"  tomorrow: {manual.describe()}")
print(f"    {manual.explanation.lines()[0]}")
expired = score(leads[2], BCM_MODEL, AT + timedelta(days=15))
print(f"  in 15 days: {expired.describe()}")

print("\n3. Meeting in person matters more here: its weight goes from 2 to 5")
v2 = BCM_MODEL.set_weight("met_in_person", 5)
print(f"  {v2.name}: version {BCM_MODEL.version} -> {v2.version}")
for lead in leads:
    before = score(lead, BCM_MODEL, AT)
    after = score(lead, v2, AT)
    print(
        f"  {lead.id}  {before.value:>6} {before.star_text} -> "
        f"{after.value:>6} {after.star_text}  ({after.source.value})"
    )

print("\n4. Storing the leads; a desk scores them and reports 'by assigned to and rating'")
store = MemoryStore()
with store.unit_of_work() as uow:
    for lead in leads:
        uow.leads.add(lead)
    uow.commit()
desk = Desk(store, clock=lambda: AT, scoring=v2).acting_as(ADA)
print(f"  stored scores not from {v2.name} v{v2.version}: {desk.reports.by_owner().stale}")
by_rating = desk.reports.by_owner_and_rating(rescore=True)  # rescore the outdated, then report
print(f"  rescored {by_rating.rescored}; stale now: {by_rating.stale}")
for row in by_rating.rows:
    ids = ", ".join(str(i) for i in row.lead_ids)
    print(f"  {row.label:<18} {row.count} lead(s), mean {row.mean_score}: {ids}")

print("\n5. Learning from 800 closed leads of generated history")
rng = random.Random(7)
history = []
for i in range(800):
    budget = rng.choice(list(Budget))
    need = rng.choice(list(Need))
    source = rng.choice(list(LeadSource))
    odds = 0.15 + 0.3 * (budget in (Budget.CAN_BUY, Budget.WILL_BUY))
    odds += 0.25 * (need is Need.MUST_HAVE) + 0.15 * (source is LeadSource.PARTNER)
    closed = new_lead(
        f"H-{i}",
        ADA,
        topic="Past deal",
        name="Past Customer",
        budget=budget,
        need=need,
        source=source,
        email="buyer@example.com" if rng.random() < 0.6 else None,
    )
    if rng.random() < odds:
        closed = closed.mark_qualified(at=AT, by=ADA)
    else:
        closed = closed.disqualify(StatusReason.LOST, at=AT, by=ADA)
    history.append(closed)

report = backtest(history, holdout_percent=25)
for line in report.lines():
    print("  " + line)

predictive = train(history)
blended = v2.set_blend(Blend(criteria=2, predictive=1))
result = score(leads[1], blended, AT, predictive=predictive)
print(f"\n  {leads[1].full_name} with the blend (version {blended.version}): {result.describe()}")
for line in result.explanation.lines()[-len(predictive.features) - 2 :]:
    print("   ", line)
