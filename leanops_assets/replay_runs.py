"""The replay's runs: one day through the daily pipeline, a range in one run, the warm-up and
the first model. `replay.py` drives them and prints one line per day."""

import time
import warnings

from dagster import BetaWarning, DagsterInstance, Definitions

from leanops_assets.dataset import DRIFT_REPORT, PREDICTIONS, TRAINING_SET, Dataset
from leanops_assets.replay_plan import ReplayPlan
from leanops_assets.replay_report import DayResult
from leanops_assets.settings import leanops_home
from leanops_assets.uptodate import features_up_to_date, freshness, landed_and_validated

# Per-step logs stay in the instance (and the UI); the terminal shows one line per day.
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def validation_assets(ds: Dataset) -> list[str]:
    """The raw rows, daily reference tables and validated rows of one day."""
    references = [ds.reference_asset(t) for t in ds.daily_references]
    return [ds.raw_asset, *references, ds.validated_asset]


def run_config(source: str, outcomes_known_until: str = "") -> dict:
    """QUIET, and the source resource's kind (the definitions' default is the bundled year) and
    the last day whose outcomes have arrived (empty: every day's)."""
    config = {"kind": source, "outcomes_known_until": outcomes_known_until}
    return {**QUIET, "resources": {"source": {"config": config}}}


def deliver_outcomes(
    ds: Dataset, defs: Definitions, instance: DagsterInstance, day: str, config: dict
) -> DayResult:
    """Day `day` delivered again, now with its outcomes: its raw rows, validated rows, features
    (their labels) and predictions (their live metrics) are rebuilt."""
    assets = [ds.raw_asset, ds.validated_asset, ds.features_asset, PREDICTIONS]
    return run_day(ds, defs, instance, day, assets, config)


def _metadata(result, asset, key: str):
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        if materialization.asset_key == asset and key in materialization.metadata:
            return materialization.metadata[key].value
    return None


def run_day(
    ds: Dataset,
    defs: Definitions,
    instance: DagsterInstance,
    day: str,
    assets: list[str] | None = None,
    config: dict = QUIET,
) -> DayResult:
    started = time.perf_counter()
    job = defs.resolve_job_def(ds.scoped("daily_pipeline"))
    result = job.execute_in_process(
        partition_key=day,
        instance=instance,
        raise_on_error=False,
        run_config=config,
        asset_selection=None if assets is None else [ds.key(a) for a in assets],
    )
    validated, predictions = ds.key(ds.validated_asset), ds.key(PREDICTIONS)
    return DayResult(
        day=day,
        success=result.success,
        seconds=time.perf_counter() - started,
        raw_rows=_metadata(result, validated, "raw_rows"),
        quarantined=_metadata(result, validated, "quarantined_rows"),
        live_auc=_metadata(result, predictions, "live_auc"),
        drift_share=_metadata(result, ds.key(DRIFT_REPORT), "drift_share"),
        champion_version=_metadata(result, predictions, "model_version"),
        failed_checks=[e.check_name for e in result.get_asset_check_evaluations() if not e.passed],
    )


def run_range(
    ds: Dataset,
    defs: Definitions,
    instance: DagsterInstance,
    first: str,
    last: str,
    assets: list[str],
    config: dict = QUIET,
):
    """One run over a range of days: a single-run backfill, as the UI's backfill would launch."""
    return defs.resolve_job_def(ds.scoped("daily_pipeline")).execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config=config,
        asset_selection=[ds.key(a) for a in assets],
        tags={
            "dagster/asset_partition_range_start": first,
            "dagster/asset_partition_range_end": last,
        },
    )


def champion_version(ds: Dataset) -> str | None:
    from leanops_assets.registry.promotion import version_by_alias
    from leanops_assets.resources import MlflowResource
    from leanops_assets.training.tracking import model_name_for

    settings = MlflowResource()
    version = version_by_alias(settings.client(), model_name_for(settings, ds), "champion")
    return None if version is None else str(version.version)


def latest_decision(ds: Dataset) -> str:
    """The newest model version's gate decision and its reason, as the registry records them."""
    from leanops_assets.registry.promotion import TAG_PREFIX
    from leanops_assets.resources import MlflowResource
    from leanops_assets.training.tracking import model_name_for

    settings = MlflowResource()
    versions = settings.client().search_model_versions(f"name = '{model_name_for(settings, ds)}'")
    if not versions:
        return "no model version"
    newest = max(versions, key=lambda v: int(v.version))
    decision = newest.tags.get(f"{TAG_PREFIX}decision", "undecided")
    return f"v{newest.version} {decision}: {newest.tags.get(f'{TAG_PREFIX}decision_reason', '')}"


def say(message: str) -> None:
    print(message, flush=True)


def reference_tables(
    ds: Dataset, defs: Definitions, instance: DagsterInstance, source: str
) -> None:
    """The dataset's reference tables that are not daily, unless up to date."""
    tables = [ds.key(ds.reference_asset(t)).to_user_string() for t in ds.table_references]
    fresh = freshness(ds, defs, instance, [], source)
    if tables and not all(fresh.up_to_date(table, None, []) for table in tables):
        defs.resolve_job_def(ds.scoped("reference_data")).execute_in_process(
            instance=instance, run_config=run_config(source)
        )


