"""Code both apps import: look and feel, the step narration, settings, database and PKCE helpers.

`shared` imports neither app; the apps talk to each other only over HTTP.
"""
