"""Which days a replay lands, trains the first model on, catches up on, and replays.

By default the first model learns from the `warmup_days` just before `start`. With
`first_model_until`, it learns from the `warmup_days` ending on that day instead, and the days
since then are a deployment that never retrained: the last `warmup_days` before `start` (at
least `RECENT_DAYS`) are landed and featurized, not scored, so that a retrain a week into the
replay has as much history to learn from as the first model had. The first day's
features of each block look back on the dataset's `lookback_days` validated days, which are landed too.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

from leanops_assets.training.dataset import WindowSpec

# A retrain on the first possible trigger day (a week into the replay) needs its validation and
# holdout weeks plus a day to train on; these days before `start` give it that.
RECENT_DAYS = WindowSpec().validation_days + WindowSpec().holdout_days


class ReplayPlanError(SystemExit):
    """A range the replay cannot run; the message says which days and why."""


@dataclass(frozen=True)
class ReplayPlan:
    warmup_lookback: list[str]
    warmup: list[str]
    recent_lookback: list[str]
    recent: list[str]
    days: list[str]

    @property
    def first_model_until(self) -> str:
        return self.warmup[-1]


def day_span(first: date, count: int) -> list[str]:
    return [(first + timedelta(days=i)).isoformat() for i in range(count)]


def checked_days(days: list[str], partitions: Collection[str]) -> list[str]:
    outside = [d for d in days if d not in partitions]
    if outside:
        raise ReplayPlanError(
            f"replay: days {outside[0]} .. {outside[-1]} are outside the partitions "
            f"(the dataset's first day to today)"
        )
    return days


def lookback(
    first: str, partitions: Collection[str], lookback_days: int, taken: Collection[str] = ()
) -> list[str]:
    """The validated days the features of `first` look back on, inside the partitions."""
    start = date.fromisoformat(first)
    days = [(start - timedelta(days=back)).isoformat() for back in range(lookback_days, 0, -1)]
    return [d for d in days if d in partitions and d not in taken]


def plan_data_replay(
    start: str, days: int, partitions: Collection[str], features: bool, lookback_days: int
) -> tuple[list[str], list[str]]:
    """The days of a replay with no model (no warm-up), and the validated days the first one's
    features look back on (none when only validating)."""
    replayed = checked_days(day_span(date.fromisoformat(start), days), partitions)
    return replayed, lookback(replayed[0], partitions, lookback_days) if features else []


def plan_replay(
    start: str,
    days: int,
    warmup_days: int,
    partitions: Collection[str],
    lookback_days: int,
    first_model_until: str | None = None,
) -> ReplayPlan:
    first = date.fromisoformat(start)
    model_end = date.fromisoformat(first_model_until) if first_model_until else first - timedelta(1)
    if model_end >= first:
        raise ReplayPlanError(
            f"replay: --first-model-until {model_end} must be before --start {start}"
        )
    replayed = checked_days(day_span(first, days), partitions)
    warmup = checked_days(
        day_span(model_end - timedelta(days=warmup_days - 1), warmup_days), partitions
    )
    gap = (first - model_end).days - 1
    count = min(gap, max(warmup_days, RECENT_DAYS))
    recent = day_span(first - timedelta(days=count), count)
    recent = checked_days(recent, partitions)
    return ReplayPlan(
        warmup_lookback=lookback(warmup[0], partitions, lookback_days),
        warmup=warmup,
        recent_lookback=lookback(recent[0], partitions, lookback_days, taken=warmup)
        if recent
        else [],
        recent=recent,
        days=replayed,
    )
