# One image for every xiecha process; docker-compose.yml picks the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    XIECHA_DEPLOY_DIR=/app/deploy

WORKDIR /app
COPY . .
RUN pip install --require-hashes -r requirements.lock && pip install --no-deps . \
    && useradd --system --no-create-home --uid 10001 xiecha

USER xiecha
EXPOSE 8000
CMD ["python", "-m", "services.hub", "serve"]
