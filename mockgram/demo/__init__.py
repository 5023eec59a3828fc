"""The demo's ready-made world, apart from the authorization server: John, Jane, their painted
photos (painter.py) and the AwesomeService clients (seed.py)."""
