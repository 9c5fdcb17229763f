# One image for every service, projector and the gateway; the command picks the role.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# DejaVu Sans is embedded in the PDF statements (ő and ű)
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md constraints.txt ./
COPY shared ./shared
COPY services ./services
COPY gateway ./gateway
COPY demo ./demo
COPY scripts ./scripts
RUN pip install --no-cache-dir -c constraints.txt . && useradd --system --uid 10001 portal
USER portal
EXPOSE 8000
CMD ["gunicorn", "-c", "python:shared.web.gunicorn_conf", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "8", "gateway.app:create_app()"]
