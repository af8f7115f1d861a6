"""School registration: the coming school year (or the one under way), sector school, canteen."""
