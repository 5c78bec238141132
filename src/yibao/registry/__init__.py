"""The registry (参保登记与筹资): enrollment spells, contributions (筹资), personal accounts (个人账户)
and double-enrollment (重复参保) checks.

Pure, vectorised engines over lake-shaped frames (``contributions``, ``accounts``, ``duplicates``),
exported here, and a service over the store's unit of work (``yibao.registry.service``: enrol, change,
terminate, sponsor, accrue and pay from an account), reached through its module.
"""

from yibao.registry.accounts import account_accruals_for_year, family_mutual_aid, spell_accruals
from yibao.registry.contributions import (
    contributions_for_year,
    contributions_table,
    due_totals,
    persons_behind,
    spell_contribution,
    spell_contributions,
    subsidy_ratio_check,
)
from yibao.registry.duplicates import find_double_enrollment

__all__ = [
    "account_accruals_for_year", "contributions_for_year", "contributions_table", "due_totals",
    "family_mutual_aid", "find_double_enrollment", "persons_behind", "spell_accruals", "spell_contribution",
    "spell_contributions", "subsidy_ratio_check",
]
