"""Use cases called by the API, the CLI and the worker: plain functions taking a Session."""
