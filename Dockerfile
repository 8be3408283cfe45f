# syntax=docker/dockerfile:1
# leanops: one image for every Dagster process of a deployment (code location, webserver,
# daemon), the MLflow server and the all-in-one `dagster dev`. Python dependencies come from
# requirements-runtime.lock: the runtime packages of requirements.lock at the same pins, without
# the test and lint tools.
#
#   docker build -t leanops .
#   docker run --rm -p 4000:4000 leanops                                   # gRPC code location (default)
#   docker run --rm -p 3000:3000 leanops dagster dev -h 0.0.0.0 -p 3000    # all-in-one UI
#
# Without a registry, scripts/services/containers.sh build builds it with buildah over a local
# Debian bookworm base (BASE_IMAGE) and hands the machine's CA bundle to uv (SSL_CERT_FILE).
#
# Scaling out is configuration: empty LEANOPS_* endpoints below mean the embedded default
# (local lake, local MLflow store, Optuna journal, local Spark); the README's Scale out lists them.
ARG BASE_IMAGE=python:3.11-slim-bookworm

# The venv is built in its own stage, so uv, pip and the uv cache stay out of the image.
FROM ${BASE_IMAGE} AS venv

ARG UV_VERSION=0.13.8
# Only for builds behind a TLS-intercepting proxy: the CA bundle mounted into the build.
ARG SSL_CERT_FILE
ARG UV_SYSTEM_CERTS
ARG PIP_CERT

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_LINK_MODE=copy \
    VIRTUAL_ENV=/opt/venv

WORKDIR /opt/leanops
COPY requirements-runtime.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    python -m venv /opt/uv \
    && /opt/uv/bin/pip install "uv==${UV_VERSION}" \
    && python -m venv --without-pip "$VIRTUAL_ENV" \
    && /opt/uv/bin/uv pip sync --python "$VIRTUAL_ENV/bin/python" requirements-runtime.lock

# Editable: REPO_ROOT is /opt/leanops, where the replay finds workspace.yaml.
COPY pyproject.toml README.md dagster.yaml workspace.yaml ./
COPY leanops_assets ./leanops_assets
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv pip install --python "$VIRTUAL_ENV/bin/python" --no-deps -e .

# What the product never loads (image size, not behaviour): the libraries' own test suites,
# Arrow Flight, plotly's JupyterLab extension, and the Spark jars of Structured
# Streaming's RocksDB state store, the Spark Connect server, the Scala REPL, Hive and MLlib.
# The image's container test runs Spark features, GX, MLflow and Evidently over what is left.
WORKDIR /opt/venv/lib/python3.11/site-packages
RUN for package in pandas numpy scipy sklearn statsmodels matplotlib pyarrow; do \
        find "$package" -depth -type d -name tests -exec rm -rf {} + ; \
    done \
    && rm -rf pyspark/jars/connect-repl pyspark/jars/rocksdbjni-*.jar \
        pyspark/jars/spark-connect_*.jar pyspark/jars/*hive*.jar pyspark/jars/*mllib*.jar \
        pyspark/jars/breeze*.jar pyspark/jars/spire*.jar pyspark/jars/algebra_*.jar \
        pyspark/jars/arpack*.jar pyspark/jars/lapack-*.jar pyspark/jars/JTransforms-*.jar \
        pyspark/jars/scala-compiler-*.jar pyspark/jars/spark-repl_*.jar \
        pyarrow/libarrow_flight.so* pyarrow/libarrow_python_flight.so* pyarrow/_flight*.so \
        pyarrow/include jupyterlab_plotly /opt/venv/share/jupyter

FROM ${BASE_IMAGE}

# No bytecode in the image (it would add ~0.4 GB): each process writes what it imports once to
# PYTHONPYCACHEPREFIX, so later runs launched in the same container import compiled code.
ENV PYTHONUNBUFFERED=1 \
    PYTHONPYCACHEPREFIX=/var/cache/leanops/pycache \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    LEANOPS_HOME=/var/lib/leanops \
    DAGSTER_HOME=/var/lib/leanops/dagster_home \
    LEANOPS_LAKE_ROOT="" \
    LEANOPS_MLFLOW_TRACKING_URI="" \
    LEANOPS_OPTUNA_STORAGE="" \
    LEANOPS_SPARK_MASTER=""

# Spark 4 needs Java 17; Debian's headless JRE is the smallest that runs it. No manuals,
# documentation or translations (java's alternatives still need man1), no downloaded packages.
RUN printf 'path-exclude=/usr/share/%s/*\n' doc man locale info >/etc/dpkg/dpkg.cfg.d/leanops-slim \
    && mkdir -p /usr/share/man/man1 \
    && apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless=17.0.* \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 leanops \
    && useradd --system --uid 10001 --gid leanops --home-dir /var/lib/leanops \
        --create-home --shell /usr/sbin/nologin leanops

COPY --from=venv /opt/venv /opt/venv
WORKDIR /opt/leanops
COPY --from=venv /opt/leanops /opt/leanops

# The embedded-default instance (SQLite); mount deploy/dagster-postgres.yaml over it to scale out.
RUN mkdir -p "$DAGSTER_HOME" "$PYTHONPYCACHEPREFIX" \
    && cp dagster.yaml "$DAGSTER_HOME/dagster.yaml" \
    && chown -R 10001:10001 "$LEANOPS_HOME" "$PYTHONPYCACHEPREFIX"

USER 10001:10001

# 4000: the gRPC code location; 3000: the webserver (dagster dev or dagster-webserver).
EXPOSE 4000 3000

CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "leanops_assets.definitions"]
