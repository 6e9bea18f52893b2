"""Operations: Prometheus metrics, structured logs and health probes."""
