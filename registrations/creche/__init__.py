"""Crèche application: up to three crèches, a waiting list, the CNAF hourly rate."""
