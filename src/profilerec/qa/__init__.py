"""Profiles as context for personalized question answering (rating, next-item choice, review title)."""
