"""Logging, tracing and metrics helpers wired once for every service."""
