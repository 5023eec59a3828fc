"""Mockgram in your own tests: a pytest plugin (`mockgram.testing.plugin`, registered under the
`pytest11` entry point, so installing the package is enough) and the pieces it is made of,
usable without pytest: `Control` for the /_control/ API, `Tokens` and `token_for`.
"""

from mockgram.testing.control import Control, ControlError, RegisteredClient
from mockgram.testing.flows import FlowError, Tokens

__all__ = ["Control", "ControlError", "FlowError", "RegisteredClient", "Tokens"]
