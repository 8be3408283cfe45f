"""Column names of the feature table: the interface between features, training and monitoring.

Read from the flights contract (datasets/flights/contract.yaml): its entity id, partition
column and target, and its `features:` block, which lists every feature column by role in the
table's order (the declared ones and those features.py adds).
"""

from leanops_assets.contract import load_contract

_CONTRACT = load_contract()
_FEATURES = _CONTRACT.features
assert _FEATURES is not None, "the flights contract declares its features"

ID_COLUMN = _CONTRACT.entity_id
DATE_COLUMN = _CONTRACT.partition_column
LABEL_COLUMN = _CONTRACT.target_name

DEFAULT_LOOKBACK_DAYS = _FEATURES.lookback_days  # trailing rates see these days strictly before
# Bump when the features change, so Dagster marks older partitions as produced by other code.
FEATURES_CODE_VERSION = "1"

CATEGORICAL_FEATURES = list(_FEATURES.categorical)
NUMERIC_FEATURES = list(_FEATURES.numeric)
# The weather at the origin in the departure hour (joined as of the prediction time).
WEATHER_FEATURES = next(
    list(join.columns.values()) for join in _FEATURES.joins if join.table == "weather"
)

FEATURE_COLUMNS = CATEGORICAL_FEATURES + NUMERIC_FEATURES
# Order of the columns in every feature partition.
ALL_COLUMNS = [ID_COLUMN, DATE_COLUMN, LABEL_COLUMN, *FEATURE_COLUMNS]
