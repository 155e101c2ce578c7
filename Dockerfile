# One image for every worker: `docker run paper-radio radio worker NAME`.
FROM python:3.11-slim-bookworm
ENV DEBIAN_FRONTEND=noninteractive PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends \
        build-essential cmake git ffmpeg espeak-ng flite \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt pyproject.toml ./
RUN python -m venv /app/.venv && /app/.venv/bin/pip install torch==2.13.0 \
    && /app/.venv/bin/pip install -r requirements.txt \
    && /app/.venv/bin/pip install --no-deps misaki==0.9.4
COPY radio ./radio
COPY prompts ./prompts
COPY config ./config
RUN /app/.venv/bin/pip install --no-deps -e .
ENV PATH=/app/.venv/bin:$PATH RADIO_DATA_DIR=/data
VOLUME /data
CMD ["radio", "up"]
