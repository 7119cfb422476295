"""Generators of instruction and VQA data as steps, with the helpers they share (prompt files, parsers)."""
