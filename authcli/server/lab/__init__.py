"""The attack lab's server side: deliberate weaknesses as policy values, and the cross-site teaching routes."""
