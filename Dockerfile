# luutru: one image for the web app and the worker.
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libmagic1 tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng \
      fonts-liberation fonts-liberation2 fonts-dejavu-core clamav postgresql-client \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --system --create-home --home-dir /srv/luutru luutru
WORKDIR /opt/luutru
COPY pyproject.toml README.md requirements.lock ./
COPY luutru ./luutru
COPY archive ./archive
COPY ingest ./ingest
COPY search ./search
COPY policies ./policies
RUN pip install --no-cache-dir -c requirements.lock .

USER luutru
ENV LUUTRU_DATA_DIR=/srv/luutru/data \
    LUUTRU_HOST=0.0.0.0 \
    LUUTRU_PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz').status != 200)"
CMD ["sh", "-c", "luutru db upgrade && luutru serve"]
