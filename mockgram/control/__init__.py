"""Mockgram's control plane: an HTTP API under /_control/ that other projects' test suites use
to set Mockgram up and break it on purpose (users, queued logins, clients, key rotation, the
clock, one-shot faults). Off by default; see `plane.install` and the README.
"""
