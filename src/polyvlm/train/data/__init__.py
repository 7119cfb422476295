"""Training data: sources, tokenisation with label masks, the seeded mixture and packing."""
