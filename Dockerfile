# One image for every xiecha process; docker-compose.yml picks the command.
# PYTHON_IMAGE defaults to the official image; a machine without Docker Hub uses
# the stand-in that `make docker-images` builds (see deploy/docker/local.env).
ARG PYTHON_IMAGE=python:3.11-slim

# Dependencies only, keyed on pyproject.toml and requirements.lock: a change of the
# source never reinstalls them. The versions come from the lock (as constraints: it
# also holds the dev tools). pip goes afterwards: nothing installs at run time.
FROM ${PYTHON_IMAGE} AS deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /tmp/deps
COPY pyproject.toml requirements.lock ./
RUN python -m venv /opt/xiecha \
    && python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" > requirements.txt \
    && sed -n 's/^\([A-Za-z0-9_.-]*==[^ ;]*\).*/\1/p' requirements.lock > constraints.txt \
    && /opt/xiecha/bin/pip install -c constraints.txt -r requirements.txt \
    && /opt/xiecha/bin/pip uninstall -y -q pip setuptools

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/xiecha/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    XIECHA_DEPLOY_DIR=/app/deploy
# A CJK font for the formal papers (PDF), from Debian, lists removed afterwards.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --no-create-home --uid 10001 xiecha
COPY --from=deps /opt/xiecha /opt/xiecha
WORKDIR /app
# The source as it is (its JSON and SQL included), compiled once here since the
# non-root user cannot write bytecode next to it.
COPY deploy/migrations deploy/migrations
COPY deploy/rabbitmq deploy/rabbitmq
COPY protocol protocol
COPY services services
# The pinned browser assets the pages serve (frontend/node_modules, made by `make venv`).
COPY frontend/node_modules/echarts/dist/echarts.min.js frontend/node_modules/echarts/dist/
COPY frontend/node_modules/htmx.org/dist/htmx.min.js frontend/node_modules/htmx.org/dist/
COPY frontend/node_modules/echarts-4-china-map/map/json/china.json \
     frontend/node_modules/echarts-4-china-map/map/json/
RUN python -m compileall -q protocol services
# The desks' SM2 signing keys: made by setup in one volume on a laptop's compose demo
# (each authority keeps its own key in a real deployment, see README "Security").
ENV XIECHA_KEYS_DIR=/var/lib/xiecha/keys
RUN mkdir -p /var/lib/xiecha/keys && chown xiecha /var/lib/xiecha/keys
USER xiecha
EXPOSE 8000
CMD ["python", "-m", "services.hub", "serve"]
