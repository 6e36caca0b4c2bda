"""Services ordered à la carte (点单)."""
