"""Library card: made or renewed, a category from the reader's age and situation."""
