"""The provider check-up: the client side's view of the security checklist, run against any
provider AwesomeService may use a client of (SECURITY-CHECKLIST.md, pages/checkup.py)."""
