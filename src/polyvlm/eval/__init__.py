"""Evaluation: tasks yield items, an adapter answers them, scorers turn answers into scores with CIs."""
