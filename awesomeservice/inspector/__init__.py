"""The flow inspector: every step of every flow this browser took part in, recorded and redacted.

`context` ties a request to the browser's inspector id, `recorder` writes FlowEvent rows (the
httpx event hooks on the back channel, plus one call at step 1 and one at step 4), `redact`
hides secrets before anything is stored, `jwts` decodes and checks tokens, `timeline`,
`diagram` and `exports` turn the rows into pages, a sequence diagram, Mermaid and HAR.
"""
