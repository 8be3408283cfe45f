"""Generated help-desk tickets for the second dataset (datasets/tickets/), one landing CSV a day.

Up to REGIME_CHANGE, escalation follows the channel, the customer tier and the queue; from then
on a product launch changes who writes in (longer tickets, more chat, more of the API) and what
escalates (long tickets about the API). A model trained before the change keeps little of its
quality after it; one that has seen some changed days learns the new rule.
"""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

FOLDER = Path(__file__).parent / "tickets"
REGIME_CHANGE = date(2024, 12, 15)
BERLIN = ZoneInfo("Europe/Berlin")


def _choice(rng: np.random.Generator, values: list[str], weights: list[float], n: int):
    return rng.choice(values, size=n, p=np.array(weights) / sum(weights))


def tickets_day(day: date) -> pd.DataFrame:
    """The day's tickets, the same for the same day; outcomes included."""
    rng = np.random.default_rng(int(day.strftime("%Y%m%d")))
    changed = day >= REGIME_CHANGE
    # Quieter weekends, within the contract's volume band (+-50 % of the trailing average).
    n = int(rng.integers(140, 180) if day.weekday() < 5 else rng.integers(115, 135))
    local = [
        datetime(day.year, day.month, day.day, tzinfo=BERLIN) + timedelta(minutes=int(m))
        for m in rng.integers(7 * 60, 20 * 60, size=n)
    ]
    if changed:
        channel = _choice(rng, ["email", "phone", "chat"], [2, 1, 6], n)
        product = _choice(rng, ["app", "web", "api"], [2, 2, 6], n)
        tier = _choice(rng, ["free", "pro", "enterprise"], [6, 3, 1], n)
        words = rng.lognormal(np.log(600), 0.5, n).clip(1, 5000).astype(int)
        queue = rng.poisson(60, n)
        logit = -2.0 + 0.008 * (words - 600) + 1.5 * (product == "api")
    else:
        channel = _choice(rng, ["email", "phone", "chat"], [5, 3, 2], n)
        product = _choice(rng, ["app", "web", "api"], [5, 4, 1], n)
        tier = _choice(rng, ["free", "pro", "enterprise"], [3, 4, 3], n)
        words = rng.lognormal(np.log(120), 0.5, n).clip(1, 5000).astype(int)
        queue = rng.poisson(20, n)
        logit = (
            -2.5 + 2.0 * (channel == "phone") + 1.5 * (tier == "enterprise") + 0.05 * (queue - 20)
        )
    escalated = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame(
        {
            "ticket_id": [f"T{day:%Y%m%d}-{i:04d}" for i in range(n)],
            "opened_at": [t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") for t in local],
            "channel": channel,
            "product": product,
            "customer_tier": tier,
            "queue_length": queue.clip(0, 500),
            "words": words,
            "escalated": escalated,
            "resolved_minutes": rng.exponential(90, n).round(1),
        }
    )


def land_days(landing: Path, first: date, last: date) -> list[Path]:
    """Each day's tickets as <landing>/tickets/tickets_<day>.csv, as a help desk would deliver them."""
    folder = landing / "tickets"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    day = first
    while day <= last:
        path = folder / f"tickets_{day.isoformat()}.csv"
        tickets_day(day).to_csv(path, index=False)
        paths.append(path)
        day += timedelta(days=1)
    return paths


def main(argv: list[str] | None = None) -> None:
    """python -m leanops_assets_tests.datasets.tickets_data FIRST LAST: land those days' tickets
    in $LEANOPS_HOME/landing (the README's tutorial)."""
    import sys

    from leanops_assets.ingestion.sources import default_landing_dir

    first, last = (date.fromisoformat(a) for a in (argv or sys.argv[1:]))
    paths = land_days(default_landing_dir(), first, last)
    print(f"landed {len(paths)} days of tickets in {paths[0].parent}")


if __name__ == "__main__":
    main()
