# One image for both apps; docker-compose.yml runs it twice, as `mockgram` and `awesomeservice`.
#   docker build -t awesomeservice-mockgram .
#   docker run -p 8000:8000 awesomeservice-mockgram                       # AwesomeService
#   docker run -p 8001:8001 awesomeservice-mockgram python -m mockgram --host 0.0.0.0
#   docker run -p 8001:8001 -v "$PWD/mockgram.toml:/config/mockgram.toml:ro" awesomeservice-mockgram \
#       python -m mockgram --host 0.0.0.0 --config /config/mockgram.toml   # Mockgram alone, configured
# The dependencies come from pyproject.toml (with the `postgres` extra, so one image serves both
# SQLite and PostgreSQL). Build stage: a virtualenv with the project installed; final stage:
# that virtualenv only, run as an unprivileged user.

FROM python:3.12-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml ./
# Dependencies first, read from pyproject.toml, in their own layer: editing the code does not
# download them again.
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['postgres']))" > /tmp/deps.txt \
    && /opt/venv/bin/pip install -r /tmp/deps.txt
COPY README.md ./
COPY shared ./shared
COPY mockgram ./mockgram
COPY awesomeservice ./awesomeservice
RUN /opt/venv/bin/pip install --no-deps ".[postgres]"

FROM python:3.12-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MOCKGRAM_DATABASE_URL=sqlite:////data/mockgram.db \
    AWESOMESERVICE_DATABASE_URL=sqlite:////data/awesomeservice.db
# /data holds the SQLite files; a named volume mounted there starts with this owner.
RUN useradd --create-home --uid 10001 app \
    && mkdir /data \
    && chown app:app /data
COPY --from=build /opt/venv /opt/venv
USER app
WORKDIR /data
EXPOSE 8000 8001
# No curl in -slim images: the health check is Python (shared/healthcheck.py) against GET /healthz,
# which answers after a round trip to the app's database. With no URL it accepts either app's
# default address, so the image is healthy as either app; docker-compose.yml names one per service.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 \
    CMD ["python", "-m", "shared.healthcheck"]
# Inside a container the app must listen on every interface, not only on its own loopback.
CMD ["python", "-m", "awesomeservice", "--host", "0.0.0.0", "--port", "8000"]
