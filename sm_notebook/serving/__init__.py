"""Serving a trained job's model with the script's own inference handlers (issue 14):
the payloads a predictor sends and reads; the servers live in ``runtime/``."""
