# One image for every xiecha process; docker-compose.yml picks the command.
# PYTHON_IMAGE defaults to the official image; a machine without Docker Hub uses
# the stand-in that `make docker-images` builds (see deploy/docker/local.env).
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/xiecha
WORKDIR /src
# Dependencies in their own layer, keyed on pyproject.toml and the lock: changing the
# source rebuilds only the small layer below.
# The versions come from requirements.lock (as constraints: the lock also holds the dev tools).
COPY pyproject.toml requirements.lock ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" > requirements.txt \
    && sed -n 's/^\([A-Za-z0-9_.-]*==[^ ;]*\).*/\1/p' requirements.lock > constraints.txt \
    && /opt/xiecha/bin/pip install -c constraints.txt -r requirements.txt
COPY README.md .
COPY protocol protocol
COPY services services
# The project itself, then pip and setuptools out: nothing installs at run time.
RUN /opt/xiecha/bin/pip install --no-deps . \
    && /opt/xiecha/bin/pip uninstall -y -q pip setuptools

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/xiecha/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    XIECHA_DEPLOY_DIR=/app/deploy
RUN useradd --system --no-create-home --uid 10001 xiecha
COPY --from=build /opt/xiecha /opt/xiecha
COPY deploy/migrations /app/deploy/migrations
COPY deploy/rabbitmq /app/deploy/rabbitmq
WORKDIR /app
USER xiecha
EXPOSE 8000
CMD ["python", "-m", "services.hub", "serve"]
