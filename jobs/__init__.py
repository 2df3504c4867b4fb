"""Job queue and workers (arq on Redis)."""
