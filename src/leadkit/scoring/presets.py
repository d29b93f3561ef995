"""Preset scoring models.

:data:`BCM_MODEL` follows Outlook Business Contact Manager: criteria weighted low (1), normal
(2) or high (3), some ticked by the user on the lead, the rest decided from the lead's fields,
a 0-5 star scale and Hot/Warm/Cold from 70 and 40. Edit it like any model: every edit is a new
version.
"""

from __future__ import annotations

from typing import Final

from leadkit._named import named
from leadkit.fields import Budget, LeadSource, Need, PurchaseTimeframe
from leadkit.scoring.model import Criterion, Importance, ScoringModel
from leadkit.scoring.predicates import (
    AllOf,
    AnyOf,
    IsSet,
    OneOf,
    Ticked,
    Window,
    WithinDays,
)

__all__ = ["BCM_CRITERIA", "BCM_MODEL"]

BCM_CRITERIA: Final[tuple[Criterion, ...]] = (
    Criterion(
        id="budget_confirmed",
        description="Budget confirmed",
        importance=Importance.HIGH,
        rule=AnyOf((Ticked(), OneOf("budget", (Budget.CAN_BUY, Budget.WILL_BUY)))),
    ),
    Criterion(
        id="decision_maker_identified",
        description="Decision maker identified",
        importance=Importance.HIGH,
        rule=Ticked(),
    ),
    Criterion(
        id="need_confirmed",
        description="Need confirmed",
        importance=Importance.HIGH,
        rule=AnyOf((Ticked(), OneOf("need", (Need.MUST_HAVE, Need.SHOULD_HAVE)))),
    ),
    Criterion(
        id="timeframe_this_quarter",
        description="Purchase timeframe within this quarter",
        importance=Importance.NORMAL,
        rule=OneOf(
            "purchase_timeframe", (PurchaseTimeframe.IMMEDIATE, PurchaseTimeframe.THIS_QUARTER)
        ),
    ),
    Criterion(
        id="close_date_within_90_days",
        description="Estimated close date within the next 90 days",
        importance=Importance.NORMAL,
        rule=WithinDays("estimated_close_date", 90, Window.AHEAD),
    ),
    Criterion(
        id="met_in_person",
        description="Met in person or gave a demo",
        importance=Importance.NORMAL,
        rule=Ticked(),
    ),
    Criterion(
        id="reachable",
        description="E-mail and a phone number on file",
        importance=Importance.LOW,
        rule=AllOf((IsSet("email"), AnyOf((IsSet("business_phone"), IsSet("mobile_phone"))))),
    ),
    Criterion(
        id="referred",
        description="Came through a referral, a partner or word of mouth",
        importance=Importance.LOW,
        rule=OneOf(
            "source",
            (
                LeadSource.EMPLOYEE_REFERRAL,
                LeadSource.EXTERNAL_REFERRAL,
                LeadSource.PARTNER,
                LeadSource.WORD_OF_MOUTH,
            ),
        ),
    ),
    Criterion(
        id="company_known",
        description="Company named",
        importance=Importance.LOW,
        rule=IsSet("company"),
    ),
    Criterion(
        id="value_estimated",
        description="Deal value estimated",
        importance=Importance.LOW,
        rule=IsSet("estimated_value"),
    ),
)
"""Sensible sales criteria: three high, three normal, four low (total weight 19)."""

BCM_MODEL: Final = ScoringModel(
    id="bcm",
    name="Outlook BCM default",
    criteria=BCM_CRITERIA,
    description=(
        "Outlook Business Contact Manager style: ticked or field-decided criteria weighted "
        "low 1, normal 2, high 3; 0-5 stars; Hot from 70, Warm from 40."
    ),
)
"""The Outlook BCM style default model (version 1)."""


named(BCM_MODEL, "BCM_MODEL")  # help() shows the name, not every criterion