def replay_data_only(
    ds: Dataset, days: list[str], until: str, source: str, lookback: list[str]
) -> int:
    """Land and validate (and featurize) days, with no model: the data stages alone. The
    `lookback` days, which the first day's features read, are landed and validated first."""
    warnings.filterwarnings("ignore", category=BetaWarning)
    from leanops_assets.definitions import defs

    instance = DagsterInstance.get()
    assets = validation_assets(ds) + ([ds.features_asset] if until == "features" else [])
    say(
        f"leanops: replaying {len(days)} days from {days[0]} up to {until}; state in {leanops_home()}"
    )
    reference_tables(ds, defs, instance, source)
    fresh = freshness(ds, defs, instance, lookback, source)
    for index, day in enumerate(lookback, start=1):
        if landed_and_validated(ds, fresh, day):
            continue
        result = run_day(ds, defs, instance, day, validation_assets(ds), run_config(source))
        say(
            f"[look-back {index}/{len(lookback)}] {day}  landed and validated  ({result.seconds:.1f}s)"
        )
        if not result.success:
            say(f"leanops: look-back day {day} failed; open the UI to see why")
            return 1
    fresh = freshness(ds, defs, instance, days, source)
    failed = 0
    for index, day in enumerate(days, start=1):
        if landed_and_validated(ds, fresh, day) and (
            until != "features" or features_up_to_date(ds, fresh, day)
        ):
            say(f"[{index:>3}/{len(days)}] {day}  up to date, skipped")
            continue
        result = run_day(ds, defs, instance, day, assets, run_config(source))
        fresh = freshness(ds, defs, instance, days, source)  # this day's materializations are new
        failed += not result.success
        status = (
            "ok"
            if result.success and not result.failed_checks
            else "checks: " + ", ".join(result.failed_checks)
        )
        say(
            f"[{index:>3}/{len(days)}] {day}  raw {result.raw_rows}  quarantined {result.quarantined}  "
            f"{status}  ({result.seconds:.1f}s)"
        )
    say(f"leanops: {len(days) - failed}/{len(days)} days succeeded. Open the UI to see the runs.")
    return 1 if failed else 0


def warm_up(
    ds: Dataset,
    defs: Definitions,
    instance: DagsterInstance,
    lookback: list[str],
    warmup: list[str],
    source: str,
    label: str = "warm-up",
) -> bool:
    """Land and validate the warm-up days, then their features in one Spark run; days already
    up to date are skipped. False if a day failed."""
    days = lookback + warmup
    reference_tables(ds, defs, instance, source)
    fresh = freshness(ds, defs, instance, days, source)
    for index, day in enumerate(days, start=1):
        if landed_and_validated(ds, fresh, day):
            say(f"[{label} {index:>3}/{len(days)}] {day}  up to date, skipped")
            continue
        result = run_day(ds, defs, instance, day, validation_assets(ds), run_config(source))
        fresh = freshness(ds, defs, instance, days, source)
        done = (
            "landed and validated"
            if result.success
            else "failed: " + ", ".join(result.failed_checks or ["see the run in the UI"])
        )
        say(f"[{label} {index:>3}/{len(days)}] {day}  {done}  ({result.seconds:.1f}s)")
        if not result.success:
            say(f"leanops: {label} day {day} failed; open the UI to see why")
            return False
    stale = [day for day in warmup if not features_up_to_date(ds, fresh, day)]
    if not stale:
        say(f"[{label}] features for {warmup[0]} .. {warmup[-1]} up to date, skipped")
        return True
    started = time.perf_counter()
    features = run_range(
        ds, defs, instance, stale[0], stale[-1], [ds.features_asset], run_config(source)
    )
    say(
        f"[{label}] features for {stale[0]} .. {stale[-1]} in one Spark run  "
        f"({time.perf_counter() - started:.1f}s)"
    )
    if not features.success:
        say(f"leanops: the {label} features failed; open the UI to see why")
    return features.success


def first_model(
    ds: Dataset, defs: Definitions, instance: DagsterInstance, plan: ReplayPlan
) -> bool:
    """Train and register the first model on the warm-up days, unless a champion exists."""
    job = ds.scoped("retraining_job")
    if champion_version(ds) is None:
        say(
            f"leanops: no champion yet: training the first model on {plan.warmup[0]} .. "
            f"{plan.first_model_until} ({job})..."
        )
        started = time.perf_counter()
        window = {"end_day": plan.first_model_until, "window_days": len(plan.warmup)}
        op = "__".join(ds.key(TRAINING_SET).path)  # an asset's op name is its key joined by __
        initial = defs.resolve_job_def(job).execute_in_process(
            instance=instance,
            run_config={**QUIET, "ops": {op: {"config": window}}},
            tags={"leanops/trigger": "initial model"},
            raise_on_error=False,
        )
        if not initial.success or champion_version(ds) is None:
            failed = [
                f"{e.check_name}: {e.metadata['message'].value}"
                for e in initial.get_asset_check_evaluations()
                if not e.passed and "message" in e.metadata
            ]
            say(
                "leanops: the first model did not become champion"
                + (f" ({'; '.join(failed)})" if failed else "")
                + f"; see the {job} run in the UI"
            )
            return False
        say(f"leanops: first model: {latest_decision(ds)}  ({time.perf_counter() - started:.1f}s)")
    return True
