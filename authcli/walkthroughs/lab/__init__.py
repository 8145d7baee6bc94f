"""The attack lab: each attack against a server with the mistake, then against the hardened server."""
