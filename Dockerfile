# syntax=docker/dockerfile:1
# leanops: one image for every Dagster process of a deployment (code location, webserver,
# daemon) and for the all-in-one `dagster dev`. Python dependencies come from requirements.lock
# exactly as scripts/setup.sh installs them (uv pip sync, then the project without deps).
#
#   docker build -t leanops .
#   docker run --rm -p 4000:4000 leanops                          # gRPC code location (default)
#   docker run --rm -p 3000:3000 leanops dagster dev -h 0.0.0.0 -p 3000   # all-in-one UI
#
# Scaling out is configuration: empty LEANOPS_* endpoints below mean the embedded default
# (local lake, local MLflow store, Optuna journal, local Spark); the README's Scale out lists them.
FROM python:3.11-slim-bookworm

ARG UV_VERSION=0.13.8

# Bytecode is compiled once at build time (UV_COMPILE_BYTECODE): every launched run imports
# mlflow, sklearn and Evidently again, and the runtime user cannot write into the venv.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_LINK_MODE=copy \
    UV_COMPILE_BYTECODE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    LEANOPS_HOME=/var/lib/leanops \
    DAGSTER_HOME=/var/lib/leanops/dagster_home \
    LEANOPS_LAKE_ROOT="" \
    LEANOPS_MLFLOW_TRACKING_URI="" \
    LEANOPS_OPTUNA_STORAGE="" \
    LEANOPS_SPARK_MASTER=""

# Spark 4 needs Java 17; Debian's headless JRE is the smallest that runs it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless=17.0.* \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 leanops \
    && useradd --system --uid 10001 --gid leanops --home-dir /var/lib/leanops \
        --create-home --shell /usr/sbin/nologin leanops

WORKDIR /opt/leanops

# Dependencies first (from the lock only), so a code change does not reinstall them.
COPY requirements.lock pyproject.toml README.md ./
RUN --mount=type=cache,target=/root/.cache/uv \
    python -m venv "$VIRTUAL_ENV" \
    && "$VIRTUAL_ENV/bin/python" -m pip install --no-cache-dir "uv==${UV_VERSION}" \
    && "$VIRTUAL_ENV/bin/uv" pip sync --python "$VIRTUAL_ENV/bin/python" requirements.lock

COPY leanops_assets ./leanops_assets
COPY dagster.yaml workspace.yaml ./
RUN --mount=type=cache,target=/root/.cache/uv \
    "$VIRTUAL_ENV/bin/uv" pip install --python "$VIRTUAL_ENV/bin/python" --no-deps .

# The embedded-default instance (SQLite); mount deploy/dagster-postgres.yaml over it to scale out.
RUN mkdir -p "$DAGSTER_HOME" \
    && cp dagster.yaml "$DAGSTER_HOME/dagster.yaml" \
    && chown -R 10001:10001 "$LEANOPS_HOME"

USER 10001:10001

# 4000: the gRPC code location; 3000: the webserver (dagster dev or dagster-webserver).
EXPOSE 4000 3000

CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "leanops_assets.definitions"]
