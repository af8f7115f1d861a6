"""What crosses the counter service's socket: versioned wire types and their codec.

Light on purpose: the terminal (TUI) imports this package and the domain, never
the store, pydantic or the backends.
"""

# Bumped when a request or an answer changes shape; the service answers an
# older or newer client with a clear refusal instead of a misread.
PROTOCOL = 1
PREFIX = f"/v{PROTOCOL}"
