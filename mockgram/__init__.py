"""Mockgram — a mock Instagram: the OAuth 2.0 authorization server and the photos API."""
