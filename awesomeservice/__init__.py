"""AwesomeService — the print shop: an OAuth 2.0 client of Mockgram, with its own accounts."""
