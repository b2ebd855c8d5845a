# The API, worker and beat image (docker-compose.yml picks the command).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bangfu ./bangfu
COPY graph ./graph
COPY matching ./matching
COPY ml ./ml
COPY verification ./verification
COPY api ./api
COPY workers ./workers
RUN pip install . && useradd --system --uid 10001 bangfu
USER bangfu
EXPOSE 8000
CMD ["uvicorn", "api.app:app", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
