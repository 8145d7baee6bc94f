"""Data shipped with authcli: the attack lab's wordlist of secrets people really use."""
