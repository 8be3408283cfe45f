-- First start of the compose PostgreSQL: the databases beside Dagster's (POSTGRES_DB).
-- Each gets its own database because Dagster, Optuna and MLflow all keep an alembic_version table.
CREATE DATABASE optuna OWNER leanops;
CREATE DATABASE mlflow OWNER leanops;
