# One image for every worker: `docker run paper-radio radio worker NAME`.
FROM python:3.11-slim-bookworm
ENV DEBIAN_FRONTEND=noninteractive PIP_NO_CACHE_DIR=1 HF_HUB_OFFLINE=1
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends \
        build-essential cmake git ffmpeg espeak-ng flite \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt pyproject.toml ./
# llama.cpp is built here for the machines the image runs on, not for the build host
# (-march=native): AVX2-era x86-64, and no AMX (its kernels crash where the tiles are not
# granted; scripts/setup.sh).
ENV CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
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
