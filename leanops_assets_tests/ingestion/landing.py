"""Landing-folder files the ingestion tests drop, as a provider would deliver them."""

from datetime import datetime

from leanops_assets.datasets.flights.source import bundled_day


def drop_in_landing(leanops_home, day: str, rows: int = 25):
    """A landing file for `day`: real flights re-dated to that day."""
    when = datetime.fromisoformat(day)
    frame = bundled_day("flights", "2013-03-01").head(rows)
    frame = frame.assign(year=when.year, month=when.month, day=when.day)
    folder = leanops_home / "landing" / "flights"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"flights_{day}.csv"
    frame.to_csv(path, index=False)
    return path
