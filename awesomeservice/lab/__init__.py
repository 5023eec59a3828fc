"""The attack lab: eight attacks run for real against the live apps, each with its defence.

`browser.py` plays a second person, the demo account Jane at Mockgram, through the back channel
like a browser would; `exchanges.py` records what was sent and answered, secrets masked;
`attacks.py` holds the attacks; `switches.py` the lab-mode-only, one-shot defence switches.
"""
