"""Complaints (投诉) about an elder's care, answered by the provider."""
