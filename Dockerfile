FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /srv/omnivox
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# instance/ holds beat's schedule (a volume in compose); the app runs unprivileged.
RUN useradd --system --home /srv/omnivox omnivox \
    && mkdir -p /srv/omnivox/instance \
    && chown -R omnivox /srv/omnivox
USER omnivox
EXPOSE 5000
CMD ["gunicorn", "wsgi:app", "--bind", "0.0.0.0:5000", "--workers", "1", "--threads", "256", "--timeout", "60"]
