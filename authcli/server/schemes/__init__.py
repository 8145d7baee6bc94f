"""The auth schemes the server runs (session cookie, JWT bearer, refresh): each reads its decisions from policy.py."""
